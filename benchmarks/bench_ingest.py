"""Benchmark: ingest and as-of reconstruction on a generated export, against same-run baselines.

Prints, for an export of N opportunities (several history rows each):
- the floor: DuckDB's bare ``read_csv`` count of the same files;
- a second, storing baseline: DuckDB's own ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` of every file into a
  fresh DuckDB file in one transaction (types sniffed, nothing validated, no history derived) — what any ingest
  that keeps the rows pays at least;
- saleslead's ingest (read + validate + derive history + write, one transaction): rows/s and ratio to the floor;
- as-of reconstruction of every opportunity (``state_as_of``, materialised to Arrow) against a plain pandas
  implementation of the same reconstruction;
- peak RSS of each phase (the high-water mark is reset before each): ingest and as-of in this process,
  the pandas baseline in a process of its own so its memory is not counted against saleslead.

Targets (issue 2): ingest ≥ 0.5 × the floor's speed; reconstruction of 1 M opportunities ≤ 5 s; peak RSS ≤ 4 GB.

    python benchmarks/bench_ingest.py --opportunities 1000000 [--workdir /tmp/bench]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import duckdb
import pandas as pd

from saleslead.demo import DemoConfig, generate
from saleslead.funnel import state_as_of
from saleslead.ingest import read_export
from saleslead.store import Store


def reset_peak_rss() -> None:
    """Start a new peak: Linux resets the high-water mark (VmHWM) when 5 is written to clear_refs."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_gb() -> float:
    """Peak resident memory of this process since the last reset (VmHWM; ru_maxrss where /proc is absent).

    ru_maxrss alone would not do for a phase: it never goes down, and a spawned process inherits its parent's.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def timed_pandas_state(folder: Path, as_of: date) -> tuple[int, float, float]:
    """Run in a fresh process: (opportunities, seconds, peak RSS in GB of that process)."""
    reset_peak_rss()
    start = time.perf_counter()
    rows = len(pandas_state(folder, as_of))
    return rows, time.perf_counter() - start, peak_rss_gb()


def warm_cache(folder: Path) -> None:
    """Read every file once, so no timed step pays for the disk (the first one would, and only it)."""
    for csv in sorted(folder.glob("*.csv")):
        with csv.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def floor_seconds(folder: Path) -> tuple[float, int]:
    """DuckDB's bare count of every file: the best of two runs."""
    con = duckdb.connect()
    best, rows = float("inf"), 0
    for _ in range(2):
        start = time.perf_counter()
        rows = 0
        for csv in sorted(folder.glob("*.csv")):
            query = f"SELECT count(*) FROM read_csv('{csv}', header=true, all_varchar=true)"
            counted = con.execute(query).fetchone()
            rows += int(counted[0]) if counted else 0
        best = min(best, time.perf_counter() - start)
    return best, rows


def stored_floor_seconds(folder: Path, workdir: Path) -> float:
    """DuckDB parsing every file into a table of a new database file, one transaction, nothing else."""
    path = workdir / "floor-store.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    start = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for index, csv in enumerate(sorted(folder.glob("*.csv"))):
        con.execute(f"CREATE TABLE t{index} AS SELECT * FROM read_csv('{csv}', header=true)")
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    path.unlink(missing_ok=True)
    return seconds


def pandas_state(folder: Path, as_of: date) -> pd.DataFrame:
    """The same reconstruction, written plainly with pandas from the history file."""
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    h = pd.read_csv(
        folder / "OpportunityHistory.csv",
        usecols=["OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate", "ForecastCategory"],
    )
    h["CreatedDate"] = pd.to_datetime(h["CreatedDate"], utc=True).dt.tz_localize(None)
    h["CloseDate"] = pd.to_datetime(h["CloseDate"])
    h = h[h["CreatedDate"] < cutoff].sort_values(["OpportunityId", "CreatedDate"], kind="stable")
    g = h.groupby("OpportunityId", sort=False)
    h["prev_stage"] = g["StageName"].shift()
    h["prev_close"] = g["CloseDate"].shift()
    h["pushed"] = (h["CloseDate"] > h["prev_close"]).astype(int)
    moved = h[h["prev_stage"].isna() | (h["StageName"] != h["prev_stage"])]
    entered = moved.groupby("OpportunityId")["CreatedDate"].max().rename("stage_entered_at")
    last = g.tail(1).set_index("OpportunityId")
    out = last.join(entered)
    out["pushes"] = g["pushed"].sum()
    out["created"] = g["CreatedDate"].min()
    out["days_in_stage"] = (pd.Timestamp(as_of) - out["stage_entered_at"].dt.normalize()).dt.days
    out["age_days"] = (pd.Timestamp(as_of) - out["created"].dt.normalize()).dt.days
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/saleslead-bench"))
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--keep", action="store_true", help="reuse an export already in the workdir")
    args = parser.parse_args()

    export = args.workdir / f"export-{args.opportunities}"
    if not (args.keep and export.exists()):
        shutil.rmtree(export, ignore_errors=True)
        start = time.perf_counter()
        summary = generate(export, DemoConfig(opportunities=args.opportunities, seed=3, end=date(2026, 11, 24)))
        print(
            f"generated {summary.opportunities:,} opportunities, {summary.history_rows:,} history rows "
            f"in {time.perf_counter() - start:.1f} s"
        )
    warm_cache(export)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    floor_s, rows = floor_seconds(export)
    print(f"floor  duckdb read_csv count: {rows:,} rows in {floor_s:.2f} s = {rows / floor_s:,.0f} rows/s")
    stored_s = stored_floor_seconds(export, args.workdir)
    print(
        f"floor  duckdb read_csv into tables (one transaction, no validation, no history): {stored_s:.2f} s = "
        f"{rows / stored_s:,.0f} rows/s"
    )

    store_path = args.workdir / "bench.duckdb"
    store_path.unlink(missing_ok=True)
    reset_peak_rss()
    start = time.perf_counter()
    canonical = read_export(export)
    read_s = time.perf_counter() - start
    with Store.open(store_path) as store:
        outcome = store.ingest(canonical)
    ingest_s = time.perf_counter() - start
    del canonical
    ingest_rss = peak_rss_gb()
    print(
        f"ingest saleslead: {rows:,} rows in {ingest_s:.2f} s (read+validate {read_s:.2f} s, "
        f"store write {ingest_s - read_s:.2f} s) = {rows / ingest_s:,.0f} rows/s; "
        f"ratio to floor speed {floor_s / ingest_s:.2f} (target ≥ 0.50), to the storing baseline "
        f"{stored_s / ingest_s:.2f}; "
        f"history events stored {outcome.history_added:,}; peak RSS {ingest_rss:.2f} GB (target ≤ 4 GB)"
    )

    reset_peak_rss()
    with Store.open(store_path) as store:
        start = time.perf_counter()
        state = state_as_of(store, args.as_of).to_pyarrow()
        state_s = time.perf_counter() - start
    print(
        f"as-of  saleslead state_as_of({args.as_of}): {state.num_rows:,} opportunities in {state_s:.2f} s "
        f"(target ≤ 5 s); peak RSS {peak_rss_gb():.2f} GB"
    )
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        baseline_rows, pandas_s, pandas_rss = pool.submit(timed_pandas_state, export, args.as_of).result()
    print(
        f"as-of  pandas baseline (own process): {baseline_rows:,} opportunities in {pandas_s:.2f} s, "
        f"peak RSS {pandas_rss:.2f} GB; saleslead is {pandas_s / state_s:.1f}x faster"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
