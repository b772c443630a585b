"""The forecast bridge: how a period's forecast moved between two as-of dates, to the cent.

Two outlooks of one period, ``a`` as of ``D1`` and ``b`` as of ``D2 > D1``, read from one deal book (the one
loaded at ``D2``, cut at ``D1`` for ``a`` — the forecast as of ``D1`` is the same bit for bit). Every deal open
or won in the period at either date falls in one movement:

* **won** — open at ``D1``, won in the period by ``D2``;
* **lost** — open at ``D1``, not open nor won in the period at ``D2`` (lost, or won with a close date outside the
  period); also a deal won at ``D1`` and no longer won in the period at ``D2`` (reopened, re-dated);
* **pushed out** — open at both dates, dated in the period at ``D1``, dated outside it at ``D2``;
* **pulled in** — open at both, dated outside at ``D1`` and inside at ``D2``; or not open at ``D1`` but existing
  then (reopened) and open or won at ``D2``;
* **created** — created after ``D1``, open or won at ``D2``; with it the expectation of pipeline not yet created
  moves from ``a``'s run-rate to ``b``'s (what was expected to be created in between, and was or was not);
* **amount changes** — open at both dates (and not moved in or out): the amount at ``D2``, P(won) as at ``D1``;
  a deal won at both dates whose amount changed;
* **reassigned** — the owner at ``D2`` (nodes only: the total and the segments do not move);
* **probability** — deals open at both dates re-read as they stand at ``D2`` by ``a``'s model and calibration:
  a week older, a stage further, fewer days left;
* **model refit** — ``b``'s model, calibration, category stack and period shock on ``b``'s deals.

Sequential substitution: starting from ``a``'s simulation input, each movement in this order replaces its
deals' state at ``D1`` by their state at ``D2`` (scored by ``a``'s model until the refit), and the whole
simulation is run again. Each scenario draws one uniform per deal from a hash of (deal, scenario, seed)
(:func:`~saleslead.forecast.simulate.keyed_uniforms`) and the same period-shock level and new-pipeline noise,
so every step sees the same luck (common random numbers) and a component is the effect of its movement, not
noise. Each component is the change of the statistic (P10, P50, P90, mean, P(outcome ≥ call)) from the previous
step; the first step starts at ``a``'s forecast and the last ends at ``b``'s, so the components add up to the
change exactly. Why this order: facts first (outcomes, then dates, then new deals, then amounts and owners),
the model's re-reading of deals still open next, and the refit last — every earlier step is judged by one model
(``a``'s), and the refit is exactly "the same deals on the same day, the new model". A quantile is not additive,
so another order gives other components (summing to the same change); the order is fixed and documented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saleslead.forecast.outlook import Outlook, book_of, deal_probabilities, outlook_parts
from saleslead.forecast.panel import day_number
from saleslead.forecast.rollup import Hierarchy, build_hierarchy
from saleslead.forecast.runrate import NewPipeline
from saleslead.forecast.schemas import BridgeDeal, BridgeResult, BridgeStat, BridgeStep, NodeBridge
from saleslead.forecast.simulate import Simulation, simulate
from saleslead.settings import Settings
from saleslead.store import Store

__all__ = ["COMPONENTS", "forecast_bridge"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The components, in the order they are substituted (see the module's docstring for why).
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("won", "deals open then, won in the period since"),
    ("lost", "deals open then, lost since (or no longer won in the period)"),
    ("pushed_out", "deals still open whose close date moved out of the period"),
    ("pulled_in", "deals still open whose close date moved into the period; deals reopened"),
    ("created", "deals created since, and the expectation of pipeline not yet created"),
    ("amount", "amount changes of deals still open (and of deals won at both dates)"),
    ("reassigned", "owner changes (they move bookings between nodes; the total does not move)"),
    ("probability", "deals still open re-read as they stand now, by the earlier model"),
    ("refit", "the model, calibration and period shock refit as of now"),
)
_STEP = {name: k + 1 for k, (name, _) in enumerate(COMPONENTS)}


@dataclass(frozen=True)
class _Side:
    """One date's deals, aligned on the union of deals: open (with P(won)) or won in the period."""

    is_open: Bools
    is_won: Bools
    amount: Floats  # open amount, or the amount won
    owner: Ints  # book owner code (-1: not there)
    dated: Bools  # open and dated in the period


