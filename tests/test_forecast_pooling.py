"""Owner effects (empirical Bayes), new pipeline as whole deals, the level error and the widening: the math."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import special

from saleslead.forecast.calibrate import Level, level_of, owner_effects
from saleslead.forecast.simulate import Book, simulate, widen


def _replays(skill: dict[int, float], periods: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for q in range(periods):
        shock = rng.normal(0, 0.3)
        owners = np.repeat(np.asarray(list(skill)), 60)
        p = rng.uniform(0.1, 0.6, len(owners))
        truth = special.expit(special.logit(p) + shock + np.asarray([skill[o] for o in owners]))
        out.append((p, rng.random(len(p)) < truth, owners, q))
    return out


def test_owner_effects_find_lasting_skill_and_shrink_it() -> None:
    skill = {o: v for o, v in enumerate([-0.8, -0.4, 0.0, 0.0, 0.4, 0.8] * 2)}
    fx = owner_effects(_replays(skill, 8, 1), 1)
    assert fx.lasting_var > 0.1
    assert fx.mean[11] > 0.2
    assert fx.mean[0] < -0.2
    assert abs(fx.mean[11]) < 0.8 + 0.3  # shrunk, not inflated
    shift, sd = fx.draw(np.asarray([11, 99]))
    assert shift[1] == 0.0  # never seen: no shift, the whole prior spread
    assert sd[1] >= sd[0]


def test_owner_effects_are_small_when_owners_do_not_differ() -> None:
    fx = owner_effects(_replays(dict.fromkeys(range(12), 0.0), 8, 2), 1)
    assert fx.lasting_var < 0.05


def _book(new_mean: float, pool: tuple[np.ndarray, ...]) -> Book:
    return Book(
        p=np.full(40, 0.3), amount=np.full(40, 1_000.0), owner=np.repeat(np.arange(4), 10),
        segment=np.zeros(40, dtype=np.int64), closed_owner=np.asarray([500.0, 0, 0, 0]),
        closed_segment=np.asarray([500.0]), new_mean=np.asarray([new_mean]), new_cv=np.asarray([0.3]),
        new_share=np.asarray([[0.4, 0.3, 0.2, 0.1]]), rollup=sp.identity(4, format="csr"), new_pool=pool,
        owner_shift=np.asarray([0.5, 0.0, 0.0, -0.5]), owner_sd=np.full(4, 0.3),
    )  # fmt: skip


def test_new_pipeline_as_whole_deals_keeps_the_mean_and_spreads_owners() -> None:
    sim = simulate(_book(20_000.0, (np.asarray([1_000.0, 3_000.0, 6_000.0]),)), 0.1, 20_000, 3, 1)
    expected_open = np.asarray([special.expit(special.logit(0.3) + s) for s in (0.5, 0, 0, -0.5)]) * 10_000
    assert sim.total.mean() == pytest.approx(500 + expected_open.sum() + 20_000, rel=0.03)
    new_owner0 = sim.nodes[0] - 500
    assert np.quantile(new_owner0, 0.1) < 0.6 * np.quantile(new_owner0, 0.9)  # lumpy: whole deals
    assert sim.nodes[0].mean() > sim.nodes[3].mean()


def test_widen_brings_the_spread_up_and_keeps_closed_and_means() -> None:
    book = _book(0.0, ())
    sim = simulate(book, 0.1, 20_000, 4, 1)
    own = float(np.var(sim.total - 500) / np.mean(sim.total - 500) ** 2)
    wide = widen(sim, book, 0.5, 4)
    rest = wide.total - 500
    assert np.var(rest) / np.mean(rest) ** 2 == pytest.approx(0.5, rel=0.15)  # the relative variance reached
    assert own < 0.1
    assert wide.total.mean() == pytest.approx(sim.total.mean(), rel=0.02)
    assert wide.nodes.min() >= 0
    assert (wide.nodes[0] >= 500 - 1e-3).all()
    assert widen(sim, book, 0.0, 4) is sim


def test_level_apply_moves_the_expected_amount_by_its_shift() -> None:
    p, a = np.asarray([0.2, 0.5, 0.9]), np.asarray([100.0, 50.0, 10.0])
    moved = Level(shift=-0.2, cv2=0.1, periods=8).apply(p, a)
    assert float(moved @ a) == pytest.approx(float(p @ a) * np.exp(-0.2), rel=1e-6)
    assert np.ptp(special.logit(moved) - special.logit(p)) < 1e-6  # one common shift


def test_level_corrects_the_mean_not_the_mean_of_logs() -> None:
    # seven periods booked 60 % of the forecast after the point, one (a big deal) 4×: the mean ratio is 1.025
    ratios = np.asarray([0.6] * 7 + [4.0])
    level = level_of(ratios)
    assert np.exp(np.mean(np.log(ratios))) < 0.8  # what a mean of logs would have moved the forecast to
    assert level.shift == 0.0  # 1.025 is well inside the noise: shrunk all the way to 1
    assert level.cv2 == pytest.approx(float(np.sum((ratios - 1.0) ** 2)) / 7, rel=1e-9)
    # a steady 30 % shortfall is corrected to the mean ratio (little noise, little shrinkage)
    steady = level_of(np.asarray([0.68, 0.72, 0.7, 0.69, 0.71, 0.7]))
    assert np.exp(steady.shift) == pytest.approx(0.7, abs=0.005)
    assert steady.cv2 < 0.001
    # a period that booked nothing after the point is a ratio of 0, not a log of −∞
    assert np.isfinite(level_of(np.asarray([0.0, 0.9, 1.1, 1.0])).cv2)
    assert level_of(np.asarray([1.0, 2.0])).periods == 2
    assert level_of(np.asarray([1.0, 2.0])).shift == 0.0
