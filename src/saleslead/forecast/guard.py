"""The honesty guard: how likely is the outcome to reach a call, and which deals would have to close.

``P(outcome ≥ call)`` is the share of forecast scenarios of the call's node (a person and everyone
under them, or ``total``) at or above the call. Verdict: ``supported`` at or above
``settings.guard.supported``, ``stretch`` at or above ``settings.guard.stretch``, else
``outruns-pipeline``; a call below the node's P10 is a ``sandbag``. The deals
that would have to close: the node's open deals, most likely first, until their amounts cover
``call − closed-won − expected new pipeline``. For a sandbag, the deals that would have to slip or die: the
node's open deals by expected amount (``p × amount``), largest first, until their expected amounts cover the
cushion ``mean outcome − call`` — the deals the call quietly counts out.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from saleslead.forecast.outlook import Outlook, deal_forecasts
from saleslead.forecast.schemas import CallCheck
from saleslead.settings import GuardThresholds

__all__ = ["TOTAL", "VERDICTS", "check_call", "node_scenarios", "verdict"]

TOTAL = "total"
Verdict = Literal["supported", "stretch", "outruns-pipeline", "sandbag"]
#: Every verdict the guard gives, for the faces (CLI, web, MCP) to name them the same way.
VERDICTS: tuple[Verdict, ...] = ("supported", "stretch", "outruns-pipeline", "sandbag")


def verdict(p: float, guard: GuardThresholds, below_p10: bool = False) -> Verdict:
    """``below_p10``: the call is below the node's P10 (the pipeline says more than nine times in ten)."""
    if below_p10:
        return "sandbag"
    if p >= guard.supported:
        return "supported"
    if p >= guard.stretch:
        return "stretch"
    return "outruns-pipeline"


def node_scenarios(o: Outlook, node: str) -> tuple[npt.NDArray[np.float32], float, npt.NDArray[np.bool_]]:
    """Scenarios of ``node``, its closed-won so far, and a mask of the open deals under it."""
    if node == TOTAL:
        return o.sim.total, float(o.closed.amount.sum()), np.ones(len(o.open), dtype=bool)
    h = o.hierarchy
    if node not in h.ids:
        return np.zeros(o.sim.scenarios, dtype=np.float32), 0.0, np.zeros(len(o.open), dtype=bool)
    col = h.ids.index(node)
    under = np.asarray(h.rollup[:, col].toarray()).ravel() > 0  # owners under the node
    local = {name: i for i, name in enumerate(o.owners)}
    open_owner = np.asarray([local[o.book.owners[int(x)]] for x in o.open.owner], dtype=np.int64)
    closed_owner = np.asarray([local[o.book.owners[int(x)]] for x in o.closed.owner], dtype=np.int64)
    closed = float(o.closed.amount[under[closed_owner]].sum()) if len(closed_owner) else 0.0
    return o.sim.nodes[col], closed, under[open_owner] if len(open_owner) else np.zeros(0, dtype=bool)


def check_call(o: Outlook, node: str, amount: float, category: str, version: int, guard: GuardThresholds) -> CallCheck:
    scenarios, closed, mask = node_scenarios(o, node)
    values = scenarios.astype(np.float64)
    p = float(np.mean(values >= amount)) if len(values) else 0.0
    q = np.quantile(values, [0.1, 0.5, 0.9]) if len(values) else np.zeros(3)
    p_won = o.p_won
    expected_open = float((p_won[mask] * o.open.amount[mask]).sum())
    new_expected = max(0.0, float(values.mean()) - closed - expected_open)
    gap = amount - closed - new_expected
    rows = np.flatnonzero(mask)
    rows = rows[np.argsort(-p_won[rows], kind="stable")]
    needed: list[int] = []
    covered = 0.0
    for r in rows:
        if covered >= gap:
            break
        needed.append(int(r))
        covered += float(o.open.amount[r])
    result = verdict(p, guard, bool(len(values)) and amount < float(q[0]))
    cushion = float(values.mean()) - amount if len(values) else 0.0
    slip: list[int] = []
    if result == "sandbag":
        under = np.flatnonzero(mask)
        expected = p_won[under] * o.open.amount[under]
        order = under[np.argsort(-expected, kind="stable")]
        counted = 0.0
        for r in order:
            if counted >= cushion:
                break
            slip.append(int(r))
            counted += float(p_won[r] * o.open.amount[r])
    return CallCheck(
        node=node,
        period=o.period.name,
        amount=amount,
        category=category,
        version=version,
        as_of=o.as_of,
        p_outcome_at_least_call=round(p, 4),
        verdict=result,
        node_p10=round(float(q[0]), 2),
        node_p50=round(float(q[1]), 2),
        node_p90=round(float(q[2]), 2),
        closed_won=round(closed, 2),
        gap_to_close=round(max(gap, 0.0), 2),
        deals_needed=deal_forecasts(o, np.asarray(needed, dtype=np.int64)) if needed and result != "sandbag" else [],
        flagged=result != "supported",
        deals_to_slip=deal_forecasts(o, np.asarray(slip, dtype=np.int64)) if slip else [],
        cushion=round(cushion, 2),
    )
