"""Soak: 20 web readers + 1 writer against ``saleslead serve``, and 4 MCP clients over stdio, for a bounded time.

Everything runs on this machine (127.0.0.1 and stdio). Two phases on the same store, the same run:

1. **baseline** — the readers and MCP clients alone (no writer) for a quarter of the time;
2. **soak** — the same readers and clients plus one writer posting a call every ``--write-every`` seconds.

Printed per phase: requests/s, p50/p95/p99 latency of the web reads, the MCP tool calls and the writes, errors;
for the soak phase the writes acknowledged (a 200 with the recorded call), the writes found afterwards (``lost``
= acknowledged − found, must be 0) — read back twice: through the server, and from the store file itself by a
fresh reader after the server has stopped — and the server's resident memory, sampled every 5 s, as a curve
(growth in each half of the soak: a bounded cache levels off, a leak keeps climbing). The ratio line compares
soak with baseline.

    python benchmarks/bench_soak.py                    # short: 40 s in all
    nice -n 5 python benchmarks/bench_soak.py --seconds 300

The store is a generated demo company (``--opportunities``, default 3,000), made in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from mcp import Client, StdioServerParameters

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.schemas import CallListRequest, CallSubmitRequest
from saleslead.seat import IngestRequest, open_seat
from saleslead.web.security import ensure_token

TODAY = date(2026, 11, 24)
TOKEN = "soak-benchmark-token"
LOAD: list[float] = []
RSS: list[tuple[float, float]] = []  # (seconds since serve answered, MB)
READS = ("/api/status?as_of=2026-11-24", "/api/calls?period=2026-Q4", "/api/handoffs")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None = None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(seconds)
            else:
                self.errors.append(error)

    def line(self, label: str, seconds: float) -> str:
        done = np.array(self.latencies) * 1000
        if done.size == 0:
            return f"{label:<10} no request completed; errors {len(self.errors)}"
        p50, p95, p99 = np.percentile(done, [50, 95, 99])
        return (
            f"{label:<10} {done.size / seconds:8.1f} req/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"p99 {p99:7.1f} ms  n={done.size:,}  errors {len(self.errors)}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_store(folder: Path, opportunities: int) -> Path:
    store = folder / "soak.duckdb"
    config = DemoConfig(opportunities=opportunities, seed=5, start=date(2024, 1, 1), end=TODAY)
    generate(folder / "export", config)
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=folder / "export"))
        ensure_token(seat.records, TOKEN)
        # as a weekly run would have: the deal model and its calibration fitted once and kept on the answers
        # shelf, so every call the writer submits costs what a call costs in a running week (the simulation)
        seat.call_submit(CallSubmitRequest(node="total", period="2026-Q4", amount=999_999.0, author="soak"))
    return store


def web_reader(base: str, stop: threading.Event, tally: Tally, offset: int) -> None:
    turn = offset
    while not stop.is_set():
        path = READS[turn % len(READS)]
        turn += 1
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(base + path, timeout=120) as response:
                response.read()
            tally.add(time.perf_counter() - start)
        except (OSError, urllib.error.HTTPError) as error:
            tally.add(0.0, f"{path}: {error}")


def writer(base: str, stop: threading.Event, tally: Tally, every: float, accepted: list[float]) -> None:
    """A call every ``every`` seconds, each a new amount; an amount is acknowledged when the answer records it."""
    amount = 1_000_000.0
    while not stop.is_set():
        amount += 1.0
        body = json.dumps({"node": "total", "period": "2026-Q4", "amount": amount, "author": "soak"}).encode()
        request = urllib.request.Request(
            base + "/api/calls",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        )
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                answer = json.loads(response.read())
            if answer.get("amount") != amount:
                raise OSError(f"the answer does not record the call: {str(answer)[:200]}")
            tally.add(time.perf_counter() - start)
            accepted.append(amount)
        except (OSError, urllib.error.HTTPError) as error:
            tally.add(0.0, f"write: {error}")
        stop.wait(every)


async def mcp_client(store: Path, seconds: float, tally: Tally) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "saleslead.mcp_server"],
        env={**os.environ, "SALESLEAD_STORE": str(store)},
    )
    async with Client(params) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            result = await client.call_tool("pipeline_status", {"as_of": TODAY.isoformat()})
            if result.is_error:
                tally.add(0.0, json.dumps(result.structured_content)[:200])
            else:
                tally.add(time.perf_counter() - start)


def mcp_clients(store: Path, seconds: float, tally: Tally, count: int) -> threading.Thread:
    async def all_clients() -> None:
        await asyncio.gather(*(mcp_client(store, seconds, tally) for _ in range(count)))

    thread = threading.Thread(target=lambda: asyncio.run(all_clients()))
    thread.start()
    return thread


def phase(
    base: str, store: Path, seconds: float, args: argparse.Namespace, write: bool, server: int, born: float
) -> tuple[Tally, Tally, Tally, list[float]]:
    stop = threading.Event()
    web, mcp, writes = Tally(), Tally(), Tally()
    accepted: list[float] = []
    readers = [threading.Thread(target=web_reader, args=(base, stop, web, i)) for i in range(args.readers)]
    if write:
        readers.append(threading.Thread(target=writer, args=(base, stop, writes, args.write_every, accepted)))
    clients = mcp_clients(store, seconds, mcp, args.mcp)
    for thread in readers:
        thread.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # the machine's load (1-minute average) and serve's memory, every 5 s
        LOAD.append(os.getloadavg()[0])
        RSS.append((time.monotonic() - born, rss_mb(server)))
        time.sleep(min(5.0, max(0.0, end - time.monotonic())))
    stop.set()
    for thread in readers:
        thread.join()
    clients.join()
    return web, mcp, writes, accepted


def _load(samples: list[float]) -> str:
    if not samples:
        return "load average not sampled"
    return f"load average (1 min) {min(samples):.1f}–{max(samples):.1f}, mean {np.mean(samples):.1f}"


def _memory(samples: list[tuple[float, float]], soak_from: float) -> list[str]:
    """serve's RSS as a curve (about ten points) and the growth in each half of the soak phase."""
    if not samples:
        return ["serve memory not sampled"]
    step = max(1, len(samples) // 10)
    curve = ", ".join(f"{t:.0f} s {mb:.0f}" for t, mb in [*samples[::step], samples[-1]])
    soak = [mb for t, mb in samples if t >= soak_from]
    lines = [f"serve memory (RSS, MB, every 5 s): {curve}"]
    if len(soak) >= 4:
        half = len(soak) // 2
        lines.append(
            f"growth during soak: first half {soak[half] - soak[0]:+.0f} MB, "
            f"second half {soak[-1] - soak[half]:+.0f} MB (from {soak[0]:.0f} to {soak[-1]:.0f} MB)"
        )
    return lines


def stored_calls(store: Path) -> set[float]:
    """The soak's calls as the store file holds them, read by a fresh reader (not the server)."""
    with open_seat(store, read_only=True) as seat:
        calls = seat.call_list(CallListRequest(period="2026-Q4", node="total", history=True)).calls
    return {c.amount for c in calls if c.author == "soak"}


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(base + READS[0], timeout=120).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("serve did not start") from None
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=32.0, help="soak phase length (baseline: a quarter)")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--mcp", type=int, default=4)
    parser.add_argument("--write-every", type=float, default=3.0, help="seconds between the writer's calls")
    parser.add_argument("--opportunities", type=int, default=3_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="saleslead-soak-"))
    store = make_store(folder, args.opportunities)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "saleslead", "serve", "--store", str(store), "--port", str(port), "--no-warm"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(base)
        born = time.monotonic()
        RSS.append((0.0, rss_mb(server.pid)))
        base_web, base_mcp, _, _ = phase(base, store, args.seconds / 4, args, False, server.pid, born)
        base_load = list(LOAD)
        LOAD.clear()
        soak_from = time.monotonic() - born
        web, mcp, writes, accepted = phase(base, store, args.seconds, args, True, server.pid, born)
        RSS.append((time.monotonic() - born, rss_mb(server.pid)))
        with urllib.request.urlopen(base + "/api/calls?period=2026-Q4&node=total&history=true", timeout=300) as r:
            served = {c["amount"] for c in json.loads(r.read())["calls"] if c.get("author") == "soak"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
            stopped = "serve stopped on SIGTERM"
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=60)
            stopped = "serve did NOT stop within 60 s of SIGTERM (killed)"
    in_file = stored_calls(store)
    lost_served = len([a for a in accepted if a not in served])
    lost = len([a for a in accepted if a not in in_file])
    print(
        f"soak: {args.readers} web readers + 1 writer (a call every {args.write_every:g} s) against serve, "
        f"{args.mcp} MCP clients (stdio); {args.opportunities:,}-deal demo store; {os.cpu_count()} cores"
    )
    print(f"baseline (no writer, {args.seconds / 4:.0f} s): {_load(base_load)}")
    print("  " + base_web.line("web reads", args.seconds / 4))
    print("  " + base_mcp.line("mcp calls", args.seconds / 4))
    print(f"soak (with the writer, {args.seconds:.0f} s): {_load(LOAD)}")
    print("  " + web.line("web reads", args.seconds))
    print("  " + mcp.line("mcp calls", args.seconds))
    print("  " + writes.line("writes", args.seconds))
    print(
        f"  writes acknowledged {len(accepted)}; read back through serve {len(accepted) - lost_served}, "
        f"from the store file after serve stopped {len(accepted) - lost}; lost {lost}"
    )
    for line in _memory(RSS, soak_from):
        print("  " + line)
    if base_web.latencies and web.latencies:
        ratio = np.percentile(web.latencies, 95) / np.percentile(base_web.latencies, 95)
        print(f"  web p95 with the writer ÷ without: {ratio:.2f}×")
    for label, tally in (("web", web), ("mcp", mcp), ("writes", writes)):
        for error in tally.errors[:3]:
            print(f"  {label} error: {error}")
    print(f"  {stopped}")


if __name__ == "__main__":
    main()
