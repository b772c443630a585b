"""The levels' recalibration from replayed PITs: measuring the quantile levels and mapping the scenarios."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from saleslead.forecast.rollup import Hierarchy
from saleslead.forecast.spread import PRIOR, Spread, level_names, pits, recalibrate, spread_of


def _tree() -> Hierarchy:
    # top (0) ← manager (1) ← reps 2, 3; the owners are the two reps
    return Hierarchy(
        ids=["top", "mgr", "r1", "r2"], names=["top", "mgr", "r1", "r2"], titles=[""] * 4, level=[0, 1, 2, 2],
        parent=[-1, 0, 1, 1], rollup=sp.csr_matrix(np.asarray([[1.0, 1, 1, 0], [1, 1, 0, 1]])),
        owner_node=np.asarray([2, 3]),
    )  # fmt: skip


def test_pits_count_ties_half() -> None:
    s = np.asarray([[0.0, 0.0, 1.0, 2.0], [5.0, 6.0, 7.0, 8.0]])
    assert pits(s, np.asarray([0.0, 9.0])).tolist() == [0.25, 1.0]


def test_pits_crowding_the_middle_narrow_and_tails_widen_shrunk_by_their_number() -> None:
    rng = np.random.default_rng(3)
    middle = rng.uniform(0.3, 0.7, 400).tolist()
    tails = np.r_[rng.uniform(0, 0.2, 200), rng.uniform(0.8, 1, 200)].tolist()
    s = spread_of({"rep": middle, "manager": tails, "total": rng.uniform(0.3, 0.7, 4).tolist()})
    low, high = s.levels["rep"]
    assert 0.3 < low < 0.4
    assert 0.6 < high < 0.7
    low, high = s.levels["manager"]
    assert low < 0.08
    assert high > 0.92
    low, high = s.levels["total"]  # four PITs: barely moved from nominal
    assert abs(low - 0.1) < 0.03
    assert abs(high - 0.9) < 0.03
    assert s.counts == {"rep": 400, "manager": 400, "total": 4}
    uniform = ((np.arange(1000) + 0.5) / 1000).tolist()  # calibrated: nothing to move
    low, high = spread_of({"rep": uniform}).levels["rep"]
    assert low == pytest.approx(0.1, abs=0.01)
    assert high == pytest.approx(0.9, abs=0.01)
    assert PRIOR > 0


def test_level_names_follow_the_tree() -> None:
    assert level_names(_tree()) == ["total", "manager", "rep", "rep"]


def test_recalibrate_moves_p10_p90_keeps_p50_and_stays_inside_the_scenarios() -> None:
    rng = np.random.default_rng(5)
    nodes = rng.gamma(2.0, 100.0, size=(4, 2000)).astype(np.float32) + 50.0  # 50 already booked
    total = nodes[0].copy()
    spread = Spread({"rep": (0.2, 0.8), "total": (0.05, 0.95)})  # a total's knots are not applied
    new_total, new_nodes = recalibrate(total, nodes, _tree(), spread)
    for i in (2, 3):
        before, after = nodes[i].astype(np.float64), new_nodes[i].astype(np.float64)
        assert np.quantile(after, 0.1) == pytest.approx(np.quantile(before, 0.2), rel=0.02)
        assert np.quantile(after, 0.9) == pytest.approx(np.quantile(before, 0.8), rel=0.02)
        assert np.quantile(after, 0.5) == pytest.approx(np.quantile(before, 0.5), rel=0.01)
        assert after.min() >= before.min()
        assert after.max() <= before.max()
        # rank-preserving: the scenario that was the node's highest still is
        assert int(np.argmax(after)) == int(np.argmax(before))
    assert np.array_equal(new_nodes[1], nodes[1])  # no knots for managers: untouched
    assert np.array_equal(new_total, total)  # the total's spread is the level error's
    assert np.array_equal(new_nodes[0], nodes[0])


def test_no_spread_changes_nothing() -> None:
    nodes = np.arange(40, dtype=np.float32).reshape(4, 10)
    total, out = recalibrate(nodes[0], nodes, _tree(), Spread())
    assert np.array_equal(out, nodes)
    assert np.array_equal(total, nodes[0])
