"""Readers never block the writer, with real processes: ``saleslead serve`` and CLI readers (the read-only path
MCP tools take) read while ``ingest`` writes; readers see the old state or the new one, never a mix; a second
writer waits its turn; a writer that cannot get the store in time says so and who holds it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from saleslead.errors import StoreError
from saleslead.seat import IngestRequest, open_seat
from saleslead.store import Store

from .test_harden_input import HEAD, STAMP, USERS, folder

SRC = str(Path(__file__).resolve().parents[1] / "src")


def deals(count: int, stamp: str = STAMP) -> str:
    rows = "".join(
        f"d{i},Prospecting,2024-09-30,{100 + i},2024-01-01,false,false,u1,10,{stamp}\n" for i in range(count)
    )
    return HEAD + rows


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "saleslead", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=folder(tmp_path / "first", deals(50), history="", users=USERS)))
    return path


def test_serve_and_cli_readers_do_not_block_ingests_and_never_see_a_mix(store: Path, tmp_path: Path) -> None:
    port = free_port()
    server = cli("serve", "--store", str(store), "--port", str(port), "--no-warm")
    stop = threading.Event()
    seen: list[int] = []
    failures: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}/api/status?as_of=2024-06-30"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=30).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)

        def web_reader() -> None:
            while not stop.is_set():
                try:
                    body = json.loads(urllib.request.urlopen(url, timeout=60).read())
                    seen.append(int(body["opportunities"]))
                except OSError as error:
                    failures.append(f"web: {error}")

        def cli_reader() -> None:
            while not stop.is_set():
                done = cli("status", "--store", str(store), "--as-of", "2024-06-30", "--json")
                out, err = done.communicate(timeout=120)
                if done.returncode != 0:
                    failures.append(f"cli: {err[-300:]}")
                else:
                    seen.append(int(json.loads(out)["opportunities"]))

        readers = [threading.Thread(target=web_reader) for _ in range(3)] + [threading.Thread(target=cli_reader)]
        for reader in readers:
            reader.start()
        time.sleep(1.0)
        second = folder(tmp_path / "second", deals(80, "2024-06-02T00:00:00Z"), history="", users=USERS)
        third = folder(tmp_path / "third", deals(120, "2024-06-03T00:00:00Z"), history="", users=USERS)
        writers = [cli("ingest", str(path), "--store", str(store), "--json") for path in (second, third)]
        results = [w.communicate(timeout=300) for w in writers]
        time.sleep(1.0)
        stop.set()
        for reader in readers:
            reader.join(timeout=120)
        for writer, (_, err) in zip(writers, results, strict=True):
            assert writer.returncode == 0, err[-1000:]
    finally:
        stop.set()
        server.terminate()
        server.communicate(timeout=30)
    assert failures == []
    assert set(seen) <= {50, 80, 120}  # the old state or a new one, never between
    assert 50 in seen
    with Store.open(store, read_only=True) as after:
        assert after.count("opportunities") == 120
        assert after.count("ingests") == 3


def test_a_writer_that_cannot_get_the_store_in_time_names_the_holder(store: Path, tmp_path: Path) -> None:
    export = folder(tmp_path / "next", deals(60, "2024-06-02T00:00:00Z"), history="", users=USERS)
    with Store.open(store):  # this process holds the store for writing
        waiting = cli("ingest", str(export), "--store", str(store), "--json", env={"SALESLEAD_LOCK_WAIT": "1"})
        out, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 1
    error = json.loads(out)["error"]
    assert error["type"] == "StoreError"
    assert "busy" in error["message"]
    assert f"pid {os.getpid()}" in error["message"]
    assert "SALESLEAD_LOCK_WAIT" in error["hint"]
    with Store.open(store, read_only=True) as after:
        assert after.count("opportunities") == 50


def test_the_gate_is_reentrant_within_a_process(store: Path) -> None:
    with Store.open(store) as first, Store.open(store) as second:
        assert first.count("opportunities") == second.count("opportunities") == 50
    with pytest.raises(StoreError, match="no store"):
        Store.open(store.with_name("missing.duckdb"), read_only=True)
