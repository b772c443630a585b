"""Benchmark: the strategy scorecard on a large demo company.

    python benchmarks/bench_strategy.py [--store /tmp/strategy-bench/store.duckdb] [--opportunities 200000]

Generates and ingests the demo company once if the store does not exist, then times, as of the demo's
last day: the scorecard by segment × motion × channel, by product × industry, and a strategy check.
The same-run baseline pulls the point-in-time state to pandas and does only the decided-deal counts per
cell there (a fraction of the scorecard's work), so the ratio shows what the engine-side scorecard costs
against the cheapest honest alternative.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import pandas as pd

from saleslead.demo import DemoConfig, generate
from saleslead.funnel import state_as_of
from saleslead.seat import IngestRequest, open_seat
from saleslead.strategy.check import CheckRequest
from saleslead.strategy.decisions import DecideRequest
from saleslead.strategy.scorecard import ScoreRequest, months_back

TODAY = date(2026, 11, 24)


def ensure_store(path: Path, opportunities: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    export = path.parent / f"export-{opportunities}"
    if not (export / "User.csv").exists():
        generate(export, DemoConfig(opportunities=opportunities, seed=3, start=date(2023, 1, 1), end=TODAY))
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=export))


def timed(label: str, work: object) -> float:
    start = time.perf_counter()
    result = work() if callable(work) else None
    seconds = time.perf_counter() - start
    cells = getattr(result, "cells", None)
    print(f"{label:<44} {seconds:7.2f} s" + (f"  ({len(cells)} cells)" if cells is not None else ""))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=Path("/tmp/strategy-bench/store.duckdb"))
    parser.add_argument("--opportunities", type=int, default=200_000)
    args = parser.parse_args()
    ensure_store(args.store, args.opportunities)
    with open_seat(args.store, engagement=f"bench-{time.time_ns()}") as seat:
        seat.clock = lambda: TODAY
        print(f"store {args.store}: {seat.store.count('opportunities'):,} opportunities")
        t1 = timed("scorecard segment × motion × channel", lambda: seat.strategy_score(ScoreRequest()))
        timed("scorecard product × industry", lambda: seat.strategy_score(ScoreRequest(by=("product", "industry"))))
        decided_on = months_back(TODAY, 6)
        request = DecideRequest(
            author="bench",
            as_of=decided_on,
            do_not_compete=("SMB / New Business / Outbound SDR",),
            reason="benchmark: the biggest cell, so the check has work",
        )
        decision = seat.strategy_decide(request)
        timed("decide (scorecard + record)", lambda: seat.strategy_decide(request))
        print(f"  do-not-compete cells decided {decided_on}: {len(decision.do_not_compete)}")
        check = seat.strategy_check(CheckRequest(as_of=TODAY, remember=False))
        timed("check six months on", lambda: seat.strategy_check(CheckRequest(as_of=TODAY, remember=False)))
        print(f"  flags: {len(check.flags)}, open pipeline flagged ${check.pipeline_flagged:,.0f}")

        def baseline() -> None:
            state = state_as_of(seat.store, TODAY).to_pandas()
            since, until = pd.Timestamp(months_back(TODAY, 12)), pd.Timestamp(TODAY)
            closed = state[state.is_closed & (state.close_date > since) & (state.close_date <= until)]
            closed.groupby(["segment", "motion", "channel"]).agg(deals=("is_won", "size"), won=("is_won", "sum"))

        t0 = timed("baseline: state to pandas + decided counts", baseline)
        print(f"scorecard / baseline: {t1 / t0:.2f}×")


if __name__ == "__main__":
    main()
