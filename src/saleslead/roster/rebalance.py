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
from pydantic import BaseModel, ConfigDict, Field

from saleslead.roster.potential import AccountBook
from saleslead.roster.solver import INF, MipOutcome, solve_mip

__all__ = ["AccountMove", "RebalanceOptions", "RebalanceOutcome", "RepBalance", "RepInput", "rebalance"]


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


class RebalanceOptions(BaseModel):
    """The rebalance's knobs, declared once: the request of the seat's action extends this model."""

    model_config = ConfigDict(frozen=True)

    potential_band: float = Field(0.15, gt=0, lt=1, description="± share of a rep's target potential")
    workload_band: float = Field(0.25, gt=0, lt=1, description="± share of a rep's target workload")
    band_penalty: float = Field(10.0, gt=0, description="cost of a unit of potential or workload outside its band")
    move_penalty: float = Field(1.0, ge=0, description="cost of moving a rep's target of potential")
    tier_width: float | None = Field(None, gt=0, le=1, description="potential tier width (None: automatic)")
    exact_limit: int = Field(2_000, ge=0, description="accounts × reps up to which one binary per account is used")
    time_limit: float = Field(60.0, gt=0, le=600, description="seconds the solver may take")
    mip_rel_gap: float = Field(0.01, ge=0, le=1, description="relative optimality gap to stop at")


@dataclass(frozen=True)
class _Book:
    """The accounts to deal, by segment, with every rep's target and locked load: what the model is built from."""

    book: AccountBook
    reps: list[RepInput]
    by_segment: dict[str, list[int]]  # segment -> rep indexes
    before_owner: list[int | None]  # the account's rep index when it is an active AE of its segment
    groups: list[tuple[int | None, list[int]]]  # (owner rep, accounts) dealt together
    target_p: np.ndarray
    target_w: np.ndarray
    const_p: np.ndarray  # locked potential per rep
    const_w: np.ndarray
    exact: bool
    skipped: int  # accounts of a segment without AEs


