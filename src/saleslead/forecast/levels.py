"""Calibration by level of the hierarchy and by week of the quarter: the walk-forward scored at every node.

At one as-of point of a backtest every node of the forecast's hierarchy is scored against what it booked in
the period: the total, every manager (a node with someone under it, below the top) and every rep (an owner
with no one under them). A node's actual is the closed-won amount of the period credited to the owners under
it when each deal was won (a deal won by someone hired after the as-of date counts toward their managers).
Baselines per node, on the same deals: the stage-weighted CRM number and Commit + a share of Best Case (open
deals closing in the period, plus closed-won so far). :func:`level_table` aggregates node-points per level
and week bucket (early weeks 1–4, mid 5–9, late 10–13): P10–P90 coverage, the split of the misses, bias,
WAPE and pinball loss of the model and both baselines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saleslead.forecast.rollup import Hierarchy

__all__ = ["BUCKETS", "LEVELS", "NodePoints", "bucket_of", "level_table", "node_points", "reliability_bins"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
LEVELS = ("total", "manager", "rep")
BUCKETS = (("early", 1, 4), ("mid", 5, 9), ("late", 10, 14))


def bucket_of(week: int) -> str:
    """The week bucket of a 1-based week of the quarter."""
    for name, low, high in BUCKETS:
        if low <= week <= high:
            return name
    return "late" if week > 0 else "early"


@dataclass(frozen=True)
class NodePoints:
    """Every node scored at one as-of point (arrays aligned; ``level`` one of :data:`LEVELS`)."""

    week: int
    level: list[str]
    p10: Floats
    p50: Floats
    p90: Floats
    actual: Floats
    stage_weighted: Floats
    categories: Floats


def node_points(
    week: int,
    total: npt.NDArray[np.float32],
    nodes: npt.NDArray[np.float32],
    forecast: Hierarchy,
    overall: Hierarchy,
    per_owner: Floats,
) -> NodePoints:
    """Score the total and every node of ``forecast`` (its scenarios ``nodes``, (nodes, scenarios)).

    ``overall`` is the hierarchy over every owner of the book, ``per_owner`` (3, owners of ``overall``) the
    actual, stage-weighted and categories amounts per owner; nodes are matched to it by id.
    """
    by_node = np.asarray(overall.rollup.T @ per_owner.T)  # (overall nodes, 3)
    where = {uid: i for i, uid in enumerate(overall.ids)}
    has_child = np.zeros(len(forecast.ids), dtype=bool)
    for p in forecast.parent:
        if p >= 0:
            has_child[p] = True
    keep: list[int] = []
    levels: list[str] = []
    for i, uid in enumerate(forecast.ids):
        if uid not in where or (forecast.level[i] == 0 and has_child[i]):
            continue  # the top of the tree is the total
        keep.append(i)
        levels.append("manager" if has_child[i] else "rep")
    q = np.quantile(nodes[keep].astype(np.float64), [0.1, 0.5, 0.9], axis=1) if keep else np.zeros((3, 0))
    values = by_node[[where[forecast.ids[i]] for i in keep]] if keep else np.zeros((0, 3))
    qt = np.quantile(total.astype(np.float64), [0.1, 0.5, 0.9])
    sums = per_owner.sum(axis=1)
    return NodePoints(
        week=week,
        level=["total", *levels],
        p10=np.r_[qt[0], q[0]],
        p50=np.r_[qt[1], q[1]],
        p90=np.r_[qt[2], q[2]],
        actual=np.r_[sums[0], values[:, 0]],
        stage_weighted=np.r_[sums[1], values[:, 1]],
        categories=np.r_[sums[2], values[:, 2]],
    )


def _pinball(f: Floats, y: Floats, q: float) -> float:
    d = y - f
    return float(np.sum(np.maximum(q * d, (q - 1) * d)))


def level_table(points: list[NodePoints]) -> list[dict[str, float | int | str]]:
    """One row per (level, week bucket) with node-points: coverage, tails, bias, WAPE, pinball vs baselines.

    Nodes with nothing forecast and nothing booked are left out (nothing to miss). ``pinball`` is the mean of
    the P10, P50 and P90 losses over Σ actual; a baseline is a point, so its three quantiles are the point.
    """
    rows: list[dict[str, float | int | str]] = []
    for level in LEVELS:
        for bucket, _, _ in BUCKETS:
            chosen = [(p, np.asarray([lv == level for lv in p.level])) for p in points if bucket_of(p.week) == bucket]
            cols = {
                k: np.concatenate([getattr(p, k)[m] for p, m in chosen]) if chosen else np.zeros(0)
                for k in ("p10", "p50", "p90", "actual", "stage_weighted", "categories")
            }
            live = (cols["p90"] > 0) | (cols["actual"] > 0)
            c = {k: v[live] for k, v in cols.items()}
            y = c["actual"]
            if not len(y):
                continue
            total = float(y.sum()) or 1.0
            below, above = int(np.sum(y < c["p10"])), int(np.sum(y > c["p90"]))
            misses = below + above
            model_pinball = sum(_pinball(c[k], y, q) for k, q in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))) / 3
            rows.append(
                {
                    "level": level,
                    "bucket": bucket,
                    "points": len(y),
                    "coverage": 1.0 - misses / len(y),
                    "below_p10": below,
                    "above_p90": above,
                    "tail_low_share": below / misses if misses else 0.5,
                    "bias": float((c["p50"] - y).sum() / total),
                    "wape": float(np.abs(c["p50"] - y).sum() / total),
                    "wape_stage_weighted": float(np.abs(c["stage_weighted"] - y).sum() / total),
                    "wape_categories": float(np.abs(c["categories"] - y).sum() / total),
                    "pinball": model_pinball / total,
                    "pinball_stage_weighted": _pinball(c["stage_weighted"], y, 0.5) / total,
                    "pinball_categories": _pinball(c["categories"], y, 0.5) / total,
                }
            )
    return rows


def reliability_bins(p: Floats, y: Floats, bins: int = 10) -> list[dict[str, float | int]]:
    """Deals grouped by predicted probability (tenths): mean predicted vs observed share won."""
    rows: list[dict[str, float | int]] = []
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    for b in range(bins):
        m = which == b
        if m.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "deals": int(m.sum()),
                    "predicted": float(p[m].mean()),
                    "observed": float(y[m].mean()),
                }
            )
    return rows
