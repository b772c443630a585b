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

With ``--delta STORE`` it measures instead the weekly case (issue 14): a copy of STORE (a store that has
ingested this export) absorbs next week's full export, in which ``--changed`` of the deals (1 % by default)
have a new amount and close date. Printed: reading the files (not counted), the store's ingest of the delta
export with its new/changed/unchanged counts, the same export again (unchanged: nothing written, no ingest
recorded) and a week later with no deal changed; with ``--full`` also the full ingest of the same files into an
empty store beside DuckDB's raw store of them (ratio; it costs minutes at 1 M). Target: ≤ 5 s beyond reading the
files at 1 M deals.

    python benchmarks/bench_ingest.py --opportunities 1000000 [--workdir /tmp/bench]
    python benchmarks/bench_ingest.py --opportunities 1000000 --keep --delta /tmp/bench/base.duckdb [--full]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import duckdb
import pandas as pd

from saleslead.demo import DemoConfig, generate
from saleslead.funnel import state_as_of
from saleslead.ingest import read_export
from saleslead.ingest.canonical import CanonicalExport
from saleslead.store import IngestOutcome, Store


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


def delta_export(base: Path, out: Path, share: float) -> int:
    """``base`` a week later: ``share`` of the deals with a new amount and a close date a week later; the rest
    of the files the same (linked). Returns how many deals changed."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for csv in base.glob("*.csv"):
        if csv.name != "Opportunity.csv":
            os.link(csv, out / csv.name)
    every = max(1, round(1 / share))
    changed = f"hash(Id) % {every} = 0"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * REPLACE (
                CASE WHEN {changed} AND Amount <> '' THEN CAST(round(CAST(Amount AS DOUBLE) * 1.1) AS BIGINT)::VARCHAR
                     ELSE Amount END AS Amount,
                CASE WHEN {changed} AND CloseDate <> '' THEN strftime(CAST(CloseDate AS DATE) + 7, '%Y-%m-%d')
                     ELSE CloseDate END AS CloseDate,
                CASE WHEN {changed} THEN '2026-12-01T23:59:59.000Z' ELSE LastModifiedDate END AS LastModifiedDate)
            FROM read_csv('{base / "Opportunity.csv"}', header=true, all_varchar=true))
            TO '{out / "Opportunity.csv"}' (HEADER, FORCE_QUOTE *)"""
    )
    counted = con.execute(
        f"SELECT count(*) FROM read_csv('{base / 'Opportunity.csv'}', header=true, all_varchar=true) WHERE {changed}"
    ).fetchone()
    return int(counted[0]) if counted else 0


def timed_ingest(store_path: Path, export: CanonicalExport) -> tuple[float, IngestOutcome]:
    """One ingest into the store at ``store_path`` (opened and closed inside the timing: the commit counts)."""
    start = time.perf_counter()
    with Store.open(store_path) as store:
        outcome = store.ingest(export)
    return time.perf_counter() - start, outcome


def describe(outcome: IngestOutcome) -> str:
    return (
        f"deals new {outcome.opportunities_new:,}, changed {outcome.opportunities_updated:,}, unchanged "
        f"{outcome.opportunities_unchanged:,}; {outcome.history_added:,} events added; "
        f"report says unchanged: {outcome.unchanged}"
    )


def run_delta(export: Path, base_store: Path, workdir: Path, share: float, full: bool) -> None:
    """The weekly delta against a copy of ``base_store``, an unchanged export after it, and (with ``full``) the
    full ingest of the same files beside DuckDB's raw store of them."""
    delta = workdir / f"{export.name}-delta"
    changed = delta_export(export, delta, share)
    warm_cache(delta)
    store_path = workdir / "delta.duckdb"
    shutil.copy(base_store, store_path)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    canonical = read_export(delta, snapshot_at=datetime(2026, 12, 1, 23, 59, 59))
    read_s = time.perf_counter() - start
    reset_peak_rss()
    delta_s, outcome = timed_ingest(store_path, canonical)
    print(
        f"delta  {changed:,} of {canonical.opportunities.num_rows:,} deals changed ({share:.1%}): reading the files "
        f"{read_s:.2f} s (not counted); the store absorbs it in {delta_s:.2f} s (target ≤ 5 s); "
        f"{describe(outcome)}; peak RSS {peak_rss_gb():.2f} GB"
    )
    same_s, outcome = timed_ingest(store_path, canonical)
    print(f"same   the same export again: {same_s:.2f} s; {describe(outcome)}")
    later = replace(canonical, snapshot_at=canonical.snapshot_at + timedelta(days=7))
    later_s, outcome = timed_ingest(store_path, later)
    print(f"quiet  a week later, no deal changed (same files, later snapshot): {later_s:.2f} s; {describe(outcome)}")
    if full:
        stored_s = stored_floor_seconds(delta, workdir)
        store_path.unlink(missing_ok=True)
        reset_peak_rss()
        full_s, outcome = timed_ingest(store_path, canonical)
        print(
            f"full   the same files into an empty store: {full_s:.2f} s beyond reading (read {read_s:.2f} s), "
            f"{full_s + read_s:.2f} s in all; peak RSS {peak_rss_gb():.2f} GB; DuckDB's raw store of the files "
            f"{stored_s:.2f} s: ratio {stored_s / (full_s + read_s):.2f} (target ≥ 0.50); the delta costs "
            f"{delta_s / full_s:.3f}× the full store write"
        )
    store_path.unlink(missing_ok=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/saleslead-bench"))
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--keep", action="store_true", help="reuse an export already in the workdir")
    parser.add_argument("--delta", type=Path, help="a store holding this export: measure next week's delta on a copy")
    parser.add_argument("--changed", type=float, default=0.01, help="share of deals changed in the delta export")
    parser.add_argument("--full", action="store_true", help="with --delta: also the full ingest of the same files")
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
    if args.delta is not None:
        run_delta(export, args.delta, args.workdir, args.changed, args.full)
        return
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
