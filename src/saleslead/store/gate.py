"""Many readers, one writer, across processes, over one DuckDB file.

DuckDB lets one process open a file read-write, or many open it read-only, never both. Three rules make
that safe for a running ``saleslead serve``, MCP clients and a weekly ``run``/``ingest`` together:

* **Writers queue at a gate.** A read-write open first takes an exclusive lock on ``<store>.gate`` (an
  ``flock``), waiting up to :func:`wait_seconds` and saying whom it waits for; it holds the gate until it
  closes. A second writer therefore waits its turn instead of failing.
* **Readers pass the gate.** A read-only open takes and drops the same lock: while a writer waits or writes,
  new readers wait behind it, so a stream of readers can never starve the writer.
* **Every open retries a held file.** The engine's own lock (a reader still finishing, a writer from an
  older saleslead) is retried with backoff for the same bounded time, then reported with the holder's pid.

Readers see the store as it was before a write or after it, never between: a write is one transaction,
and no reader has the file open while it runs. Within one process the gate is taken once per file
(re-entrant), since DuckDB shares one database instance between a process's connections.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from saleslead.errors import StoreError

__all__ = ["Gate", "open_with_retry", "wait_seconds"]

T = TypeVar("T")
_HELD: dict[str, tuple[IO[str], int]] = {}
_GUARD = threading.Lock()


def wait_seconds() -> float:
    """How long an open waits for a busy store: ``$SALESLEAD_LOCK_WAIT`` seconds, default 120."""
    try:
        return max(0.0, float(os.environ.get("SALESLEAD_LOCK_WAIT", "120")))
    except ValueError:
        return 120.0


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return f" ({text})" if text else ""


class Gate:
    """The writer gate of one store file (see the module's rules)."""

    def __init__(self, store: Path) -> None:
        self.path = store.with_name(store.name + ".gate")
        self.key = str(self.path.resolve())
        self._taken = False

    def _acquire(self, what: str) -> IO[str]:
        handle = self.path.open("a+")
        deadline = time.monotonic() + wait_seconds()
        pause = 0.01
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(handle)
                    handle.close()
                    raise StoreError(
                        f"the store is busy: another saleslead process is writing it{holder}; "
                        f"waited {wait_seconds():.0f} s to {what}",
                        hint="try again when it has finished (a weekly run or an ingest), or wait longer with "
                        "SALESLEAD_LOCK_WAIT=<seconds>",
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.25)

    def enter_writer(self, label: str) -> None:
        """Hold the gate until :meth:`leave_writer` (re-entrant within the process)."""
        with _GUARD:
            held = _HELD.get(self.key)
            if held is not None:
                _HELD[self.key] = (held[0], held[1] + 1)
                self._taken = True
                return
        handle = self._acquire("write")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {label}")
        handle.flush()
        with _GUARD:
            _HELD[self.key] = (handle, 1)
        self._taken = True

    def leave_writer(self) -> None:
        if not self._taken:
            return
        self._taken = False
        with _GUARD:
            handle, count = _HELD[self.key]
            if count > 1:
                _HELD[self.key] = (handle, count - 1)
                return
            del _HELD[self.key]
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    def pass_reader(self) -> None:
        """Wait while a writer holds or waits for the gate, then go on (nothing is held)."""
        with _GUARD:
            if self.key in _HELD:
                return
        if not self.path.exists():
            return
        handle = self._acquire("read")
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _is_lock_error(error: Exception) -> bool:
    text = str(error).lower()
    return "could not set lock" in text or "conflicting lock" in text


def open_with_retry(connect: Callable[[], T], where: str) -> T:
    """``connect()``, retried with backoff while the engine says another process holds the file."""
    deadline = time.monotonic() + wait_seconds()
    pause = 0.01
    while True:
        try:
            return connect()
        except Exception as error:
            if not _is_lock_error(error):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the store at {where} is busy: {str(error).splitlines()[0]}",
                    hint="another process holds it; try again when it has finished, or wait longer with "
                    "SALESLEAD_LOCK_WAIT=<seconds>",
                ) from error
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