@dataclass(frozen=True)
class _Model:
    """The MIP in matrix form: ``y[g, r]`` columns, then over/under slack per rep for potential and workload."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_group: np.ndarray
    col_rep: np.ndarray
    sizes: np.ndarray  # accounts per group
    g_mean_p: np.ndarray
    g_mean_w: np.ndarray

    @property
    def n_y(self) -> int:
        return len(self.col_group)


def _owners(book: AccountBook, reps: list[RepInput]) -> list[int | None]:
    rep_index = {r.user_id: i for i, r in enumerate(reps)}
    owners: list[int | None] = []
    for a in range(len(book)):
        o = rep_index.get(book.owner_id[a] or "")
        owners.append(o if o is not None and reps[o].segment == book.segment[a] else None)
    return owners


def _segment_groups(
    free: list[int], owners: list[int | None], pot: np.ndarray, tier_width: float | None
) -> list[tuple[int | None, list[int]]]:
    """Free accounts grouped by owner and potential tier ``⌊ln potential ÷ ln(1 + width)⌋``."""
    values = np.maximum(pot[free], 1e-9)
    tier = np.floor(np.log(values) / math.log(1.0 + (tier_width or 0.2))).astype(np.int64)
    keyed: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for a, t in zip(free, tier, strict=True):
        keyed[(owners[a], int(t))].append(a)
    return [(owner, keyed[(owner, t)]) for owner, t in sorted(keyed, key=lambda k: (k[0] or -1, k[1]))]


def _prepare(book: AccountBook, reps: list[RepInput], locked: set[str], options: RebalanceOptions) -> _Book:
    by_segment: dict[str, list[int]] = defaultdict(list)
    for i, rep in enumerate(reps):
        by_segment[rep.segment].append(i)
    seg_accounts: dict[str, list[int]] = defaultdict(list)
    for a in range(len(book)):
        if book.segment[a] in by_segment:
            seg_accounts[book.segment[a]].append(a)
    pot, work = book.potential, book.workload
    factor = np.asarray([max(rep.ramp_factor, 0.1) for rep in reps])
    target_p, target_w, const_p, const_w = (np.zeros(len(reps)) for _ in range(4))
    owners = _owners(book, reps)
    groups: list[tuple[int | None, list[int]]] = []
    exact = True
    for seg, members in seg_accounts.items():
        ids = by_segment[seg]
        share = factor[ids] / factor[ids].sum()
        target_p[ids] = share * pot[members].sum()
        target_w[ids] = share * work[members].sum()
        free: list[int] = []
        for a in members:
            o = owners[a]
            if book.account_id[a] in locked and o is not None:
                const_p[o] += pot[a]
                const_w[o] += work[a]
            else:
                free.append(a)
        seg_exact = options.tier_width is None and len(free) * len(ids) <= options.exact_limit
        exact = exact and seg_exact
        groups.extend(
            [(owners[a], [a]) for a in free] if seg_exact else _segment_groups(free, owners, pot, options.tier_width)
        )
    skipped = len(book) - sum(len(m) for m in seg_accounts.values())
    return _Book(book, reps, dict(by_segment), owners, groups, target_p, target_w, const_p, const_w, exact, skipped)


def _columns(b: _Book, options: RebalanceOptions) -> tuple[list[int], list[int], list[float], list[float]]:
    """``y[g, r]`` for every group and rep of its segment: (group, rep, cost, upper bound) per column."""
    pot = b.book.potential
    col_group: list[int] = []
    col_rep: list[int] = []
    cost: list[float] = []
    upper: list[float] = []
    for g, (owner, members) in enumerate(b.groups):
        ids = b.by_segment[b.book.segment[members[0]]]
        moving = options.move_penalty * float(pot[members].mean()) / max(float(b.target_p[ids].mean()), 1e-9)
        for r in ids:
            col_group.append(g)
            col_rep.append(r)
            cost.append(0.0 if owner is None or r == owner else moving)
            upper.append(float(len(members)))
    return col_group, col_rep, cost, upper


def _model(b: _Book, options: RebalanceOptions) -> _Model:
    col_group, col_rep, cost, upper = _columns(b, options)
    pot, work = b.book.potential, b.book.workload
    n_y, n_r, n_g = len(col_group), len(b.reps), len(b.groups)
    for target in (b.target_p, b.target_p, b.target_w, b.target_w):  # over_p, under_p, over_w, under_w
        cost.extend(options.band_penalty / np.maximum(target, 1e-9))
        upper.extend([INF] * n_r)
    n_cols = len(cost)
    g_mean_p = np.asarray([pot[m].mean() for _, m in b.groups]) if b.groups else np.zeros(0)
    g_mean_w = np.asarray([work[m].mean() for _, m in b.groups]) if b.groups else np.zeros(0)
    cg = np.asarray(col_group, dtype=np.int64)
    cr = np.asarray(col_rep, dtype=np.int64)
    # rows: groups (assignment), then per rep: p_high, p_low, w_high, w_low
    rows = [cg, n_g + cr, n_g + n_r + cr, n_g + 2 * n_r + cr, n_g + 3 * n_r + cr]
    cols = [np.arange(n_y)] * 5
    vals = [np.ones(n_y), g_mean_p[cg], g_mean_p[cg], g_mean_w[cg], g_mean_w[cg]]
    reps_idx = np.arange(n_r)
    for k, sign in enumerate((-1.0, 1.0, -1.0, 1.0)):
        rows.append(n_g + k * n_r + reps_idx)
        cols.append(n_y + k * n_r + reps_idx)
        vals.append(np.full(n_r, sign))
    n_rows = n_g + 4 * n_r
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_cols))
    sizes = np.asarray([len(m) for _, m in b.groups], dtype=np.float64)
    pb, wb = options.potential_band, options.workload_band
    row_lower = np.concatenate([sizes, np.full(n_r, -INF), b.target_p * (1 - pb) - b.const_p,
                                np.full(n_r, -INF), b.target_w * (1 - wb) - b.const_w])  # fmt: skip
    row_upper = np.concatenate([sizes, b.target_p * (1 + pb) - b.const_p, np.full(n_r, INF),
                                b.target_w * (1 + wb) - b.const_w, np.full(n_r, INF)])  # fmt: skip
    integer = np.zeros(n_cols, dtype=np.bool_)
    integer[:n_y] = True
    return _Model(np.asarray(cost), np.zeros(n_cols), np.asarray(upper), integer, matrix, row_lower, row_upper,
                  cg, cr, sizes, g_mean_p, g_mean_w)  # fmt: skip


def _start(b: _Book, m: _Model, relaxed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The relaxation rounded per group as a feasible start, and the columns the restricted MIP keeps: those
    the relaxation or the rounding use, and every "stay with the owner" column."""
    n_y, n_r, n_g = m.n_y, len(b.reps), len(b.groups)
    y = _round_by_group(relaxed[:n_y], m.col_group, m.sizes)
    high_p, low_p = m.row_upper[n_g : n_g + n_r], m.row_lower[n_g + n_r : n_g + 2 * n_r]
    high_w, low_w = m.row_upper[n_g + 2 * n_r : n_g + 3 * n_r], m.row_lower[n_g + 3 * n_r :]
    load_p = np.bincount(m.col_rep, weights=y * m.g_mean_p[m.col_group], minlength=n_r)
    load_w = np.bincount(m.col_rep, weights=y * m.g_mean_w[m.col_group], minlength=n_r)
    slack = [load_p - high_p, low_p - load_p, load_w - high_w, low_w - load_w]
    start = np.concatenate([y, *(np.maximum(x, 0.0) for x in slack)])
    keep = np.ones(len(m.cost), dtype=np.bool_)
    if not b.exact:  # small (exact) models keep every column, so the MIP's own bound is valid
        stays = np.asarray([b.groups[g][0] == r for g, r in zip(m.col_group, m.col_rep, strict=True)], dtype=np.bool_)
        keep[:n_y] = (relaxed[:n_y] > 1e-9) | (y > 0) | stays
    return start, keep


