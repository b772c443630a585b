"""The calibration table by level and week bucket, on hand-made node-points."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from saleslead.forecast.levels import NodePoints, bucket_of, level_table, node_points
from saleslead.forecast.rollup import Hierarchy


def _tree() -> Hierarchy:
    # boss (0) ← manager (1) ← reps 2, 3
    rollup = sp.csr_matrix(np.asarray([[1, 1, 1, 0], [1, 1, 0, 1]], dtype=float))
    return Hierarchy(["b", "m", "r1", "r2"], ["B", "M", "R1", "R2"], ["", "", "", ""], [0, 1, 2, 2],
                     [-1, 0, 1, 1], rollup, np.asarray([2, 3]))  # fmt: skip


def test_buckets() -> None:
    assert [bucket_of(w) for w in (1, 4, 5, 9, 10, 13)] == ["early", "early", "mid", "mid", "late", "late"]


def test_node_points_match_nodes_by_id_and_drop_the_top() -> None:
    tree = _tree()
    scen = np.tile(np.arange(10, dtype=np.float32), (4, 1)) * np.asarray([[4], [4], [1], [3]], dtype=np.float32)
    per_owner = np.asarray([[5.0, 30.0], [6.0, 20.0], [7.0, 10.0]])  # actual, stage, categories per rep
    pts = node_points(3, scen[0], scen, tree, tree, per_owner)
    assert pts.level == ["total", "manager", "rep", "rep"]
    assert np.allclose(pts.actual, [35.0, 35.0, 5.0, 30.0])
    assert np.allclose(pts.stage_weighted, [26.0, 26.0, 6.0, 20.0])
    assert np.allclose(pts.p50[2:], np.quantile(scen[2:], 0.5, axis=1))


def test_level_table_counts_misses_by_tail_and_scores_baselines() -> None:
    y = np.asarray([10.0, 10.0, 10.0, 10.0])
    pts = [
        NodePoints(2, ["total", "rep", "rep", "rep"], np.asarray([8.0, 11.0, 1.0, 2.0]), np.asarray([10.0, 12, 5, 8]),
                   np.asarray([12.0, 13, 9, 12]), y, y * 2, y * 0.5),
    ]  # fmt: skip
    rows = {(r["level"], r["bucket"]): r for r in level_table(pts)}
    rep = rows[("rep", "early")]
    assert rep["points"] == 3
    assert rep["below_p10"] == 1
    assert rep["above_p90"] == 1
    assert np.isclose(rep["coverage"], 1 / 3)
    assert np.isclose(rep["wape"], (2 + 5 + 2) / 30)
    assert np.isclose(rep["wape_stage_weighted"], 1.0)
    assert np.isclose(rep["wape_categories"], 0.5)
    assert rows[("total", "early")]["coverage"] == 1.0
    assert rows[("total", "early")]["wape"] == 0.0


def test_quarter_weeks_can_be_thinned_to_chosen_weeks() -> None:
    from datetime import date

    from saleslead.forecast.backtest import _dates
    from saleslead.forecast.schemas import BacktestRequest

    every = BacktestRequest(start=date(2025, 1, 1), end=date(2025, 6, 30), every="quarter-week")
    chosen = every.model_copy(update={"weeks": (1, 6, 13)})
    assert len(_dates(every, 1)) == 26
    assert _dates(chosen, 1) == [date(2025, 1, 1), date(2025, 2, 5), date(2025, 3, 26),
                                 date(2025, 4, 1), date(2025, 5, 6), date(2025, 6, 24)]  # fmt: skip
    assert set(_dates(chosen, 1)) <= set(_dates(every, 1))
