"""Many readers, one writer, across processes, over one DuckDB file.

DuckDB lets one process open a file read-write, or many processes open it read-only, never both at once. So a
writer never opens the store file itself, and readers never wait for a writer:

* **Writers queue at a gate.** A read-write open first takes an exclusive lock on ``<store>.gate`` (an
  ``flock``), waiting up to :func:`wait_seconds` and saying whom it waits for; it holds the gate until it
  closes. A second writer therefore waits its turn, bounded, instead of failing.
* **A writer works on a copy.** Holding the gate, it copies the store to ``<store>.writing-<pid>-<n>``, opens
  the copy, and when it closes checkpoints the copy and renames it over the store (one atomic rename). A writer
  that fails to open, or is killed, leaves the store exactly as it was; the next writer removes the leftover.
* **Readers pass no gate.** A read-only open opens the store file as it is at that moment, so it sees the store
  before a write or after it, never between, and a writer never waits for a reader. DuckDB shares one database
  per path between a process's connections: a reader that finds its process still reading a file that has since
  been replaced waits for those reads to end (bounded; they are short), so it never gets the old file again.
* **Within a write, opens nest.** While a call writes, its own further opens of the store (read-only ones too)
  use the same copy and see its changes; the copy is published when the outermost of them closes. "Its own"
  is the writing context (a :mod:`contextvars` context: the thread, or the task, that opened the writer, and
  the threads it hands its context to, as an async server's thread pool does). Every other open in the process
  is an ordinary reader of the published file, or a writer that queues at the gate like another process's.
* **Every open retries a held file.** The engine's own lock (a writer from an older saleslead working on the
  file in place) is retried with backoff for the same bounded time, then reported.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from saleslead.errors import StoreError

__all__ = ["Gate", "Lease", "copy_named", "open_with_retry", "wait_seconds"]

T = TypeVar("T")
_GUARD = threading.Lock()
_READS_ENDED = threading.Condition(_GUARD)
_COPIES = itertools.count(1)
_COPY_NAME = re.compile(r"\.writing-\d+-\d+")
#: In-process bookkeeping — writers: store key -> what the writing process holds; readers: store key ->
#: [inode of the file being read, open readers].
_HELD: dict[str, _Held] = {}
_READING: dict[str, list[int]] = {}
#: The writes the current context owns (entries of ``_HELD``; one that has left ``_HELD`` has ended).
_OWNED: ContextVar[tuple[_Held, ...]] = ContextVar("saleslead_store_writes", default=())


def wait_seconds() -> float:
    """How long an open waits for a busy store: ``$SALESLEAD_LOCK_WAIT`` seconds, default 120."""
    try:
        return max(0.0, float(os.environ.get("SALESLEAD_LOCK_WAIT", "120")))
    except ValueError:
        return 120.0


@dataclass
class _Held:
    handle: IO[str]
    count: int
    working: Path


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return f" ({text})" if text else ""


def _key(store: Path) -> str:
    return str(store.resolve())


def _remove(*paths: Path) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink(missing_ok=True)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


class Gate:
    """The writer gate of one store file, and the writer's copy of it (see the module's rules)."""

    def __init__(self, store: Path) -> None:
        self.store = store.resolve()
        self.path = self.store.with_name(self.store.name + ".gate")
        self.key = str(self.store)
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

    def nest(self) -> Path | None:
        """When this context is writing the store: join its write (until :meth:`leave_writer`), the copy to open."""
        owned = _OWNED.get()
        with _GUARD:
            held = _HELD.get(self.key)
            if held is None or not any(mine is held for mine in owned):
                return None
            held.count += 1
            self._taken = True
            return held.working

    def enter_writer(self, label: str) -> Path:
        """Hold the gate until :meth:`leave_writer`; the file to open (the writer's copy). Nests within a write."""
        nested = self.nest()
        if nested is not None:
            return nested
        handle = self._acquire("write")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, {label}")
            handle.flush()
            working = self._copy()
        except BaseException:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()
            raise
        held = _Held(handle, 1, working)
        with _GUARD:
            _HELD[self.key] = held
        _OWNED.set((*_OWNED.get(), held))
        self._taken = True
        return working

    def _copy(self) -> Path:
        """The store copied beside itself (with its WAL, if an older writer left one); leftovers removed."""
        for leftover in self.store.parent.glob(self.store.name + ".writing-*"):
            _remove(leftover)
        working = self.store.with_name(f"{self.store.name}.writing-{os.getpid()}-{next(_COPIES)}")
        if not self.store.exists():
            return working
        if not os.access(self.store, os.W_OK):
            raise StoreError(
                f"the store at {self.store} is read-only",
                hint="the store file is not writable by you; fix its permissions, or read it with a command that "
                "only reads; the file was left as it is",
            )
        try:
            shutil.copyfile(self.store, working)
            shutil.copymode(self.store, working)
            if _wal(self.store).exists():
                shutil.copyfile(_wal(self.store), _wal(working))
        except OSError as error:
            _remove(working, _wal(working))
            raise StoreError(
                f"the store at {self.store} could not be written: {error.strerror or error}",
                hint="nothing was written (the store is as it was): free disk space or fix the folder's "
                "permissions, then run the command again",
            ) from error
        return working

    def outermost(self) -> bool:
        """The next :meth:`leave_writer` ends this process's write (and publishes the copy)."""
        with _GUARD:
            held = _HELD.get(self.key)
            return self._taken and held is not None and held.count == 1

    def leave_writer(self, publish: bool = True) -> None:
        """Let go; the outermost leave renames the copy over the store (``publish``) or discards it."""
        if not self._taken:
            return
        self._taken = False
        with _GUARD:
            held = _HELD[self.key]
            held.count -= 1
            if held.count > 0:
                return
            del _HELD[self.key]
        # forgotten by the context it closes in (when that is not the one that opened it, the entry is stale there)
        _OWNED.set(tuple(mine for mine in _OWNED.get() if mine is not held))
        try:
            if publish and held.working.exists() and not _wal(held.working).exists():
                os.replace(held.working, self.store)
                _remove(_wal(self.store))  # an older writer's log, now inside the published copy
                _sync_folder(self.store.parent)
        finally:
            _remove(held.working, _wal(held.working))
            held.handle.seek(0)
            held.handle.truncate()
            fcntl.flock(held.handle.fileno(), fcntl.LOCK_UN)
            held.handle.close()


def _sync_folder(folder: Path) -> None:
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _enter_reader(store: Path) -> str:
    """Count a reader of the store file in this process (after any reads of a replaced file have ended)."""
    key = _key(store)
    deadline = time.monotonic() + min(wait_seconds(), 30.0)
    with _READS_ENDED:
        while True:
            try:
                inode = os.stat(store).st_ino
            except OSError:
                inode = -1
            entry = _READING.get(key)
            if entry is None or entry[1] == 0:
                _READING[key] = [inode, 1]
                return key
            left = deadline - time.monotonic()
            if entry[0] == inode or left <= 0:  # the same file (or a long read: the old state, still whole)
                entry[1] += 1
                return key
            _READS_ENDED.wait(timeout=left)


def _leave_reader(key: str) -> None:
    with _READS_ENDED:
        entry = _READING.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _READING[key]
        _READS_ENDED.notify_all()


class Lease:
    """One open of a store file: which file to open and how, and what closing it does."""

    def __init__(self, store: Path, read_only: bool, label: str) -> None:
        self.gate: Gate | None = None
        self._reader: str | None = None
        gate = Gate(store)
        nested = gate.nest()
        if nested is None and read_only:
            self.target, self.read_only = store, True
            self._reader = _enter_reader(store)
            return
        self.target, self.read_only = nested or gate.enter_writer(label), False
        self.gate = gate

    def close(self, checkpoint: Callable[[], None], disconnect: Callable[[], None], publish: bool) -> None:
        """Disconnect; a writer's outermost close first checkpoints its copy, then publishes it (``publish``).

        A copy that cannot be checkpointed is not published: :class:`StoreError`, the store as it was.
        """
        failure: Exception | None = None
        gate = self.gate
        if gate is not None and publish and gate.outermost():
            try:
                checkpoint()
            except Exception as error:
                failure, publish = error, False
        try:
            disconnect()
        finally:
            if gate is not None:
                self.gate = None
                gate.leave_writer(publish)
            if self._reader is not None:
                _leave_reader(self._reader)
                self._reader = None
        if failure is not None:
            store = gate.store if gate is not None else self.target
            reason = copy_named(str(failure).splitlines()[0])
            raise StoreError(
                f"the store at {store} could not be written: {reason}",
                hint="nothing was published (the store is as it was before this command): free disk space or "
                "fix the file's permissions, then run the command again",
            ) from failure


def copy_named(text: str) -> str:
    """An engine's message about a writer's copy, naming the store instead (the copy is ours, not the user's)."""
    return _COPY_NAME.sub("", text)


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
