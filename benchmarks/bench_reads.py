"""Benchmark: warm reads answered from the store's answers shelf, against the cold compute of the same run.

On a generated org of N opportunities (ingested once into ``WORKDIR/reads-N.duckdb``), as of its last day:

1. cold — each read computed from nothing in this process (a new seat, answers kept in memory only): the
   forecast of the quarter, coverage, stalls, the check of one submitted call;
2. the week materialised (what ``saleslead run`` adds after the cadence: this and next quarter, deal
   probabilities, coverage, stalls, scorecard, roster) — its time;
3. warm in process — a new seat on the store reads each answer from the shelf (best of three);
4. warm MCP tools — the real MCP client in memory against the server, one tool call each (each opens the store);
5. warm end to end — ``python -m saleslead <command> --json`` in a new process, wall time.

Targets (issue 14): warm ≤ 0.3 s in process, ≤ 1 s from the CLI. The load average is printed before and
after: on a shared machine every figure moves with it.

    python benchmarks/bench_reads.py --opportunities 100000 [--workdir /tmp/saleslead-bench] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.schemas import CallCheckRequest, CallSubmitRequest, ForecastRequest, StallsRequest
from saleslead.mcp_server import build_server
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.store.answers import Shelf
from saleslead.targets.desk import CoverageRequest

END = date(2026, 11, 24)


def build(workdir: Path, opportunities: int, keep: bool) -> Path:
    store = workdir / f"reads-{opportunities}.duckdb"
    if keep and store.exists():
        return store
    export = workdir / f"reads-export-{opportunities}"
    start = time.perf_counter()
    generate(export, DemoConfig(opportunities=opportunities, seed=5, end=END))
    store.unlink(missing_ok=True)
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=export))
    print(f"built {opportunities:,} opportunities in {time.perf_counter() - start:.1f} s")
    return store


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def cold_seat(store: Path) -> Seat:
    seat = open_seat(store)
    seat.context.shelf = Shelf(None)  # answers in memory only: computed from nothing
    seat.clock = lambda: END
    return seat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/saleslead-bench"))
    parser.add_argument("--keep", action="store_true", help="reuse the store already built in the workdir")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store = build(args.workdir, args.opportunities, args.keep)
    shelf = Path(str(store) + ".answers")
    if shelf.exists():
        import shutil

        shutil.rmtree(shelf)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with open_seat(store) as seat:
        period = seat.period(as_of=END).name
    reads: dict[str, Callable[[Seat], object]] = {
        "forecast": lambda s: s.forecast(ForecastRequest(period=period, as_of=END)),
        "coverage": lambda s: s.coverage(CoverageRequest(period=period, as_of=END)),
        "stalls": lambda s: s.stalls(StallsRequest(as_of=END)),
        "call check": lambda s: s.call_check(CallCheckRequest(period=period, as_of=END)),
    }
    cold: dict[str, float] = {}
    for name, read in reads.items():
        if name == "call check":  # one call to check, submitted by a seat of its own (its fit not kept)
            with cold_seat(store) as seat:
                p50 = seat.forecast(ForecastRequest(period=period, as_of=END)).total.p50
                seat.call_submit(CallSubmitRequest(node="total", period=period, amount=p50, as_of=END, author="vp"))
        with cold_seat(store) as seat:
            cold[name] = timed(lambda seat=seat, read=read: read(seat))
        print(f"cold   {name:<11} {cold[name]:8.2f} s (computed in process, nothing kept)")

    with open_seat(store) as seat:
        seat.clock = lambda: END
        start = time.perf_counter()
        report = seat.materialise(END)
        reads["call check"](seat)  # the check of the call, kept too (the weekly run checks every call)
        week = time.perf_counter() - start
    print(f"week   materialised in {week:.2f} s: {report.computed} computed, {report.already_kept} already kept")

    with open_seat(store) as seat:
        seat.clock = lambda: END
        for name, read in reads.items():
            warm = timed(lambda seat=seat, read=read: read(seat), repeat=3)
            print(
                f"warm   {name:<11} {warm:8.3f} s in process (target ≤ 0.3 s); cold {cold[name]:.2f} s: "
                f"{cold[name] / warm:,.0f}× faster"
            )

    server = build_server(store, clock=lambda: END)
    tools: dict[str, dict[str, Any]] = {
        "forecast": {"period": period, "as_of": END.isoformat()},
        "coverage": {"period": period, "as_of": END.isoformat()},
        "stalls": {"as_of": END.isoformat()},
        "call_check": {"period": period, "as_of": END.isoformat()},
    }

    async def mcp_calls() -> dict[str, float]:
        out: dict[str, float] = {}
        async with Client(server) as client:
            for name, arguments in tools.items():
                start = time.perf_counter()
                result = await client.call_tool(name, arguments)
                out[name] = time.perf_counter() - start
                if result.is_error:
                    raise SystemExit(f"MCP {name} failed: {result.content}")
        return out

    for name, seconds in anyio.run(mcp_calls).items():
        base = cold[name.replace("_", " ")]
        print(f"mcp    {name:<11} {seconds:8.3f} s warm tool call (target ≤ 0.3 s); cold {base:.2f} s")

    commands = {
        "forecast": ["forecast", "--period", period],
        "coverage": ["coverage", "--period", period],
        "stalls": ["stalls"],
        "call check": ["call", "check", "--period", period],
        "--help": ["--help"],
    }
    for name, argv in commands.items():
        extra = [] if name == "--help" else ["--as-of", END.isoformat(), "--store", str(store), "--json"]
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "saleslead", *argv, *extra], check=True, capture_output=True)
        seconds = time.perf_counter() - start
        target = "0.5" if name == "--help" else "1"
        base = f"; cold {cold[name]:.2f} s in process" if name in cold else ""
        print(f"cli    {name:<11} {seconds:8.3f} s end to end, new process (target ≤ {target} s){base}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
