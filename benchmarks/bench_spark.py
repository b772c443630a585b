"""Benchmark: the same answers from DuckDB and from Spark (local mode), with the cost of each.

A demo company of N opportunities is ingested into a DuckDB store (or ``--store`` reuses one). The script
then opens a copy of it as a Spark store (``saleslead.store.spark``: the facts published as Parquet and
read by Spark) and computes on both, timing each: stage conversion, days in stage and cycle length by
segment, coverage of the quarter by segment, the forecast's deal book, and (``--forecast``) the
quarter's forecast by segment. Every answer is compared field for field; the DuckDB run is the baseline
measured in the same run (Spark seconds / DuckDB seconds).

    nice python benchmarks/bench_spark.py --opportunities 1000000 --workdir /tmp/bench-spark [--forecast]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.panel import DealBook, load_book
from saleslead.forecast.schemas import ForecastRequest
from saleslead.funnel import cycle_length, stage_conversion, stage_durations
from saleslead.periods import Period
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.answers import Shelf
from saleslead.store.spark import SparkStore
from saleslead.targets.coverage import compute_coverage, quota_targets

TODAY = date(2026, 11, 24)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ensure_store(path: Path, opportunities: int) -> float:
    """The DuckDB store of the demo company (made when missing); seconds spent making it."""
    if path.exists():
        return 0.0
    start = time.perf_counter()
    export = path.parent / f"export-{opportunities}"
    if not (export / "User.csv").exists():
        generate(export, DemoConfig(opportunities=opportunities, seed=3, start=date(2023, 1, 1), end=TODAY))
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=export))
    return time.perf_counter() - start


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, DealBook):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(DealBook))
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if hasattr(a, "model_dump"):
        return bool(a.model_dump() == b.model_dump())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def measures(store: Store) -> dict[str, Callable[[], Any]]:
    period = Period.quarter_of(TODAY)
    return {
        "stage conversion by segment": lambda: stage_conversion(store, TODAY, ["segment"]),
        "days in stage by segment": lambda: stage_durations(store, TODAY, ["segment"]),
        "cycle length by segment": lambda: cycle_length(store, TODAY, ["segment"]),
        "coverage by segment": lambda: compute_coverage(
            store, period, TODAY, quota_targets(store, period), target_source="quota", settings=Settings()
        ),
        "deal book (forecast input)": lambda: load_book(store, TODAY),
    }


def forecast(seat: Seat, shelf: Path, scenarios: int) -> Any:
    seat.context.shelf = Shelf(shelf)  # each engine fits its own model: nothing read from the other's answers
    seat.settings = Settings(scenarios=scenarios)
    seat.clock = lambda: TODAY
    return seat.forecast(ForecastRequest(as_of=TODAY, by="segment"))


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-spark"))
    parser.add_argument("--store", type=Path, help="an existing DuckDB store to use (read, never written)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--forecast", action="store_true", help="also the quarter's forecast by segment")
    parser.add_argument("--scenarios", type=int, default=2_000)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = args.store or args.workdir / f"store-{args.opportunities}.duckdb"
    made = ensure_store(source, args.opportunities)
    duck = Store.open(source, read_only=True)
    print(
        f"store {source}: {duck.count('opportunities'):,} opportunities, {duck.count('history'):,} history rows"
        + (f" (made in {made:.0f} s)" if made else "")
    )
    print(f"load average before: {_load()}  (2 cores)")

    from pyspark.sql import SparkSession

    (session, started) = timed(
        lambda: (
            SparkSession.builder.master(args.master)
            .appName("saleslead-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", args.driver_memory)
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    )
    session.sparkContext.setLogLevel("ERROR")
    writer = args.workdir / "spark-writer.duckdb"
    for stale in (writer, Path(str(writer) + ".lake")):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    shutil.copy(source, writer)
    spark, published = timed(lambda: SparkStore.attach(session, writer))
    print(f"Spark session ({args.master}) started in {started:.1f} s; facts published to the lake in {published:.1f} s")

    rows = []
    for (label, on_duck), on_spark in zip(measures(duck).items(), measures(spark).values(), strict=True):
        a, duck_s = timed(on_duck)
        b, spark_s = timed(on_spark)
        rows.append((label, duck_s, spark_s, _same(a, b)))
    if args.forecast:
        duck.close()
        with open_seat(source, read_only=True) as seat:
            a, duck_s = timed(lambda: forecast(seat, args.workdir / "duck.shelf", args.scenarios))
        spark.close()
        with open_seat(f"spark://{args.master}?writer={writer}", read_only=True) as seat:
            b, spark_s = timed(lambda: forecast(seat, args.workdir / "spark.shelf", args.scenarios))
        rows.append(("forecast by segment (fit + simulate)", duck_s, spark_s, _same(a, b)))
        print(f"forecast {a.period}: P10 {a.total.p10:,.0f}  P50 {a.total.p50:,.0f}  P90 {a.total.p90:,.0f}")
    else:
        duck.close()
        spark.close()

    print(f"\n{'measure':<38} {'DuckDB s':>9} {'Spark s':>9} {'ratio':>7}  same answer")
    for label, duck_s, spark_s, same in rows:
        print(f"{label:<38} {duck_s:9.2f} {spark_s:9.2f} {spark_s / duck_s:7.1f}  {'yes' if same else 'NO'}")
    total_d, total_s = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'total':<38} {total_d:9.2f} {total_s:9.2f} {total_s / total_d:7.1f}")
    print(f"load average after: {_load()}")
    session.stop()
    if not all(r[3] for r in rows):
        raise SystemExit("the engines disagree")


if __name__ == "__main__":
    main()