def _solve(b: _Book, m: _Model, options: RebalanceOptions, started: float) -> MipOutcome:
    """LP relaxation → rounded start → MIP on the kept columns; the gap against a valid lower bound."""
    bounds = (m.cost, m.lower, m.upper)
    relaxed = solve_mip(
        *bounds, np.zeros(len(m.cost), dtype=np.bool_), m.matrix, m.row_lower, m.row_upper,
        time_limit=0.5 * options.time_limit, mip_rel_gap=options.mip_rel_gap,
    )  # fmt: skip
    keep = np.ones(len(m.cost), dtype=np.bool_)
    start: np.ndarray | None = None
    if relaxed.feasible:
        start, keep = _start(b, m, relaxed.values)
    cols_kept = np.flatnonzero(keep)
    restricted = solve_mip(
        m.cost[keep], m.lower[keep], m.upper[keep], m.integer[keep], m.matrix[:, cols_kept], m.row_lower,
        m.row_upper, time_limit=max(1.0, 0.8 * (options.time_limit - (time.perf_counter() - started))),
        mip_rel_gap=options.mip_rel_gap, start=start[keep] if start is not None else None,
    )  # fmt: skip
    full = np.zeros(len(m.cost))
    full[cols_kept] = restricted.values
    # a valid lower bound: the relaxation's, or the MIP's own when no column was dropped
    bound = relaxed.objective if relaxed.feasible else -math.inf
    if keep.all() and restricted.feasible:
        bound = max(bound, restricted.bound)
    gap = (restricted.objective - bound) / max(abs(restricted.objective), 1e-9) if restricted.feasible else math.inf
    return MipOutcome(
        values=full, status=restricted.status, objective=restricted.objective, bound=bound, gap=max(gap, 0.0),
        seconds=relaxed.seconds + restricted.seconds, feasible=restricted.feasible,
    )  # fmt: skip


def _assign(b: _Book, m: _Model, outcome: MipOutcome) -> dict[int, int]:
    """Account → rep after the solve: each group's accounts dealt to its reps in potential order."""
    n_y = m.n_y
    values = np.rint(outcome.values[:n_y]).astype(np.int64) if outcome.feasible else np.zeros(n_y, dtype=np.int64)
    per_group: dict[int, dict[int, int]] = defaultdict(dict)
    for j in np.flatnonzero(values > 0):
        per_group[int(m.col_group[j])][int(m.col_rep[j])] = int(values[j])
    after: dict[int, int] = {}
    for g, (owner, members) in enumerate(b.groups):
        counts = per_group.get(g) or ({owner: len(members)} if owner is not None else {})
        if sum(counts.values()) != len(members):  # no feasible solution: keep the owner
            counts = {owner: len(members)} if owner is not None else {b.by_segment[b.book.segment[members[0]]][0]: 1}
        after.update(_interleave(members, counts, b.book.potential))
    return after


