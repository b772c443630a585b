"""Benchmark: the funnel core and measured coverage on a large demo company (target: ≤ 5 s for 1 M deals).

    python benchmarks/bench_funnel.py [--store /tmp/funnel-bench/store-1m.duckdb] [--opportunities 1000000]

Generates and ingests the demo company once if the store does not exist (that takes minutes at 1 M),
then times, as of the demo's last day: stage conversion by segment, days in stage by segment, cycle
length, and coverage of the current quarter by segment. Each measure reads the stored history itself
(no span or deal table is built first: the events carry ``valid_to``, ``stage_entered_at`` and the
deal's first amount/evidence, so every measure is a filter and an aggregation). The same-run baseline
is a plain pandas computation of the furthest-stage conversion from the history table pulled to memory.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import pandas as pd

from saleslead.demo import DemoConfig, generate
from saleslead.funnel import cycle_length, stage_conversion, stage_durations
from saleslead.periods import Period
from saleslead.seat import IngestRequest, open_seat
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.targets.coverage import compute_coverage, quota_targets

TODAY = date(2026, 11, 24)


def ensure_store(path: Path, opportunities: int) -> None:
    if path.exists():
        return
    export = path.parent / f"export-{opportunities}"
    if not (export / "User.csv").exists():
        generate(export, DemoConfig(opportunities=opportunities, seed=3, start=date(2023, 1, 1), end=TODAY))
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=export))


def pandas_baseline(store: Store) -> float:
    """Furthest open stage and outcome per deal, then conversion per stage — plain pandas."""
    start = time.perf_counter()
    con = store.backend.con
    hist = con.sql("select opportunity_id, stage from history").df()
    stages = con.sql("select name, stage_order, is_closed, is_won from stages").df()
    h = hist.merge(stages, left_on="stage", right_on="name")
    reached = h[~h.is_closed].groupby("opportunity_id").stage_order.max()
    won = h.groupby("opportunity_id").is_won.max()
    frame = pd.DataFrame({"reached": reached, "won": won}).fillna({"reached": -1})
    for k in sorted(stages[~stages.is_closed].stage_order):
        at = frame[(frame.reached >= k) | frame.won]
        _ = ((at.reached > k) | at.won).mean()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=Path("/tmp/funnel-bench/store-1m.duckdb"))
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    args = parser.parse_args()
    ensure_store(args.store, args.opportunities)
    store = Store.open(args.store, read_only=True)
    n = store.count("opportunities")
    h = store.count("history")
    print(f"store {args.store}: {n:,} opportunities, {h:,} history rows, as of {TODAY}")
    period = Period.quarter_of(TODAY)
    timings: dict[str, float] = {}

    def timed(label: str, work: object) -> object:
        start = time.perf_counter()
        result = work() if callable(work) else work
        timings[label] = time.perf_counter() - start
        return result

    timed("stage conversion by segment", lambda: stage_conversion(store, TODAY, ["segment"]))
    timed("days in stage by segment", lambda: stage_durations(store, TODAY, ["segment"]))
    timed("cycle length by segment", lambda: cycle_length(store, TODAY, ["segment"]))
    targets = quota_targets(store, period)
    cov = timed(
        "coverage by segment",
        lambda: compute_coverage(store, period, TODAY, targets, target_source="quota", settings=Settings()),
    )
    total = sum(timings.values())
    for label, seconds in timings.items():
        print(f"  {label:<32} {seconds:6.2f} s")
    print(f"  {'total':<32} {total:6.2f} s   (target ≤ 5 s)")
    baseline = pandas_baseline(store)
    print(
        f"baseline: plain pandas stage conversion alone {baseline:.2f} s; "
        f"funnel total / baseline = {total / baseline:.2f}"
    )
    print(
        f"coverage {period.name}: reported {cov.reported_coverage}, "  # type: ignore[attr-defined]
        f"required {cov.required_coverage}, real {cov.real_coverage}"  # type: ignore[attr-defined]
    )


if __name__ == "__main__":
    main()
