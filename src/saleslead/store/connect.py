"""Connecting to a store's engine: an Ibis URL, an in-memory DuckDB, or a DuckDB file behind the gate's lease."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ibis

from saleslead.errors import StoreError
from saleslead.store.faults import open_hint
from saleslead.store.gate import Lease, copy_named, open_with_retry

__all__ = ["connect", "nothing"]


def nothing() -> None:
    """A no-op (a lease's checkpoint or disconnect when there is nothing to do)."""
    return None


def connect(where: str, read_only: bool) -> tuple[Any, Lease | None]:
    """The engine's connection to ``where`` and, for a DuckDB file, the gate's lease it holds.

    The engine's own errors become a :class:`StoreError` naming the store (not the writer's copy); a lease
    taken before the failure is given back unpublished.
    """
    lease: Lease | None = None
    try:
        if "://" in where:
            return ibis.connect(where), None
        if where == ":memory:":  # nothing to share, so no gate and no writer's copy
            return ibis.duckdb.connect(":memory:"), None
        path = Path(where)
        if read_only and not path.exists():
            raise StoreError(f"no store at {where}", hint="run `saleslead ingest` or `saleslead demo` first")
        path.parent.mkdir(parents=True, exist_ok=True)
        lease = Lease(path, read_only, " ".join(sys.argv[:3]) or "saleslead")
        target, engine_read_only = lease.target, lease.read_only
        backend = open_with_retry(lambda: ibis.duckdb.connect(str(target), read_only=engine_read_only), where)
    except BaseException as exc:
        if lease is not None:
            lease.close(nothing, nothing, publish=False)
        if isinstance(exc, StoreError) or not isinstance(exc, Exception):
            raise
        text = copy_named(str(exc))
        raise StoreError(f"cannot open the store at {where}: {text}", hint=open_hint(text)) from exc
    return backend, lease