def rebalance(
    book: AccountBook, reps: list[RepInput], locked: set[str], options: RebalanceOptions | None = None
) -> RebalanceOutcome:
    """Accounts to the segment's AEs within bands, moving as little potential as may be (see the module doc)."""
    options = options or RebalanceOptions()
    started = time.perf_counter()
    prepared = _prepare(book, reps, locked, options)
    model = _model(prepared, options)
    outcome = _solve(prepared, model, options, started)
    return _report(prepared, _assign(prepared, model, outcome), outcome, options, started, model)


def _loads(owner: list[int | None] | dict[int, int], b: _Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(potential, workload, accounts) per rep under an assignment of account → rep index."""
    n_r = len(b.reps)
    pot, work, count = np.zeros(n_r), np.zeros(n_r), np.zeros(n_r, dtype=np.int64)
    pairs = owner.items() if isinstance(owner, dict) else enumerate(owner)
    for a, r in pairs:
        if r is not None:
            pot[r] += b.book.potential[a]
            work[r] += b.book.workload[a]
            count[r] += 1
    return pot, work, count


def _moves(b: _Book, after: dict[int, int]) -> list[AccountMove]:
    book, moves = b.book, []
    for a, new in after.items():
        if new != b.before_owner[a]:
            moves.append(
                AccountMove(
                    account_id=book.account_id[a],
                    name=book.name[a],
                    segment=book.segment[a],
                    from_owner=book.owner_id[a],
                    to_owner=b.reps[new].user_id,
                    potential=float(book.potential[a]),
                    forced=b.before_owner[a] is None,
                )
            )
    return sorted(moves, key=lambda m: (-m.potential, m.account_id))


def _balances(b: _Book, after: dict[int, int], options: RebalanceOptions) -> list[RepBalance]:
    pb, wb, nb = _loads(b.before_owner, b)
    pa, wa, na = _loads(after, b)
    tp, tw, bp, bw = b.target_p, b.target_w, options.potential_band, options.workload_band
    return [
        RepBalance(
            user_id=r.user_id,
            name=r.name,
            segment=r.segment,
            ramp_factor=r.ramp_factor,
            target_potential=float(tp[i]),
            potential_before=float(pb[i]),
            potential_after=float(pa[i]),
            target_workload=float(tw[i]),
            workload_before=float(wb[i]),
            workload_after=float(wa[i]),
            accounts_before=int(nb[i]),
            accounts_after=int(na[i]),
            within_band_before=_within(pb[i], tp[i], bp) and _within(wb[i], tw[i], bw),
            within_band_after=_within(pa[i], tp[i], bp) and _within(wa[i], tw[i], bw),
        )
        for i, r in enumerate(b.reps)
    ]


def _report(
    b: _Book, after_owner: dict[int, int], outcome: MipOutcome, options: RebalanceOptions, started: float, m: _Model
) -> RebalanceOutcome:
    # accounts the solve did not deal stay with their owner (accounts without one are not dealt)
    final: dict[int, int] = {}
    for a, owner in enumerate(b.before_owner):
        rep = after_owner.get(a, owner)
        if rep is not None:
            final[a] = rep
    return RebalanceOutcome(
        reps=_balances(b, final, options),
        moves=_moves(b, final),
        assignment={b.book.account_id[a]: b.reps[r].user_id for a, r in sorted(final.items())},
        status=outcome.status,
        objective=outcome.objective,
        bound=outcome.bound,
        gap=outcome.gap if math.isfinite(outcome.gap) else 1.0,
        seconds=time.perf_counter() - started,
        solve_seconds=outcome.seconds,
        formulation="exact: one binary per account and rep" if b.exact else "tiered: groups of owner × potential tier",
        variables=len(m.cost),
        constraints=m.matrix.shape[0],
        skipped_accounts=b.skipped,
    )  # fmt: skip
