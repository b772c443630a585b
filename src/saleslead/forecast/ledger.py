"""The accuracy ledger: submitted calls against what was booked, per node, shrunk toward the team.

For every node and finished period, the last call made before the period ended is compared with the
closed-won amount of the node (the person and everyone under them) in that period:
``error = (call − actual) / actual``. Per node: ``n`` calls, mean error (bias) and mean absolute error.
Small samples are not over-read: ``shrunk = (n · node + k · team) / (n + k)``, where ``team`` is the mean
over every call and ``k`` (prior strength) is the ratio of the within-node to the between-node variance
of the errors (method of moments), 3 when it cannot be estimated, kept within 1..20.
"""

from __future__ import annotations

import numpy as np

from saleslead.forecast.panel import DealBook, day_number
from saleslead.forecast.rollup import build_hierarchy
from saleslead.periods import Period
from saleslead.store import Store

__all__ = ["node_actuals", "shrink"]


def shrink(errors: dict[str, list[float]]) -> tuple[dict[str, tuple[float, float, float, float]], float | None, float]:
    """Per node: (bias, bias shrunk, abs error, abs error shrunk); the team bias; the prior strength k."""
    everything = [e for v in errors.values() for e in v]
    if not everything:
        return {}, None, 3.0
    team = float(np.mean(everything))
    team_abs = float(np.mean(np.abs(everything)))
    means = [float(np.mean(v)) for v in errors.values() if v]
    within = [float(np.var(v, ddof=1)) for v in errors.values() if len(v) > 1]
    k = 3.0
    if len(means) >= 3 and within:
        between = float(np.var(means, ddof=1)) - float(np.mean(within)) / max(
            1.0, float(np.mean([len(v) for v in errors.values()]))
        )
        if between > 0:
            k = float(np.clip(np.mean(within) / between, 1.0, 20.0))
        else:
            k = 20.0
    out: dict[str, tuple[float, float, float, float]] = {}
    for node, values in errors.items():
        n = len(values)
        bias = float(np.mean(values))
        abs_err = float(np.mean(np.abs(values)))
        out[node] = (bias, (n * bias + k * team) / (n + k), abs_err, (n * abs_err + k * team_abs) / (n + k))
    return out, team, k


def node_actuals(store: Store, book: DealBook, period: Period, as_of: int, nodes: set[str]) -> dict[str, float]:
    """Closed-won of ``period`` per node (the person and everyone under them; ``total`` for all), known at as_of."""
    now = book.states_at(as_of)
    lo, hi = day_number(period.start), day_number(period.end)
    won = now.take(now.is_won & (now.close_day >= lo) & (now.close_day < hi))
    owners = sorted({book.owners[int(o)] for o in won.owner})
    per_owner = {name: 0.0 for name in owners}
    for o, amount in zip(won.owner.tolist(), won.amount.tolist(), strict=True):
        per_owner[book.owners[o]] += amount
    out = {node: 0.0 for node in nodes}
    if "total" in out:
        out["total"] = float(won.amount.sum())
    if owners:
        h = build_hierarchy(store, owners)
        totals = np.asarray(h.rollup.T @ np.asarray([per_owner[o] for o in owners]))
        for i, node in enumerate(h.ids):
            if node in out:
                out[node] = float(totals[i])
    return out
