"""Benchmark: ``saleslead demo`` — generate the demo company, ingest it, run the weekly cadence, brief — with the
fitted models and calibrations kept on the store's shelf, beside the same work computed cold in the same run.

Each case runs in a new process (as a user starts it) and prints its wall time, the CPU time of the process,
the number of logistic fits it made (the deal model's and each walk-forward cut's, counted where they are made)
and a digest of the briefing it printed:

1. cold — ``saleslead demo`` into a fresh folder and store: nothing kept (the baseline);
2. again — the same demo into the same store: the export is unchanged, so every fit is found (its briefing is
   the cadence's second turn, which reads the records the first kept — flags raised, hand-offs sent — so it is
   not compared with 1's);
3. next week — ``saleslead run --as-of +7 --ingest NEXT`` on that store, where NEXT is the export with a week of
   logged activity added after the demo's date: the store's state moves, and only the fits whose as-of date
   sees changed data are made again (the targets' defence looks back week by week: those dates are found);
4. next week cold — the same run on a copy of the store taken before 3, without its shelf: the baseline of 3.

The briefings of 3 and 4 must be identical (a kept fit is the fit). ``--keep``: leave the folders (and each
case's briefing) in ``--workdir``. Target (issue 14):
``saleslead demo`` ≤ 10 s. The load average is printed: wall times move with it, CPU seconds much less.

    python benchmarks/bench_demo.py [--opportunities 20000] [--as-of 2026-11-24] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def child(args: argparse.Namespace) -> None:
    """One demo (or with ``--ingest``, one weekly run) in this process: its fits and the briefing's digest."""
    from saleslead.briefing.weekly import briefing_markdown
    from saleslead.data.desk import DemoRequest
    from saleslead.forecast.model import FITS
    from saleslead.role.requests import RunRequest
    from saleslead.seat import open_seat

    as_of = date.fromisoformat(args.as_of)
    with open_seat(Path(args.folder) / "demo.duckdb") as seat:
        if args.ingest:
            briefing = briefing_markdown(seat.run(RunRequest(as_of=as_of, ingest=Path(args.ingest))))
        else:
            request = DemoRequest(
                out=Path(args.folder) / "export", opportunities=args.opportunities, seed=args.seed, as_of=as_of
            )
            briefing = seat.demo(request).briefing
    (Path(args.folder) / f"briefing-{as_of}-{len(list(Path(args.folder).glob('briefing-*')))}.md").write_text(briefing)
    digest = hashlib.sha256(briefing.encode()).hexdigest()[:16]
    print(json.dumps({"fits": FITS.fits, "briefing": digest, "lines": briefing.count("\n")}))


def next_week(export: Path, to: Path, as_of: date) -> Path:
    """The export a week on: a logged call on each of the week's days for the first 70 deals of the task log."""
    shutil.copytree(export, to)
    with (to / "Task.csv").open(newline="") as f:
        deals = list(dict.fromkeys(row["WhatId"] for row, _ in zip(csv.DictReader(f), range(5_000), strict=False)))
    with (to / "Task.csv").open("a", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        for i, deal in enumerate(deals[:70]):
            day = as_of + timedelta(days=1 + i % 7)
            writer.writerow([f"00TBENCHWEEK{i:06d}", deal, day.isoformat(), "Call", "Completed"])
    return to


def run_case(
    args: argparse.Namespace, folder: Path, as_of: date, ingest: Path | None = None
) -> dict[str, float | int | str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--folder", str(folder), "--as-of", as_of.isoformat(),
         "--opportunities", str(args.opportunities), "--seed", str(args.seed),
         *(["--ingest", str(ingest)] if ingest else [])],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-24")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true", help="leave the folders and briefings in --workdir")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ingest", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    as_of = date.fromisoformat(args.as_of)
    tmp = tempfile.mkdtemp(prefix="bench-demo-", dir=args.workdir)
    try:
        kept, fresh = Path(tmp) / "kept", Path(tmp) / "fresh"
        kept.mkdir()
        fresh.mkdir()
        print(f"saleslead demo, {args.opportunities:,} opportunities, seed {args.seed}, as of {as_of}; "
              f"load {', '.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip
        week = as_of + timedelta(days=7)
        results: dict[str, dict[str, float | int | str]] = {}

        def case(name: str, folder: Path, day: date, ingest: Path | None = None) -> None:
            r = results[name] = run_case(args, folder, day, ingest)
            print(f"  {name:36s} wall {r['wall']:6.1f} s  CPU {r['cpu']:6.1f} s  fits {r['fits']:3d}  "
                  f"briefing {r['briefing']} ({r['lines']} lines)", flush=True)  # fmt: skip

        case("1 demo, cold (baseline)", kept, as_of)
        case("2 demo again, same store", kept, as_of)
        shutil.copy(kept / "demo.duckdb", fresh / "demo.duckdb")  # the store, not its shelf
        export = next_week(kept / "export", Path(tmp) / "next-week", as_of)
        case("3 run next week, same store", kept, week, export)
        case("4 run next week, cold (baseline)", fresh, week, export)
        one, two, three, four = results.values()
        print(f"again/cold: CPU {float(two['cpu']) / float(one['cpu']):.2f}×, fits {two['fits']} vs {one['fits']}")
        print(f"next week kept/cold: CPU {float(three['cpu']) / float(four['cpu']):.2f}×, fits {three['fits']} vs "
              f"{four['fits']}, briefing identical: {three['briefing'] == four['briefing']}")  # fmt: skip
        print("target (issue 14): saleslead demo ≤ 10 s; load " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    finally:
        if not args.keep:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
