"""Readers never block the writer, with real processes: ``saleslead serve`` and CLI readers (the read-only path
MCP tools take) read while ``ingest`` writes; readers see the old state or the new one, never a mix; a reader
does not wait for a writer nor a writer for a reader; a second writer waits its turn; a writer that cannot get
the store in time says so and who holds it; a killed writer leaves the store whole.

Slow (real processes, a few minutes on a busy machine): ``pytest -m "not slow"`` leaves it out."""

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
pytestmark = pytest.mark.slow


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


@pytest.mark.slow
def test_serve_and_cli_readers_do_not_block_ingests_and_never_see_a_mix(store: Path, tmp_path: Path) -> None:
    port = free_port()
    server = cli("serve", "--store", str(store), "--port", str(port), "--no-warm")
    stop = threading.Event()
    seen: list[int] = []
    failures: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}/api/status?as_of=2024-06-30"
        deadline = time.monotonic() + 600
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
                    body = json.loads(urllib.request.urlopen(url, timeout=600).read())
                    seen.append(int(body["opportunities"]))
                except OSError as error:
                    failures.append(f"web: {error}")

        def cli_reader() -> None:
            while not stop.is_set():
                done = cli("status", "--store", str(store), "--as-of", "2024-06-30", "--json")
                out, err = done.communicate(timeout=600)
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
        results = [w.communicate(timeout=900) for w in writers]
        time.sleep(1.0)
        stop.set()
        for reader in readers:
            reader.join(timeout=900)
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
        out, _ = waiting.communicate(timeout=600)
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


def test_a_reader_does_not_wait_for_a_writer_nor_a_writer_for_a_reader(store: Path, tmp_path: Path) -> None:
    export = folder(tmp_path / "next", deals(60, "2024-06-02T00:00:00Z"), history="", users=USERS)
    with Store.open(store) as writing:  # this process is writing (a weekly run, say) and has changed its copy
        writing.remove_opportunities(["d0"])
        reader = cli(
            "status", "--store", str(store), "--as-of", "2024-06-30", "--json", env={"SALESLEAD_LOCK_WAIT": "0"}
        )
        out, err = reader.communicate(timeout=900)
        assert reader.returncode == 0, err[-1000:]
        assert json.loads(out)["opportunities"] == 50  # the store as it was: the write is not published yet
    with Store.open(store, read_only=True) as reading:  # this process reads, holding the file open
        writer = cli("ingest", str(export), "--store", str(store), "--json", env={"SALESLEAD_LOCK_WAIT": "0"})
        out, err = writer.communicate(timeout=900)
        assert writer.returncode == 0, err[-1000:]
        assert reading.count("opportunities") == 49  # the reader keeps the state it opened, whole
    with Store.open(store, read_only=True) as after:
        assert after.count("opportunities") == 60
        assert after.count("ingests") == 2
    assert sorted(p.name for p in tmp_path.glob("s.duckdb*")) == ["s.duckdb", "s.duckdb.gate"]


def test_a_reader_in_the_process_never_gets_the_replaced_file_again(store: Path) -> None:
    """DuckDB shares one database per path within a process: a reader arriving after a write waits for the
    process's readers of the replaced file to finish, then opens the new one."""
    first = Store.open(store, read_only=True)
    with Store.open(store) as writing:
        writing.remove_opportunities(["d0", "d1"])
    counts: list[int] = []

    def arrive() -> None:
        with Store.open(store, read_only=True) as second:
            counts.append(second.count("opportunities"))

    arriving = threading.Thread(target=arrive)
    arriving.start()
    arriving.join(timeout=0.5)
    assert arriving.is_alive()  # it waits while the old file is still read here
    assert first.count("opportunities") == 50
    first.close()
    arriving.join(timeout=60)
    assert counts == [48]


def test_a_killed_writer_leaves_the_store_whole(store: Path, tmp_path: Path) -> None:
    with Store.open(store, read_only=True) as earlier:
        before = json.dumps(earlier.ingests(), default=str)
    script = (
        "import os, signal\n"
        "from saleslead.store import Store\n"
        f"s = Store.open({str(store)!r})\n"
        "s.remove_opportunities(['d0', 'd1', 'd2'])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        timeout=900,
        check=False,
    )
    assert killed.returncode == -9
    assert list(tmp_path.glob("s.duckdb.writing-*"))  # its copy is left behind ...
    with Store.open(store, read_only=True) as after:
        assert after.count("opportunities") == 50
        assert json.dumps(after.ingests(), default=str) == before
    with Store.open(store) as next_writer:  # ... until the next writer removes it
        assert next_writer.count("opportunities") == 50
    assert not list(tmp_path.glob("s.duckdb.writing-*"))
