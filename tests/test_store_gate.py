"""The store's gate within one process: a write belongs to the context that opened it (its own further opens see
its copy; every other thread reads the published file and does not delay the publish), and closing a seat lets
go of the gate's file, so no other process waits for a writer that has finished."""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from saleslead.config import KEY, KIND
from saleslead.seat import IngestRequest, open_seat
from saleslead.store import Store
from saleslead.store.records import Records

from .test_harden_input import GOOD, HEAD, folder


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=folder(tmp_path / "export", HEAD + GOOD)))
    return path


def in_thread(work: contextvars.Context | None, action: object) -> list[object]:
    """``action()`` run on a new thread (in ``work``, a context handed over, else the thread's own); its result."""
    out: list[object] = []

    def run() -> None:
        out.append(action())  # type: ignore[operator]

    thread = threading.Thread(target=(lambda: work.run(run)) if work is not None else run)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    return out


def count_read(store: Path) -> tuple[bool, int]:
    with Store.open(store, read_only=True) as reading:
        return reading.read_only, reading.count("opportunities")


def gate_descriptors(store: Path) -> list[str]:
    gate = str(store) + ".gate"
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == gate:
                found.append(fd)
        except OSError:
            continue
    return found


def test_another_thread_reads_the_published_store_while_this_one_writes(store: Path) -> None:
    with Store.open(store) as writing:
        writing.remove_opportunities(["o1"])
        assert in_thread(None, lambda: count_read(store)) == [(True, 3)]  # the published file, read-only
        assert count_read(store) == (False, 2)  # the writing thread's own open joins its copy
        handed = contextvars.copy_context()  # as a server hands a request's context to its thread pool
        assert in_thread(handed, lambda: count_read(store)) == [(False, 2)]
    assert count_read(store) == (True, 2)
    assert not list(store.parent.glob("s.duckdb.writing-*"))


def test_a_reader_opened_elsewhere_during_a_write_does_not_delay_its_publish(store: Path) -> None:
    opened: list[Store] = []
    release = threading.Event()

    def hold() -> None:
        with Store.open(store, read_only=True) as reading:
            opened.append(reading)
            release.wait(timeout=120)

    holder = threading.Thread(target=hold)
    before = os.stat(store).st_ino
    try:
        with Store.open(store) as writing:
            writing.remove_opportunities(["o1", "o2"])
            holder.start()  # a request arriving while this one writes
            while not opened and holder.is_alive():
                release.wait(timeout=0.01)
        assert os.stat(store).st_ino != before  # published at the writer's close, the reader still open
        assert not list(store.parent.glob("s.duckdb.writing-*"))
        assert opened[0].count("opportunities") == 3  # the reader has the state it opened, whole
    finally:
        release.set()
        if holder.is_alive():
            holder.join(timeout=120)
    assert count_read(store) == (True, 1)


def test_a_second_writer_in_the_process_queues_at_the_gate(store: Path) -> None:
    with Store.open(store) as writing:
        writing.remove_opportunities(["o1"])
        other = threading.Thread(target=lambda: Store.open(store).close())
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive()  # it waits for this write to end instead of joining it
    other.join(timeout=120)
    assert not other.is_alive()
    assert count_read(store) == (True, 2)


def test_closing_a_seat_lets_go_of_the_gate(store: Path) -> None:
    seat = open_seat(store)
    assert len(gate_descriptors(store)) == 1
    seat.close()
    assert gate_descriptors(store) == []
    with open(str(store) + ".gate", "a+") as handle:  # another process could take the gate now
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    with open_seat(store, read_only=True) as reading:
        assert reading.store.read_only
        assert gate_descriptors(store) == []  # a reader never takes it


def test_a_seat_that_fails_to_open_lets_go_of_the_gate(store: Path) -> None:
    with Store.open(store) as writing:  # settings an older saleslead would not have written
        Records(writing, "default").put(KIND, KEY, {"scenarios": 1}, author="test")
    with pytest.raises(ValidationError):
        open_seat(store)
    assert gate_descriptors(store) == []
    assert not list(store.parent.glob("s.duckdb.writing-*"))