def _side(o: Outlook, deals: Ints, p: Floats | None = None) -> tuple[_Side, Floats]:
    """``o``'s open and won deals on ``deals`` (sorted union), and the P(won) of its open deals (``p`` or ``o.p``)."""
    n = len(deals)
    start, end = day_number(o.period.start), day_number(o.period.end)
    is_open, is_won = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    amount, owner, prob = np.zeros(n), np.full(n, -1, dtype=np.int64), np.zeros(n)
    dated = np.zeros(n, dtype=bool)
    at = np.searchsorted(deals, o.open.deal)
    is_open[at], amount[at], owner[at] = True, o.open.amount, o.open.owner
    prob[at] = o.p if p is None else p
    dated[at] = (o.open.close_day >= start) & (o.open.close_day < end)
    won = np.searchsorted(deals, o.closed.deal)
    is_won[won], amount[won], owner[won] = True, o.closed.amount, o.closed.owner
    return _Side(is_open, is_won, amount, owner, dated), prob


def _categories(a: _Side, b: _Side, created_after: Bools) -> Ints:
    """Per deal, the step (1..len(COMPONENTS)) its movement belongs to; 0 for a deal with nothing to move."""
    cat = np.zeros(len(a.is_open), dtype=np.int64)
    both = a.is_open & b.is_open
    cat[both] = _STEP["amount"]  # open at both dates: amount, owner, probability, refit apply in turn
    cat[both & a.dated & ~b.dated] = _STEP["pushed_out"]
    cat[both & ~a.dated & b.dated] = _STEP["pulled_in"]
    cat[a.is_open & b.is_won] = _STEP["won"]
    cat[a.is_open & ~b.is_open & ~b.is_won] = _STEP["lost"]
    cat[a.is_won & ~b.is_won] = _STEP["lost"]
    cat[a.is_won & b.is_won] = _STEP["amount"]
    arrived = ~a.is_open & ~a.is_won & (b.is_open | b.is_won)
    cat[arrived] = np.where(created_after[arrived], _STEP["created"], _STEP["pulled_in"])
    return cat


def _state(
    k: int, cat: Ints, a: _Side, b: _Side, p_a: Floats, p_ab: Floats, p_b: Floats
) -> tuple[Bools, Bools, Floats, Floats, Ints]:
    """The deals' state after ``k`` substitutions: (open, won, P(won), amount, owner)."""
    moved = (cat > 0) & (cat <= k)  # whole-deal movements (and the amount step) done by step k
    later = moved & (cat != _STEP["amount"])
    whole = later | (moved & (k >= _STEP["probability"]))
    is_open = np.where(whole, b.is_open, a.is_open)
    is_won = np.where(whole, b.is_won, a.is_won)
    p = np.where(whole, p_ab, p_a)
    if k >= _STEP["refit"]:
        p = np.where(b.is_open, p_b, p)
    amount = np.where(moved, b.amount, a.amount)
    owner = np.where(later | (moved & (k >= _STEP["reassigned"])), b.owner, a.owner)
    # a deal whose owner has not moved yet keeps its earlier owner (a deal that arrived has only the later one)
    owner = np.where(owner < 0, b.owner, owner)
    return is_open, is_won, p, amount, owner


def _stats(sim: Simulation, means: Floats, k_node: int | None, call: float | None) -> list[BridgeStat]:
    """Per node (then the total last) the statistics of one step, rounded as the forecast rounds them."""
    rows = np.vstack([sim.nodes.astype(np.float64), sim.total.astype(np.float64)[None, :]])
    q = np.quantile(rows, [0.1, 0.5, 0.9], axis=1)
    out: list[BridgeStat] = []
    for i in range(rows.shape[0]):
        p_call = float(np.mean(rows[i] >= call)) if call is not None and i == k_node else None
        out.append(
            BridgeStat(
                p10=round(float(q[0, i]), 2),
                p50=round(float(q[1, i]), 2),
                p90=round(float(q[2, i]), 2),
                mean=round(float(means[i]), 2),
                p_call=p_call,
            )
        )
    return out


def _pinned(stat: BridgeStat, p10: float, p50: float, p90: float, mean: float, p_call: float | None) -> BridgeStat:
    return BridgeStat(p10=p10, p50=p50, p90=p90, mean=mean, p_call=p_call if stat.p_call is not None else None)


