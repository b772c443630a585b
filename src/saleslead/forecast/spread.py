"""Quantile recalibration by level of the hierarchy, from the forecast's own errors at past periods.

At each of the past periods the calibration replays (the same point of the quarter, :mod:`calibrate`), the
outlook is run again as it would have been then — the deal model fit at that period's cut, the calibration's
shock and stack, its level error and owner effects as measured without that period — and every node is placed
in its own scenarios: the probability integral transform (PIT) ``u = share of scenarios below the actual``
(ties count half), for every manager and every rep. Were the scenarios right, ``u`` would be
uniform; where a level's ranges are too wide, its PITs crowd the middle, too narrow, its tails. Per level, the
10th and 90th percentiles of those PITs, shrunk toward 0.1 and 0.9 with :data:`PRIOR` pseudo-observations (few
periods, little trust), are the quantile levels of the scenarios that held 10 % and 90 % of outcomes in the
past: a monotone map of each node's scenarios (piecewise linear in rank through (0, 0), (0.1, a₁₀), (0.5,
0.5), (0.9, a₉₀), (1, 1)) moves its P10 and P90 there and leaves its P50 where it was. The map stays inside a
node's scenarios (never below what is already booked). Only periods finished before the as-of are read, so the
ranges stay point-in-time. Known limit: the shock and the category stack of the replay were fit on all the
past periods, that one included (in sample), which makes its PITs a little better centred than a truly
out-of-sample forecast's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saleslead.forecast.rollup import Hierarchy

__all__ = ["PRIOR", "Spread", "level_names", "pits", "recalibrate", "spread_of"]

Floats = npt.NDArray[np.float64]
#: pseudo-PITs at the nominal levels each level's measured levels are shrunk toward
PRIOR = 60.0
_KNOTS = np.asarray([0.0, 0.1, 0.5, 0.9, 1.0])


@dataclass(frozen=True)
class Spread:
    """Per level (``manager``, ``rep``): the quantile levels read as P10 and P90, and the PITs
    they were measured on. Empty: no recalibration."""

    levels: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def knots(self, level: str) -> Floats | None:
        lv = self.levels.get(level)
        if lv is None or lv == (0.1, 0.9):
            return None
        return np.asarray([0.0, lv[0], 0.5, lv[1], 1.0])


def pits(scenarios: npt.NDArray[np.float32] | Floats, actual: Floats) -> Floats:
    """Per row of ``scenarios`` (rows, scenarios): the share of scenarios below its ``actual`` (ties half)."""
    s = np.asarray(scenarios, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)[:, None]
    return np.asarray(((s < y).sum(axis=1) + 0.5 * (s == y).sum(axis=1)) / max(s.shape[1], 1), dtype=np.float64)


def spread_of(by_level: dict[str, list[float]], prior: float = PRIOR) -> Spread:
    """:class:`Spread` from the PITs measured per level (a level without any keeps the nominal levels)."""
    levels: dict[str, tuple[float, float]] = {}
    counts: dict[str, int] = {}
    for level, values in by_level.items():
        u = np.asarray(values, dtype=np.float64)
        if not len(u):
            continue
        a = len(u) / (len(u) + prior)
        low = a * float(np.quantile(u, 0.1)) + (1 - a) * 0.1
        high = a * float(np.quantile(u, 0.9)) + (1 - a) * 0.9
        levels[level] = (float(np.clip(low, 0.005, 0.45)), float(np.clip(high, 0.55, 0.995)))
        counts[level] = len(u)
    return Spread(levels, counts)


def level_names(tree: Hierarchy) -> list[str]:
    """Per node: ``total`` (a top node with someone under it), ``manager`` (someone under it) or ``rep``."""
    has_child = np.zeros(len(tree.ids), dtype=bool)
    for p in tree.parent:
        if p >= 0:
            has_child[p] = True
    return [
        "total" if has_child[i] and tree.level[i] == 0 else "manager" if has_child[i] else "rep"
        for i in range(len(tree.ids))
    ]


def _mapped(rows: npt.NDArray[np.float32], knots: Floats) -> npt.NDArray[np.float32]:
    """Each row's scenarios moved by the rank map through ``knots`` (at the levels of :data:`_KNOTS`)."""
    n = rows.shape[1]
    if n < 2:
        return rows
    order = np.argsort(rows, axis=1, kind="stable")
    ranked = np.take_along_axis(rows, order, axis=1).astype(np.float64)
    level = np.interp((np.arange(n) + 0.5) / n, _KNOTS, knots)
    pos = np.clip(level * n - 0.5, 0.0, n - 1.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    moved = ranked[:, lo] * (1 - frac) + ranked[:, hi] * frac
    out = np.empty_like(rows)
    np.put_along_axis(out, order, moved.astype(rows.dtype), axis=1)
    return out


def recalibrate(
    total: npt.NDArray[np.float32], nodes: npt.NDArray[np.float32], tree: Hierarchy, spread: Spread
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Every manager's and rep's scenarios mapped by their level's knots (unchanged where none). The total and
    the top of the tree are left as simulated: their spread is the level error's (measured on the same past
    periods, :class:`~saleslead.forecast.calibrate.Level`), and eight PITs a level would move it by noise."""
    names = level_names(tree)
    out = nodes.copy()
    for level in ("manager", "rep"):
        knots = spread.knots(level)
        rows = [i for i, n in enumerate(names) if n == level]
        if knots is not None and rows:
            out[rows] = _mapped(nodes[rows], knots)
    return total, out
