"""Rebalance accounts across AEs: a mixed-integer program on HiGHS.

Within each segment, every account goes to exactly one of the segment's AEs. A rep's *target* is its
share of the segment's potential (and workload) in proportion to its ramp factor now:
``target_r = f_r ÷ Σ f × segment total``, ``f_r = max(ramp(tenure), 0.1)``. Bands are ``target × (1 ± band)``.

Variables ``y[g, r]`` — how many accounts of group ``g`` rep ``r`` holds. A group is the accounts sharing
segment, current owner and potential tier (exact mode: one account per group, ``y`` binary). Soft bands:
``load_r − over_r ≤ high_r`` and ``load_r + under_r ≥ low_r`` for potential and workload, with
``over, under ≥ 0``. Locked accounts stay with their owner (constants in the owner's load).

Minimise ``band_penalty × Σ (over_r + under_r) ÷ target_r`` (both measures)
``+ move_penalty × Σ_{r ≠ owner(g)} y[g, r] × potential_g ÷ mean target`` — disruption is the potential that
changes hands, in units of a rep's target. Accounts whose owner is not an active AE of the segment must
move and carry no penalty.

Solving (so 10,000 accounts × 100 reps fit in a minute): the LP relaxation first; its solution rounded per
group (floors, then the largest fractions) is a feasible start; the MIP is then solved on the columns the
relaxation or the rounding use plus every "stay" column, from that start, with a time limit and
``mip_rel_gap``. The reported gap is against a valid lower bound: the LP relaxation of the full model (or
the MIP's own bound when no column was dropped, as in exact mode). Exact mode (one account per group,
binaries) is used when ``accounts × reps ≤ exact_limit`` in every segment and no tier width is given;
otherwise accounts are grouped by owner and potential tier (``tier = ⌊ln(potential) ÷ ln(1 + width)⌋``,
width 0.2 by default), a group's accounts are dealt to its reps by interleaving them in potential order,
and the balance reported is recomputed on the actual accounts.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict

from saleslead.roster.potential import AccountBook
from saleslead.roster.solver import INF, MipOutcome, solve_mip

__all__ = ["AccountMove", "RebalanceOutcome", "RepBalance", "RepInput", "rebalance"]


@dataclass(frozen=True)
class RepInput:
    user_id: str
    name: str | None
    segment: str
    ramp_factor: float


class RepBalance(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str | None
    segment: str
    ramp_factor: float
    target_potential: float
    potential_before: float
    potential_after: float
    target_workload: float
    workload_before: float
    workload_after: float
    accounts_before: int
    accounts_after: int
    within_band_before: bool
    within_band_after: bool


class AccountMove(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str | None
    segment: str
    from_owner: str | None
    to_owner: str
    potential: float
    forced: bool  # the owner is not an active AE of the segment


@dataclass(frozen=True)
class RebalanceOutcome:
    reps: list[RepBalance]
    moves: list[AccountMove]
    assignment: dict[str, str]
    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    solve_seconds: float
    formulation: str
    variables: int
    constraints: int
    skipped_accounts: int  # no AE in their segment


def _within(value: float, target: float, band: float) -> bool:
    return target * (1 - band) - 1e-6 <= value <= target * (1 + band) + 1e-6


def _interleave(members: list[int], counts: dict[int, int], potential: np.ndarray) -> dict[int, int]:
    """Deal the group's accounts (richest first) to reps so each gets a spread of potentials."""
    slots = sorted(((k + 0.5) / n, r) for r, n in counts.items() for k in range(n))
    ordered = sorted(members, key=lambda a: -potential[a])
    return {a: r for a, (_, r) in zip(ordered, slots, strict=True)}