def forecast_bridge(
    store: Store,
    settings: Settings,
    a: Outlook,
    b: Outlook,
    *,
    scenarios: int,
    node: str = "total",
    call: float | None = None,
) -> BridgeResult:
    """Bridge ``a`` (the earlier as-of) to ``b``; both of one period, ``a`` cut from ``b``'s deal book."""
    if a.book is not b.book or a.period != b.period or a.as_of >= b.as_of:
        raise ValueError("a bridge needs two outlooks of one period on one deal book, the earlier first")
    book = b.book
    deals = np.unique(np.concatenate([a.open.deal, a.closed.deal, b.open.deal, b.closed.deal]))
    p_ab = deal_probabilities(a.model, a.calibration, book, b.open, b.period)
    side_a, p_a = _side(a, deals)
    side_b, p_bb = _side(b, deals)
    _, p_ab_u = _side(b, deals, p_ab)
    created = np.full(len(deals), np.inf)
    at = np.searchsorted(deals, b.open.deal)
    created[at] = b.open.day - b.open.age_days
    created_after = created > day_number(a.as_of)
    cat = _categories(side_a, side_b, created_after)
    owner_codes = np.unique(np.concatenate([side_a.owner[side_a.owner >= 0], side_b.owner[side_b.owner >= 0]]))
    hierarchy = build_hierarchy(store, [book.owners[int(x)] for x in owner_codes])
    total_row = len(hierarchy.ids)
    k_node = total_row if node == "total" else (hierarchy.ids.index(node) if node in hierarchy.ids else None)
    steps: list[list[BridgeStat]] = []
    for k in range(len(COMPONENTS) + 1):
        is_open, is_won, p, amount, owner = _state(k, cat, side_a, side_b, p_a, p_ab_u, p_bb)
        new: NewPipeline = a.new if k < _STEP["created"] else b.new
        sd = a.shock.sd if k < _STEP["refit"] else b.shock.sd
        sim_book = book_of(
            book, (deals[is_open], p[is_open], amount[is_open], owner[is_open]),
            (deals[is_won], amount[is_won], owner[is_won]), new, owner_codes, hierarchy,
        )  # fmt: skip
        sim = simulate(sim_book, sd, scenarios, settings.seed, len(book.segment_names))
        per_owner = np.bincount(sim_book.owner, weights=sim_book.amount * sim.won.astype(np.float64),
                                minlength=len(owner_codes)) + sim_book.closed_owner + sim.new_owner  # fmt: skip
        node_means = np.asarray(hierarchy.rollup.T @ per_owner, dtype=np.float64)
        total_mean = float(sim_book.closed_segment.sum() + sim_book.amount @ sim.won + sim.new_segment.sum())
        steps.append(_stats(sim, np.append(node_means, total_mean), k_node, call))
    ends = (_ends(a, hierarchy, k_node, call), _ends(b, hierarchy, k_node, call))
    local = np.full(len(book.owners), -1, dtype=np.int64)
    local[owner_codes] = np.arange(len(owner_codes))
    moves = _Moves(cat, side_a, side_b, deals, local)
    bridges = [_node_bridge(i, hierarchy, steps, ends, moves, book.ids, book.owners) for i in range(total_row + 1)]
    total = bridges[-1]
    reconciles = all(_adds_up(x) for x in bridges)
    return BridgeResult(
        period=b.period.name,
        since=a.as_of,
        as_of=b.as_of,
        order=[name for name, _ in COMPONENTS],
        method=(
            "sequential substitution with common random numbers (one uniform per deal and scenario from a hash of "
            "the deal, the scenario and the seed), in the order of `order`; the first step starts at the earlier "
            "forecast and the last ends at the later one"
        ),
        call=call,
        call_node=node,
        total=total,
        nodes=bridges[:-1],
        reconciles=reconciles,
    )


def _ends(o: Outlook, h: Hierarchy, k_node: int | None, call: float | None) -> list[BridgeStat | None]:
    """``o``'s own forecast per node of ``h`` (None where ``o`` has no such node), the total last."""
    node_parts, seg_parts = outlook_parts(o)
    out: list[BridgeStat | None] = []
    rows = [o.hierarchy.ids.index(x) if x in o.hierarchy.ids else -1 for x in h.ids] + [-2]
    for i, row in enumerate(rows):
        if row == -1:
            out.append(None)
            continue
        values = o.sim.total if row == -2 else o.sim.nodes[row]
        parts = seg_parts.sum(axis=0) if row == -2 else node_parts[row]
        q = np.quantile(values.astype(np.float64), [0.1, 0.5, 0.9])
        mean = round(round(parts[0], 2) + round(parts[1], 2) + round(parts[2], 2), 2)
        p_call = float(np.mean(values.astype(np.float64) >= call)) if call is not None and i == k_node else None
        out.append(BridgeStat(p10=round(float(q[0]), 2), p50=round(float(q[1]), 2), p90=round(float(q[2]), 2),
                              mean=mean, p_call=p_call))  # fmt: skip
    return out


