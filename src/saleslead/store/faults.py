"""How the store's failures read: a write the file system refused, a file that would not open — with a hint."""

from __future__ import annotations

from saleslead.errors import StoreError
from saleslead.store.gate import copy_named

__all__ = ["WRITE_FAULTS", "open_hint", "raise_write_fault"]

WRITE_FAULTS = ("no space left", "file too large", "read-only", "readonly", "permission denied", "disk quota")


def raise_write_fault(error: BaseException, location: str) -> None:
    """A write the file system refused (full disk, read-only file) as a :class:`StoreError` with a hint."""
    if isinstance(error, StoreError) or not isinstance(error, Exception):
        return
    text = str(error).lower()
    if isinstance(error, OSError) or any(fault in text for fault in WRITE_FAULTS):
        raise StoreError(
            f"the store at {location} could not be written: {copy_named(str(error).splitlines()[0])}",
            hint="nothing was written (the transaction was rolled back): free disk space or fix the file's "
            "permissions, then run the command again",
        ) from error


def open_hint(message: str) -> str:
    text = message.lower()
    if "not a valid duckdb database" in text:
        return "the file is not a store (empty or another kind of file); point --store at a store or a new path"
    if "lock" in text:
        return "another saleslead process is writing this store; wait for it to finish and try again"
    if "permission" in text or "read-only" in text or "readonly" in text:
        return "the store file or its folder is not writable by you; fix the permissions or use a copy"
    return "check the path and that the file is a saleslead store"