def _round_by_group(values: np.ndarray, group: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Round a relaxed assignment: floor every count, then give each group's remaining accounts to the reps
    with the largest fractional parts."""
    floor = np.floor(values + 1e-9)
    frac = values - floor
    missing = sizes - np.bincount(group, weights=floor, minlength=len(sizes))
    order = np.lexsort((-frac, group))  # by group, largest fraction first
    rank = np.empty_like(order)
    starts = np.searchsorted(group[order], np.arange(len(sizes)))
    rank[order] = np.arange(len(order)) - starts[group[order]]
    return np.asarray(floor + (rank < missing[group]).astype(np.float64), dtype=np.float64)


def rebalance(
    book: AccountBook,
    reps: list[RepInput],
    locked: set[str],
    *,
    potential_band: float = 0.15,
    workload_band: float = 0.25,
    band_penalty: float = 10.0,
    move_penalty: float = 1.0,
    tier_width: float | None = None,
    exact_limit: int = 2_000,
    time_limit: float = 60.0,
    mip_rel_gap: float = 0.01,
) -> RebalanceOutcome:
    started = time.perf_counter()
    rep_index = {r.user_id: i for i, r in enumerate(reps)}
    by_segment: dict[str, list[int]] = defaultdict(list)
    for i, rep in enumerate(reps):
        by_segment[rep.segment].append(i)
    n_acc = len(book)
    seg_accounts: dict[str, list[int]] = defaultdict(list)
    skipped = 0
    for a in range(n_acc):
        if book.segment[a] in by_segment:
            seg_accounts[book.segment[a]].append(a)
        else:
            skipped += 1
    pot, work = book.potential, book.workload
    factor = np.asarray([max(rep.ramp_factor, 0.1) for rep in reps])
    target_p = np.zeros(len(reps))
    target_w = np.zeros(len(reps))
    const_p = np.zeros(len(reps))
    const_w = np.zeros(len(reps))
    before_owner: list[int | None] = []
    for a in range(n_acc):
        o = rep_index.get(book.owner_id[a] or "")
        before_owner.append(o if o is not None and reps[o].segment == book.segment[a] else None)
    groups: list[tuple[int | None, list[int]]] = []  # (owner rep, members)
    exact = True
    for seg, members in seg_accounts.items():
        ids = by_segment[seg]
        share = factor[ids] / factor[ids].sum()
        target_p[ids] = share * pot[members].sum()
        target_w[ids] = share * work[members].sum()
        free: list[int] = []
        for a in members:
            o = before_owner[a]
            if book.account_id[a] in locked and o is not None:
                const_p[o] += pot[a]
                const_w[o] += work[a]
            else:
                free.append(a)
        seg_exact = tier_width is None and len(free) * len(ids) <= exact_limit
        exact = exact and seg_exact
        if seg_exact:
            groups.extend((before_owner[a], [a]) for a in free)
            continue
        values = np.maximum(pot[free], 1e-9)
        tier = np.floor(np.log(values) / math.log(1.0 + (tier_width or 0.2))).astype(np.int64)
        keyed: dict[tuple[int | None, int], list[int]] = defaultdict(list)
        for a, t in zip(free, tier, strict=True):
            keyed[(before_owner[a], int(t))].append(a)
        groups.extend((owner, keyed[(owner, t)]) for owner, t in sorted(keyed, key=lambda k: (k[0] or -1, k[1])))
    # columns: y[g, r] for r in the group's segment reps, then over/under for potential and workload per rep
    col_group: list[int] = []
    col_rep: list[int] = []
    cost: list[float] = []
    upper: list[float] = []
    for g, (owner, members) in enumerate(groups):
        ids = by_segment[book.segment[members[0]]]
        moving = move_penalty * float(pot[members].mean()) / max(float(target_p[ids].mean()), 1e-9)
        for r in ids:
            col_group.append(g)
            col_rep.append(r)
            cost.append(0.0 if owner is None or r == owner else moving)
            upper.append(float(len(members)))
    n_y = len(col_group)
    n_r = len(reps)
    slack0 = n_y
    for target in (target_p, target_p, target_w, target_w):  # over_p, under_p, over_w, under_w
        cost.extend(band_penalty / np.maximum(target, 1e-9))
        upper.extend([INF] * n_r)
    n_cols = len(cost)
    g_mean_p = np.asarray([pot[m].mean() for _, m in groups]) if groups else np.zeros(0)
    g_mean_w = np.asarray([work[m].mean() for _, m in groups]) if groups else np.zeros(0)
    cg = np.asarray(col_group, dtype=np.int64)
    cr = np.asarray(col_rep, dtype=np.int64)
    cols_y = np.arange(n_y)
    n_g = len(groups)
    # rows: groups (assignment), then per rep: p_high, p_low, w_high, w_low
    rows = [cg, n_g + cr, n_g + n_r + cr, n_g + 2 * n_r + cr, n_g + 3 * n_r + cr]
    cols = [cols_y] * 5
    vals = [np.ones(n_y), g_mean_p[cg], g_mean_p[cg], g_mean_w[cg], g_mean_w[cg]]
    reps_idx = np.arange(n_r)
    for k, sign in enumerate((-1.0, 1.0, -1.0, 1.0)):
        rows.append(n_g + k * n_r + reps_idx)
        cols.append(slack0 + k * n_r + reps_idx)
        vals.append(np.full(n_r, sign))
    n_rows = n_g + 4 * n_r
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_cols))
    sizes = np.asarray([len(m) for _, m in groups], dtype=np.float64)
    row_lower = np.concatenate([sizes, np.full(n_r, -INF), target_p * (1 - potential_band) - const_p,
                                np.full(n_r, -INF), target_w * (1 - workload_band) - const_w])  # fmt: skip
    row_upper = np.concatenate([sizes, target_p * (1 + potential_band) - const_p, np.full(n_r, INF),
                                target_w * (1 + workload_band) - const_w, np.full(n_r, INF)])  # fmt: skip
    integer = np.zeros(n_cols, dtype=np.bool_)
    integer[:n_y] = True
    bounds = (np.asarray(cost), np.zeros(n_cols), np.asarray(upper))
    relaxed = solve_mip(
        *bounds, np.zeros(n_cols, dtype=np.bool_), matrix, row_lower, row_upper,
        time_limit=0.5 * time_limit, mip_rel_gap=mip_rel_gap,
    )  # fmt: skip
    keep = np.ones(n_cols, dtype=np.bool_)
    start: np.ndarray | None = None
    if relaxed.feasible:
        y = _round_by_group(relaxed.values[:n_y], cg, sizes)
        high_p, low_p = row_upper[n_g : n_g + n_r], row_lower[n_g + n_r : n_g + 2 * n_r]
        high_w, low_w = row_upper[n_g + 2 * n_r : n_g + 3 * n_r], row_lower[n_g + 3 * n_r :]
        load_p = np.bincount(cr, weights=y * g_mean_p[cg], minlength=n_r)
        load_w = np.bincount(cr, weights=y * g_mean_w[cg], minlength=n_r)
        slack = [load_p - high_p, low_p - load_p, load_w - high_w, low_w - load_w]
        start = np.concatenate([y, *(np.maximum(x, 0.0) for x in slack)])
        # the MIP keeps the columns the relaxation or the rounding uses, and every "stay with the owner"
        stays = np.asarray([groups[g][0] == r for g, r in zip(col_group, col_rep, strict=True)], dtype=np.bool_)
        if not exact:  # small (exact) models keep every column, so the MIP's own bound is valid
            keep[:n_y] = (relaxed.values[:n_y] > 1e-9) | (y > 0) | stays
    cols_kept = np.flatnonzero(keep)
    restricted = solve_mip(
        bounds[0][keep], bounds[1][keep], bounds[2][keep], integer[keep], matrix[:, cols_kept], row_lower,
        row_upper, time_limit=max(1.0, 0.8 * (time_limit - (time.perf_counter() - started))),
        mip_rel_gap=mip_rel_gap, start=start[keep] if start is not None else None,
    )  # fmt: skip
    full = np.zeros(n_cols)
    full[cols_kept] = restricted.values
    # a valid lower bound: the relaxation's, or the MIP's own when no column was dropped
    bound = relaxed.objective if relaxed.feasible else -math.inf
    if keep.all() and restricted.feasible:
        bound = max(bound, restricted.bound)
    gap = (restricted.objective - bound) / max(abs(restricted.objective), 1e-9) if restricted.feasible else math.inf
    outcome = MipOutcome(
        values=full, status=restricted.status, objective=restricted.objective, bound=bound, gap=max(gap, 0.0),
        seconds=relaxed.seconds + restricted.seconds, feasible=restricted.feasible,
    )  # fmt: skip
    values = np.rint(outcome.values[:n_y]).astype(np.int64) if outcome.feasible else np.zeros(n_y, dtype=np.int64)
    after_owner: dict[int, int] = {}
    per_group: dict[int, dict[int, int]] = defaultdict(dict)
    for j in np.flatnonzero(values > 0):
        per_group[int(cg[j])][int(cr[j])] = int(values[j])
    for g, (owner, members) in enumerate(groups):
        counts = per_group.get(g) or ({owner: len(members)} if owner is not None else {})
        if sum(counts.values()) != len(members):  # no feasible solution: keep the owner
            counts = {owner: len(members)} if owner is not None else {by_segment[book.segment[members[0]]][0]: 1}
        after_owner.update(_interleave(members, counts, pot))
    return _report(
        book, reps, before_owner, after_owner, target_p, target_w, potential_band, workload_band, outcome,
        started, exact, n_cols, n_rows, skipped,
    )  # fmt: skip


def _report(
    book: AccountBook,
    reps: list[RepInput],
    before_owner: list[int | None],
    after_owner: dict[int, int],
    target_p: np.ndarray,
    target_w: np.ndarray,
    potential_band: float,
    workload_band: float,
    outcome: MipOutcome,
    started: float,
    exact: bool,
    n_cols: int,
    n_rows: int,
    skipped: int,
) -> RebalanceOutcome:
    n_r = len(reps)
    pb, pa, wb, wa = (np.zeros(n_r) for _ in range(4))
    nb, na = np.zeros(n_r, dtype=np.int64), np.zeros(n_r, dtype=np.int64)
    moves: list[AccountMove] = []
    assignment: dict[str, str] = {}
    for a in range(len(book)):
        o = before_owner[a]
        if o is not None:
            pb[o] += book.potential[a]
            wb[o] += book.workload[a]
            nb[o] += 1
        new = after_owner.get(a, o)
        if new is None:
            continue
        pa[new] += book.potential[a]
        wa[new] += book.workload[a]
        na[new] += 1
        assignment[book.account_id[a]] = reps[new].user_id
        if new != o:
            moves.append(
                AccountMove(
                    account_id=book.account_id[a],
                    name=book.name[a],
                    segment=book.segment[a],
                    from_owner=book.owner_id[a],
                    to_owner=reps[new].user_id,
                    potential=float(book.potential[a]),
                    forced=o is None,
                )
            )
    balances = [
        RepBalance(
            user_id=r.user_id,
            name=r.name,
            segment=r.segment,
            ramp_factor=r.ramp_factor,
            target_potential=float(target_p[i]),
            potential_before=float(pb[i]),
            potential_after=float(pa[i]),
            target_workload=float(target_w[i]),
            workload_before=float(wb[i]),
            workload_after=float(wa[i]),
            accounts_before=int(nb[i]),
            accounts_after=int(na[i]),
            within_band_before=_within(pb[i], target_p[i], potential_band)
            and _within(wb[i], target_w[i], workload_band),
            within_band_after=_within(pa[i], target_p[i], potential_band)
            and _within(wa[i], target_w[i], workload_band),
        )
        for i, r in enumerate(reps)
    ]
    moves.sort(key=lambda m: (-m.potential, m.account_id))
    return RebalanceOutcome(
        reps=balances,
        moves=moves,
        assignment=assignment,
        status=outcome.status,
        objective=outcome.objective,
        bound=outcome.bound,
        gap=outcome.gap if math.isfinite(outcome.gap) else 1.0,
        seconds=time.perf_counter() - started,
        solve_seconds=outcome.seconds,
        formulation="exact: one binary per account and rep" if exact else "tiered: groups of owner × potential tier",
        variables=n_cols,
        constraints=n_rows,
        skipped_accounts=skipped,
    )  # fmt: skip