@dataclass(frozen=True)
class _Moves:
    cat: Ints
    a: _Side
    b: _Side
    deals: Ints
    local: Ints  # book owner code → the hierarchy's owner index


def _node_bridge(
    i: int,
    h: Hierarchy,
    steps: list[list[BridgeStat]],
    ends: tuple[list[BridgeStat | None], list[BridgeStat | None]],
    m: _Moves,
    ids: Sequence[str],
    owners: Sequence[str],
) -> NodeBridge:
    """Node ``i`` (``len(h.ids)``: the total): its components, pinned to the forecasts at both ends."""
    values = [s[i] for s in steps]
    first, last = ends[0][i] or values[0], ends[1][i] or values[-1]
    values[0], values[-1] = first, last  # the bridge starts and ends at the forecasts themselves
    total = i == len(h.ids)
    cat, a, b, deals = m.cat, m.a, m.b, m.deals
    if total:
        under = np.ones(len(deals), dtype=bool)
    else:
        col = np.append(np.asarray(h.rollup[:, i].toarray()).ravel() > 0, False)  # index -1: no owner
        under = col[_at(m.local, a.owner)] | col[_at(m.local, b.owner)]
    out: list[BridgeStep] = []
    for k, (name, description) in enumerate(COMPONENTS, start=1):
        rows = np.flatnonzero(under & _moved_by(k, cat, a, b))
        later_amount = k in (_STEP["won"], _STEP["pulled_in"], _STEP["created"])
        moved_amount = b.amount[rows] if later_amount else a.amount[rows]
        if k == _STEP["amount"]:
            moved_amount = b.amount[rows] - a.amount[rows]
        top = rows[np.argsort(-np.abs(moved_amount), kind="stable")[:5]] if total else np.zeros(0, dtype=np.int64)
        before, after = values[k - 1], values[k]
        out.append(
            BridgeStep(
                component=name,
                description=description,
                deals=len(rows),
                amount=round(float(moved_amount.sum()), 2),
                p10=round(after.p10 - before.p10, 2),
                p50=round(after.p50 - before.p50, 2),
                p90=round(after.p90 - before.p90, 2),
                mean=round(after.mean - before.mean, 2),
                p_call=(after.p_call - before.p_call)
                if after.p_call is not None and before.p_call is not None
                else None,
                top_deals=[
                    BridgeDeal(
                        opportunity_id=ids[int(deals[r])],
                        owner_id=owners[int(b.owner[r] if b.owner[r] >= 0 else a.owner[r])],
                        amount=float(b.amount[r] if later_amount else a.amount[r]),
                    )
                    for r in top
                ],
            )
        )
    node_id = "total" if total else h.ids[i]
    return NodeBridge(node=node_id, name="total" if total else h.names[i], start=first, end=last, steps=out)


def _at(local: Ints, owner: Ints) -> Ints:
    """The hierarchy's owner index of each book owner code; -1 where there is no owner."""
    return np.where(owner >= 0, local[np.maximum(owner, 0)], -1)


def _moved_by(k: int, cat: Ints, a: _Side, b: _Side) -> Bools:
    """Deals step ``k`` changes."""
    if k == _STEP["amount"]:
        moved = (cat == k) & (a.amount != b.amount)
    elif k == _STEP["reassigned"]:
        moved = (cat == _STEP["amount"]) & (a.owner != b.owner) & (a.owner >= 0) & (b.owner >= 0)
    elif k == _STEP["probability"]:
        moved = (cat == _STEP["amount"]) & a.is_open & b.is_open
    elif k == _STEP["refit"]:
        moved = b.is_open.copy()
    else:
        moved = cat == k
    return np.asarray(moved, dtype=bool)


def _adds_up(x: NodeBridge) -> bool:
    """Σ components = end − start, to the cent, for every statistic."""
    for field in ("p10", "p50", "p90", "mean"):
        change = getattr(x.end, field) - getattr(x.start, field)
        if abs(sum(getattr(s, field) for s in x.steps) - change) > 0.005:
            return False
    return True
