"""Benchmark the roster's two integer programs at the sizes the issue names.

* rebalance: 10,000 accounts × 100 AEs (3 segments, skewed books, lognormal potential, 5% locked), solved
  with a 60 s limit and a 1% relative gap; the same-run baseline is a greedy rebalance (each account
  stays unless its owner is over band, then goes to the rep furthest below target) timed on the same data;
* hiring plan: 3 segments × 24 months of integer hires on the demo-sized roster.

Run: ``python benchmarks/bench_roster.py [--accounts 10000 --reps 100]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from saleslead.evidence import Evidence
from saleslead.roster.capacity import simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.hiring import HiringWindow, SegmentInputs, plan_hires
from saleslead.roster.potential import AccountBook
from saleslead.roster.ramp import RampPoint, RampProfile
from saleslead.roster.rebalance import RebalanceOptions, RepInput, rebalance
from saleslead.roster.seasonality import flat_season

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")


def synthetic_book(accounts: int, reps: int, seed: int) -> tuple[AccountBook, list[RepInput], set[str]]:
    rng = np.random.default_rng(seed)
    rep_seg = [SEGMENTS[i % 3] for i in range(reps)]
    rep_list = [RepInput(f"rep{i:03d}", None, rep_seg[i], float(min(1.0, rng.uniform(0.2, 1.6)))) for i in range(reps)]
    seg = [SEGMENTS[int(x)] for x in rng.choice(3, accounts, p=[0.5, 0.3, 0.2])]
    by_seg = {s: [r.user_id for r in rep_list if r.segment == s] for s in SEGMENTS}
    # skewed books: owners drawn with Zipf-like weights so some reps hold far more than others
    owner = []
    for s in seg:
        ids = by_seg[s]
        w = 1.0 / np.arange(1, len(ids) + 1) ** 0.7
        owner.append(ids[int(rng.choice(len(ids), p=w / w.sum()))])
    potential = rng.lognormal(11, 1.2, accounts)
    workload = 1 + rng.poisson(1.5, accounts).astype(np.float64)
    ids = [f"acc{i:05d}" for i in range(accounts)]
    book = AccountBook(ids, [None] * accounts, seg, list(owner), potential, workload, np.ones(accounts, dtype=bool))
    locked = {ids[i] for i in rng.choice(accounts, accounts // 20, replace=False)}
    return book, rep_list, locked


def greedy(book: AccountBook, reps: list[RepInput], band: float) -> tuple[float, int]:
    start = time.perf_counter()
    index = {r.user_id: i for i, r in enumerate(reps)}
    load = np.zeros(len(reps))
    for a in range(len(book)):
        load[index[book.owner_id[a] or ""]] += book.potential[a]
    target = np.zeros(len(reps))
    for s in SEGMENTS:
        ids = [i for i, r in enumerate(reps) if r.segment == s]
        f = np.asarray([max(reps[i].ramp_factor, 0.1) for i in ids])
        target[ids] = f / f.sum() * load[ids].sum()
    moved = 0
    for a in np.argsort(-book.potential):
        o = index[book.owner_id[a] or ""]
        if load[o] > target[o] * (1 + band):
            ids = [i for i, r in enumerate(reps) if r.segment == reps[o].segment]
            to = min(ids, key=lambda i: load[i] / target[i])
            if load[to] + book.potential[a] <= target[to] * (1 + band):
                load[o] -= book.potential[a]
                load[to] += book.potential[a]
                moved += 1
    within = float(np.mean(np.abs(load / target - 1) <= band + 1e-9))
    return time.perf_counter() - start, moved if within >= 0 else 0


def bench_rebalance(accounts: int, reps: int, exact_limit: int = 2_000) -> None:
    book, rep_list, locked = synthetic_book(accounts, reps, 7)
    baseline, _ = greedy(book, rep_list, 0.15)
    out = rebalance(
        book, rep_list, locked, RebalanceOptions(time_limit=60.0, mip_rel_gap=0.01, exact_limit=exact_limit)
    )
    before = sum(r.within_band_before for r in out.reps)
    after = sum(r.within_band_after for r in out.reps)
    spread_b = np.std([r.potential_before / r.target_potential for r in out.reps])
    spread_a = np.std([r.potential_after / r.target_potential for r in out.reps])
    print(
        f"rebalance {accounts:,} accounts × {reps} reps ({len(locked)} locked): {out.seconds:.2f} s "
        f"(solver {out.solve_seconds:.2f} s), status {out.status}, gap {out.gap:.4%}, {out.formulation}, "
        f"{out.variables:,} variables × {out.constraints:,} rows"
    )
    print(
        f"  reps within bands {before} → {after} of {reps}; sd(potential ÷ target) {spread_b:.3f} → {spread_a:.3f}; "
        f"{len(out.moves):,} accounts moved"
    )
    print(f"  baseline greedy on the same data: {baseline:.2f} s; MIP/greedy time ratio {out.seconds / baseline:.1f}")


def bench_hiring() -> None:
    config = RosterConfig()
    points = [
        RampPoint(tenure_month=m, factor=min(1.0, m / 6), default=min(1.0, m / 6), observed=None, rep_months=0)
        for m in range(1, 13)
    ]
    ramp = RampProfile(
        segment="x",
        points=points,
        reference_per_rep_month=0,
        reps=0,
        ramped_at_month=6,
        source="default",
        evidence=Evidence(method="bench", sample_size=0, thin=True),
    )
    inputs = [SegmentInputs(s, [12] * 20, ramp, 100_000.0, flat_season(), 60e6) for s in SEGMENTS]
    start = time.perf_counter()
    first = 2027 * 12
    solution = plan_hires(inputs, HiringWindow(first, first, first + 23, first + 2, 0.1, config))
    took = time.perf_counter() - start
    start = time.perf_counter()
    for s in inputs:
        simulate(
            s.segment, s.tenures, first, first + 23, solution[s.segment].hires, ramp, 100_000.0, flat_season(), config
        )
    sim = time.perf_counter() - start
    total = {s: sum(h.hires.values()) for s, h in solution.items()}
    reach = {s: "reachable" if h.reachable else f"out of reach ({h.limit})" for s, h in solution.items()}
    print(
        f"hiring plan 3 segments × 24 months: {took:.3f} s (fewest hires, exact), hires {total}, {reach}; "
        f"baseline one re-simulation of the 3 segments {sim:.4f} s; ratio {took / sim:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--exact-limit", type=int, default=2_000)
    args = parser.parse_args()
    bench_rebalance(args.accounts, args.reps, args.exact_limit)
    bench_hiring()


if __name__ == "__main__":
    main()
