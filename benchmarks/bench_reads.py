"""Benchmark: warm reads answered from the store's answers shelf, against the cold compute of the same run.

On a generated org of N opportunities (ingested once into ``WORKDIR/reads-N.duckdb``), as of its last day:

1. cold — each read computed from nothing in this process (a new seat, answers kept in memory only): the
   forecast of the quarter, coverage, stalls, the check of one submitted call;
2. the week materialised (what ``saleslead run`` adds after the cadence: this and next quarter, deal
   probabilities, coverage, stalls, scorecard, roster) — its time;
3. warm in process — a new seat on the store reads each answer from the shelf (best of three);
4. warm stored reads — :class:`saleslead.stored.StoredReads` in process (what the CLI and MCP try first for
   the forecast, coverage, stalls and call check: the answer's key by SQL on the DuckDB file, no seat), best
   of three;
5. warm MCP tools — the real MCP client in memory against the server, one tool call each;
6. warm end to end — ``python -m saleslead <command> --json`` in a new process: wall time and the CPU time
   of the process, beside two baselines measured in the same run: ``python -c pass`` (the interpreter's own
   start) and a new process that imports DuckDB, opens the store read-only and queries it (the floor of any
   process answering from the store);
7. with ``--pages``: every dashboard page drawn in Chromium (``saleslead serve`` in its own process, Debian's
   Chromium through Playwright), cold (its first visit on a fresh server) and warm (again), until every chart
   of the page is drawn.

Targets (issue 14): warm ≤ 0.3 s in process, ≤ 1 s from the CLI, ``--help`` ≤ 0.5 s; pages ≤ 2 s warm and
≤ 10 s cold at 100 k. The load average is printed before and after: on a shared machine every wall time moves
with it (CPU seconds much less).

    python benchmarks/bench_reads.py --opportunities 100000 [--workdir /tmp/saleslead-bench] [--keep] [--pages]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
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
from saleslead.stored import StoredReads
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


DUCKDB_FLOOR = (
    "import duckdb\ncon = duckdb.connect({store!r}, read_only=True)\n"
    "con.execute('SELECT count(*) FROM opportunities').fetchall()"
)


def run_process(argv: list[str]) -> tuple[float, float]:
    """Run a new process to its end: (wall seconds, CPU seconds it used)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


CHROMIUM = Path("/usr/bin/chromium")
DRAWN = (
    "() => document.querySelectorAll('.chart[data-figure]').length > 0 && "
    "document.querySelectorAll('.chart[data-figure]').length === document.querySelectorAll('.chart .plotly').length"
)


def draw_pages(store: Path) -> None:
    """Every dashboard page in Chromium: the first visit on a fresh ``saleslead serve`` (cold), then again (warm)."""
    from playwright.sync_api import sync_playwright

    from saleslead.web.context import PAGES

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "saleslead", "serve", "--store", str(store), "--port", str(port), "--no-warm"]
    started = time.perf_counter()
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
            tab = browser.new_page(viewport={"width": 1440, "height": 1000})
            tab.set_default_timeout(600_000)
            while True:
                try:
                    tab.goto(base + "/openapi.json")
                    break
                except Exception:
                    if server.poll() is not None or time.perf_counter() - started > 300:
                        raise SystemExit("saleslead serve did not start") from None
                    time.sleep(0.2)
            print(f"pages  server up in {time.perf_counter() - started:.1f} s (saleslead serve --no-warm)")
            for page in (p for p in PAGES if p.landed):
                url = f"{base}{page.path}?as_of={END.isoformat()}"
                times = []
                for _ in range(2):
                    start = time.perf_counter()
                    tab.goto(url)
                    tab.wait_for_function(DRAWN)
                    times.append(time.perf_counter() - start)
                print(
                    f"pages  {page.slug:<11} cold {times[0]:7.2f} s (target ≤ 10 s), warm {times[1]:6.2f} s "
                    "(target ≤ 2 s), every chart drawn"
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)


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
    parser.add_argument("--pages", action="store_true", help="also draw every dashboard page in Chromium")
    args = parser.parse_args()
    pages = args.pages
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
    stored_reads: dict[str, Callable[[StoredReads], object]] = {
        "forecast": lambda r: r.forecast(ForecastRequest(period=period, as_of=END)),
        "coverage": lambda r: r.coverage(CoverageRequest(period=period, as_of=END)),
        "stalls": lambda r: r.stalls(StallsRequest(as_of=END)),
        "call check": lambda r: r.call_check(CallCheckRequest(period=period, as_of=END)),
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

    for name, read in stored_reads.items():
        with StoredReads.open(store, clock=lambda: END) as reads:  # type: ignore[union-attr]
            if read(reads) is None:
                raise SystemExit(f"stored read {name}: no stored answer")
            seconds = timed(lambda reads=reads, read=read: read(reads), repeat=3)
        print(f"stored {name:<11} {seconds:8.3f} s in process, no seat (target ≤ 0.3 s); cold {cold[name]:.2f} s")

    python_start = run_process([sys.executable, "-c", "pass"])
    floor = run_process([sys.executable, "-c", DUCKDB_FLOOR.format(store=str(store))])
    print(f"base   python -c pass {python_start[0]:8.3f} s wall {python_start[1]:.3f} s CPU (the interpreter's start)")
    print(f"base   duckdb query   {floor[0]:8.3f} s wall {floor[1]:.3f} s CPU (import DuckDB, open the store, a query)")
    commands = {
        "forecast": ["forecast", "--period", period],
        "coverage": ["coverage", "--period", period],
        "stalls": ["stalls"],
        "call check": ["call", "check", "--period", period],
        "--help": ["--help"],
    }
    for name, argv in commands.items():
        extra = [] if name == "--help" else ["--as-of", END.isoformat(), "--store", str(store), "--json"]
        wall, cpu = run_process([sys.executable, "-m", "saleslead", *argv, *extra])
        target = "0.5" if name == "--help" else "1"
        base = f"; cold {cold[name]:.2f} s in process" if name in cold else ""
        print(
            f"cli    {name:<11} {wall:8.3f} s end to end (target ≤ {target} s), {cpu:.3f} s CPU; "
            f"{wall / floor[0]:.1f}× the DuckDB floor, {wall / python_start[0]:.1f}× python's start{base}"
        )
    if pages:
        draw_pages(store)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
