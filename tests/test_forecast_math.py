"""The formulas by hand: compounding weekly hazards, period weights, CRPS, the shock fit, the rollup."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from scipy import special

from saleslead.forecast import simulate as simulate_module
from saleslead.forecast.backtest import calibration_table, crps
from saleslead.forecast.calibrate import CELLS, PastPeriods, Stack, fit_stack, period_weights
from saleslead.forecast.guard import verdict
from saleslead.forecast.ledger import shrink
from saleslead.forecast.model import Hazards, fiscal_quarter, win_in_window
from saleslead.forecast.panel import day_number
from saleslead.forecast.rollup import build_hierarchy, category_field
from saleslead.forecast.simulate import Book, Group, estimate_shock, simulate
from saleslead.periods import Period
from saleslead.settings import GuardThresholds
from saleslead.store import Store


def test_win_in_window_compounds_hazards() -> None:
    h = Hazards(won=np.asarray([[0.1, 0.2, 0.5]]), lost=np.asarray([[0.3, 0.0, 0.1]]))
    # week 1: 0.1; week 2: survive 0.6 then 0.2 -> 0.12; week 3: survive 0.6*0.8=0.48 then 0.5 -> 0.24
    assert win_in_window(h, np.asarray([1.0, 1.0, 1.0]))[0] == pytest.approx(0.46)
    # only half of week 3 inside the period
    assert win_in_window(h, np.asarray([1.0, 1.0, 0.5]))[0] == pytest.approx(0.34)


def test_period_weights() -> None:
    q = Period.parse("2025-Q1")  # 1 Jan .. 31 Mar (90 days)
    w = period_weights(day_number(date(2025, 3, 20)), q)  # weeks from 21 Mar: 21-27, 28 Mar-3 Apr
    assert w.tolist() == pytest.approx([1.0, 4 / 7])
    before = period_weights(day_number(date(2024, 12, 28)), q)  # first week 29 Dec-4 Jan: 4 days inside
    assert before[0] == pytest.approx(4 / 7)
    assert len(before) == 14


def test_crps_by_hand() -> None:
    # two equally likely outcomes 0 and 10, actual 4: E|X-y| = 5; E|X-X'| = 5 -> CRPS = 2.5
    assert crps(np.asarray([0.0, 10.0]), 4.0) == pytest.approx(2.5)
    assert crps(np.asarray([3.0, 3.0, 3.0]), 3.0) == pytest.approx(0.0)


def _shock_groups(
    intercept: float, slope: float, sd: float, groups: int = 40, deals: int = 300, skewed: bool = False
) -> list[Group]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(groups):
        p = np.clip(rng.beta(0.5, 3.0, deals), 0.002, 0.99) if skewed else rng.uniform(0.05, 0.8, deals)
        z = rng.normal(0.0, sd)
        won = rng.random(deals) < special.expit(intercept + slope * special.logit(p) + z)
        out.append((p, won, np.zeros((deals, 1), dtype=np.int64)))
    return out


@pytest.mark.parametrize(("intercept", "slope", "sd"), [(0.0, 1.0, 0.4), (0.5, 1.2, 0.25), (-0.4, 0.8, 0.15)])
def test_shock_fit_recovers_a_known_calibration_and_spread(intercept: float, slope: float, sd: float) -> None:
    groups = _shock_groups(intercept, slope, sd)
    shock = estimate_shock(groups)
    assert shock.sd == pytest.approx(sd, abs=0.1)
    assert shock.slope == pytest.approx(slope, abs=0.1)
    assert shock.intercept == pytest.approx(intercept, abs=0.12)
    assert estimate_shock(groups[:2]).floor_used  # too few periods: a declared fallback


def test_shock_fit_finds_the_intercept_on_large_groups_of_small_probabilities() -> None:
    # like a real book (27 past origins of ~1,400 open deals, most unlikely to win this period): a
    # derivative-free search from a = 0 stopped there and widened σ to stand in for the intercept
    shock = estimate_shock(_shock_groups(0.5, 1.15, 0.3, groups=27, deals=1_400, skewed=True))
    assert shock.intercept == pytest.approx(0.5, abs=0.12)
    assert shock.sd == pytest.approx(0.3, abs=0.1)


def test_shock_fit_recovers_class_shifts_of_the_intercept() -> None:
    rng = np.random.default_rng(3)
    groups: list[Group] = []
    shifts = np.asarray([0.0, 0.6, -0.3])
    for _ in range(24):
        p, c = rng.uniform(0.05, 0.8, 900), rng.integers(0, 3, 900)
        eta = 0.2 + shifts[c] + 1.1 * special.logit(p) + rng.normal(0, 0.3)
        groups.append((p, rng.random(900) < special.expit(eta), c[:, None]))
    shock = estimate_shock(groups, classes=3)
    assert [shock.intercept + d for d in shock.shift] == pytest.approx((0.2 + shifts).tolist(), abs=0.15)
    p = np.full(3, 0.3)
    calibrated = shock.calibrate(p, np.asarray([[0], [1], [2]]))
    assert calibrated[1] > calibrated[0] > calibrated[2]  # each class read through its own intercept
    assert shock.calibrate(p)[0] == pytest.approx(special.expit(shock.intercept + shock.slope * special.logit(0.3)))


def test_collapsed_shock_fit_matches_the_fit_on_every_deal(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    groups: list[Group] = []
    for _ in range(12):
        p, c = np.clip(rng.beta(0.6, 3.0, 2_000), 0.001, 0.99), rng.integers(0, 3, 2_000)
        eta = 0.3 + np.asarray([0.0, 0.4, -0.2])[c] + 1.2 * special.logit(p) + rng.normal(0, 0.25)
        groups.append((p, rng.random(2_000) < special.expit(eta), c[:, None]))
    collapsed = estimate_shock(groups, classes=3)
    monkeypatch.setattr(simulate_module, "LOGIT_BIN", 1e-9)  # every deal its own cell: the exact likelihood
    exact = estimate_shock(groups, classes=3)
    assert collapsed.deals == exact.deals == 24_000
    assert collapsed.sd == pytest.approx(exact.sd, abs=2e-3)
    assert collapsed.slope == pytest.approx(exact.slope, abs=2e-3)
    assert collapsed.intercept == pytest.approx(exact.intercept, abs=2e-3)
    assert collapsed.shift == pytest.approx(exact.shift, abs=2e-3)


def test_fiscal_quarter() -> None:
    days = np.asarray([day_number(date(2025, m, 15)) for m in (1, 2, 4, 12)])
    assert fiscal_quarter(days, 1).tolist() == [0, 0, 1, 3]
    assert fiscal_quarter(days, 2).tolist() == [3, 0, 0, 3]  # a year starting in February: Jan is its Q4


def test_stack_matches_each_cells_blend_and_keeps_the_order_inside_it() -> None:
    p = np.asarray([0.2, 0.6, 0.1, 0.3, 0.05])
    amount = np.asarray([100.0, 50.0, 200.0, 80.0, 10.0])
    cells = np.asarray([0, 0, 2, 2, 7])
    rates = tuple(0.5 if i == 0 else 0.1 for i in range(len(CELLS)))
    out = Stack(0.25, rates, 8).apply(p, cells, amount)
    for cell in (0, 2, 7):
        m = cells == cell
        target = 0.25 * (p[m] @ amount[m]) + 0.75 * rates[cell] * amount[m].sum()
        assert out[m] @ amount[m] == pytest.approx(target, rel=1e-6)
    assert out[1] > out[0]  # one shift of the log-odds per cell: the ranking stays
    assert out[3] > out[2]
    assert np.array_equal(Stack(1.0, rates, 8).apply(p, cells, amount), p)  # the model alone


def test_stack_weight_is_learned_out_of_sample() -> None:
    rng = np.random.default_rng(2)

    def replays(model_bias: float, shock_sd: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
        out = []
        for period in range(8):
            cells = rng.integers(0, 4, 400)
            truth = np.asarray([0.6, 0.3, 0.1, 0.05])[cells] * np.exp(rng.normal(0, shock_sd))  # good or bad periods
            won = rng.random(400) < truth
            amount = rng.lognormal(10, 0.5, 400)
            out.append((np.clip(truth * model_bias, 0, 1), won, amount, cells, period))
        return out

    biased = fit_stack(replays(0.5, 0.05))  # a model at half the truth: the category rates do better
    assert biased.model_weight <= 0.2
    assert biased.rates[0] == pytest.approx(0.6, rel=0.25)
    assert biased.periods == 8
    exact = fit_stack(replays(1.0, 0.3))  # the true probabilities know the period; the rates do not
    assert exact.model_weight >= 0.6
    assert fit_stack(replays(0.5, 0.05)[:2]).model_weight == 1.0  # two periods: nothing learned, the model alone


def test_past_period_models_serve_only_later_points_of_the_same_period() -> None:
    q3, q4 = Period.parse("2025-Q3"), Period.parse("2025-Q4")
    start = day_number(q3.start)
    past = PastPeriods(q3, cut_offset=14 - 7, periods=[], models=[])  # fit for a forecast 14 days in
    assert past.serves(start + 14, q3)
    assert past.serves(start + 35, q3)  # later: the models are staler, never ahead of the replayed days
    assert not past.serves(start + 13, q3)  # earlier: they would have seen the first replayed week
    assert not past.serves(start + 35, q4)


def test_simulation_is_seeded_and_rolls_up() -> None:
    rollup = sp.csr_matrix(np.asarray([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]))  # two reps under one manager
    book = Book(
        p=np.asarray([0.5, 0.9, 0.2]), amount=np.asarray([100.0, 50.0, 10.0]), owner=np.asarray([0, 0, 1]),
        segment=np.asarray([0, 1, 1]), closed_owner=np.asarray([5.0, 7.0]), closed_segment=np.asarray([5.0, 7.0]),
        new_mean=np.zeros(2), new_cv=np.zeros(2), new_share=np.asarray([[1.0, 0.0], [0.0, 1.0]]), rollup=rollup,
    )  # fmt: skip
    a = simulate(book, 0.3, 5_000, seed=1, n_segments=2)
    b = simulate(book, 0.3, 5_000, seed=1, n_segments=2)
    assert np.array_equal(a.total, b.total)
    assert np.allclose(a.nodes[2], a.total)  # the manager holds everything
    assert np.allclose(a.nodes[0] + a.nodes[1], a.total)
    assert np.allclose(a.segments.sum(axis=0), a.total)
    assert a.total.min() >= 12.0  # closed-won is always in
    expected = 12 + 100 * 0.5 + 50 * 0.9 + 10 * 0.2
    assert a.total.mean() == pytest.approx(expected, rel=0.03)  # a zero-mean shock barely moves the mean
    assert a.won.tolist() == pytest.approx([0.5, 0.9, 0.2], abs=0.03)


def test_hierarchy_levels_and_categories(tmp_path: Path) -> None:
    with Store.open(tmp_path / "h.duckdb") as store:
        from saleslead.store.schema import TABLES

        columns = {"user_id": ["cro", "m1", "r1", "r2"], "name": ["C", "M", "R1", "R2"],
                   "manager_id": [None, "cro", "m1", "m1"]}  # fmt: skip
        schema = TABLES["users"].to_pyarrow()
        store.insert("users", pa.table({f.name: columns.get(f.name, [None] * 4) for f in schema}, schema=schema))
        h = build_hierarchy(store, ["r1", "r2", "ghost"])
    assert h.ids == ["r1", "m1", "cro", "r2", "ghost"]
    assert h.level == [2, 1, 0, 2, 0]
    assert h.rollup.toarray().tolist() == [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]]
    values = ("Commit", "Best Case", "BestCase", "Pipeline", "Closed", "Omitted", "Upside")
    expected = ["commit", "best_case", "best_case", "pipeline", "closed", "omitted", None]
    assert [category_field(v) for v in values] == expected


def test_verdicts_and_ledger_shrinkage() -> None:
    guard = GuardThresholds()
    assert [verdict(p, guard) for p in (0.5, 0.49, 0.2, 0.19)] == [
        "supported",
        "stretch",
        "stretch",
        "outruns-pipeline",
    ]
    table, team, k = shrink({"a": [0.2, 0.4], "b": [-0.1]})
    assert team == pytest.approx(0.5 / 3)
    assert k == 3.0  # fewer than three nodes: the default prior strength
    assert table["a"][1] == pytest.approx((2 * 0.3 + 3 * team) / 5)
    assert table["b"][1] == pytest.approx((1 * -0.1 + 3 * team) / 4)


def test_calibration_table() -> None:
    rows = calibration_table(np.asarray([0.05, 0.05, 0.95, 0.93]), np.asarray([0.0, 1.0, 1.0, 1.0]))
    assert rows == [
        {"low": 0.0, "high": 0.1, "deals": 2, "predicted": pytest.approx(0.05), "observed": 0.5},
        {"low": 0.9, "high": 1.0, "deals": 2, "predicted": pytest.approx(0.94), "observed": 1.0},
    ]
