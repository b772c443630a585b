"""Benchmark: the same answers from DuckDB and from Spark (local mode), with the cost of each.

A demo company of N opportunities is generated and ingested into a DuckDB store once (kept in
``--workdir``; ``--store`` reuses any store). The script then opens a copy of it as a Spark store
(``saleslead.store.spark``: the facts published once as Parquet and read by Spark) and computes on both,
timing each: stage conversion, days in stage and cycle length by segment, coverage of the quarter by
segment, the forecast's deal book, and (``--forecast``) the quarter's forecast by segment (fit and
simulate). Every answer is compared field for field; the DuckDB run is the baseline measured in the same
run (Spark seconds / DuckDB seconds).

The cost of each answer: wall seconds, CPU seconds (this process, plus Spark's JVM for Spark) and the
peak resident memory of this process and of the JVM while it ran (sampled every 0.2 s).

Spark results come to Python through Arrow (the session sets ``spark.sql.execution.arrow.pyspark.enabled``;
a ``spark://`` URL can too): without it the deal book of a 1 M org (7 M events) comes back
row by row. At 1 M use ``--driver-memory 6g`` or more (the book's events pass through the driver).

    nice python benchmarks/bench_spark.py --opportunities 1000000 --workdir /tmp/bench-spark [--forecast]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psutil

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


class Cost:
    """Wall seconds, CPU seconds and peak RSS (this process, and Spark's JVM) of one piece of work."""

    def __init__(self) -> None:
        self.me = psutil.Process()

    def _jvm(self) -> psutil.Process | None:
        return next((p for p in self.me.children(recursive=True) if "java" in p.name()), None)

    def _cpu(self, proc: psutil.Process | None) -> float:
        if proc is None:
            return 0.0
        times = proc.cpu_times()
        return float(times.user + times.system)

    def measure(self, work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
        jvm = self._jvm()
        peaks = {"py": self.me.memory_info().rss, "jvm": jvm.memory_info().rss if jvm else 0}
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                for key, proc in (("py", self.me), ("jvm", jvm)):
                    if proc is not None:
                        with suppress(psutil.Error):
                            peaks[key] = max(peaks[key], proc.memory_info().rss)

        thread = threading.Thread(target=sample, daemon=True)
        cpu0 = self._cpu(self.me) + self._cpu(jvm)
        thread.start()
        try:
            value, wall = timed(work)
        finally:
            done.set()
            thread.join()
        cpu = self._cpu(self.me) + self._cpu(jvm) - cpu0
        return value, {"wall": wall, "cpu": cpu, "py_gb": peaks["py"] / 1e9, "jvm_gb": peaks["jvm"] / 1e9}


def _spark_session(master: str, driver_memory: str) -> Any:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("saleslead-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.maxResultSize", "0")  # the deal book's events come whole to the driver
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _row(label: str, duck: dict[str, float], spark: dict[str, float], same: bool) -> str:
    return (
        f"{label:<38} {duck['wall']:8.2f} {duck['cpu']:7.1f} {duck['py_gb']:6.2f}"
        f" {spark['wall']:8.2f} {spark['cpu']:7.1f} {spark['py_gb']:6.2f} {spark['jvm_gb']:6.2f}"
        f" {spark['wall'] / duck['wall']:7.1f}  {'yes' if same else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-spark"))
    parser.add_argument("--store", type=Path, help="an existing DuckDB store to use (read, never written)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--driver-memory", default="6g", help="Spark driver's heap (default 6g)")
    parser.add_argument("--forecast", action="store_true", help="also the quarter's forecast by segment")
    parser.add_argument("--scenarios", type=int, default=2_000)
    parser.add_argument("--skip", default="", help="comma-separated measures not to run (a prefix of the label)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = args.store or args.workdir / f"store-{args.opportunities}.duckdb"
    made = ensure_store(source, args.opportunities)
    duck = Store.open(source, read_only=True)
    print(
        f"store {source}: {duck.count('opportunities'):,} opportunities, {duck.count('history'):,} history rows"
        + (f" (generated and ingested in {made:.0f} s)" if made else ""),
        flush=True,
    )
    print(f"load average before: {_load()}  (2 cores)", flush=True)
    cost = Cost()
    session, started = timed(lambda: _spark_session(args.master, args.driver_memory))
    writer = args.workdir / "spark-writer.duckdb"
    for stale in (writer, Path(str(writer) + ".lake")):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    shutil.copy(source, writer)
    spark, published = cost.measure(lambda: SparkStore.attach(session, writer))
    print(
        f"Spark session ({args.master}, driver {args.driver_memory}) started in {started:.1f} s; facts published "
        f"to the lake (Parquet) in {published['wall']:.1f} s",
        flush=True,
    )
    print(
        f"\n{'':<38} {'------- DuckDB -------':>22} {'------------ Spark -----------':>31}\n"
        f"{'measure':<38} {'wall s':>8} {'CPU s':>7} {'py GB':>6} {'wall s':>8} {'CPU s':>7} {'py GB':>6}"
        f" {'JVM GB':>6} {'ratio':>7}  same answer",
        flush=True,
    )
    skipped = [p.strip() for p in args.skip.split(",") if p.strip()]
    rows = []
    for (label, on_duck), on_spark in zip(measures(duck).items(), measures(spark).values(), strict=True):
        if any(label.startswith(p) for p in skipped):
            continue
        a, duck_cost = cost.measure(on_duck)
        b, spark_cost = cost.measure(on_spark)
        rows.append((label, duck_cost, spark_cost, _same(a, b)))
        del a, b
        print(_row(*rows[-1]), flush=True)
    duck.close()
    spark.close()
    if args.forecast:
        with open_seat(source, read_only=True) as seat:
            a, duck_cost = cost.measure(lambda: forecast(seat, args.workdir / "duck.shelf", args.scenarios))
        with open_seat(f"spark://{args.master}?writer={writer}", read_only=True) as seat:
            b, spark_cost = cost.measure(lambda: forecast(seat, args.workdir / "spark.shelf", args.scenarios))
        rows.append(("forecast by segment (fit + simulate)", duck_cost, spark_cost, _same(a, b)))
        print(_row(*rows[-1]), flush=True)
        print(f"forecast {a.period}: P10 {a.total.p10:,.0f}  P50 {a.total.p50:,.0f}  P90 {a.total.p90:,.0f}")
    total_d, total_s = sum(r[1]["wall"] for r in rows), sum(r[2]["wall"] for r in rows)
    print(f"{'total wall seconds':<38} {total_d:8.2f} {'':>14} {total_s:8.2f} {'':>21} {total_s / total_d:7.1f}")
    print(f"load average after: {_load()}")
    session.stop()
    if not all(r[3] for r in rows):
        raise SystemExit("the engines disagree")


if __name__ == "__main__":
    main()
