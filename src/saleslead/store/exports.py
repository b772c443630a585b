"""An export as the store writes it: what one ingest changed, the export's fingerprint, its rows as every
engine takes them, and the memory Arrow gives back between steps (the ingest itself is ``Store.ingest``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from saleslead.ingest.canonical import CanonicalExport

__all__ = ["IngestOutcome", "decoded", "fingerprint_of", "give_back_memory"]


@dataclass(frozen=True)
class IngestOutcome:
    """What one ingest changed in the store."""

    ingest_id: int
    snapshot_at: datetime
    opportunities_new: int
    opportunities_updated: int  # deals stored before whose row, history or activities differ
    history_added: int
    unchanged: bool
    opportunities_unchanged: int = 0  # deals of the export stored exactly as they are


def give_back_memory() -> None:
    """Return the memory Arrow has freed to the system, so the next step does not stack on top of it."""
    pa.default_memory_pool().release_unused()


def decoded(rows: pa.Table) -> pa.Table:
    """Dictionary-encoded columns as plain values (for engines that take Arrow through Ibis)."""
    if not any(pa.types.is_dictionary(f.type) for f in rows.schema):
        return rows
    return pa.table({f.name: plain_column(rows.column(f.name)) for f in rows.schema})


def plain_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def fingerprint_of(export: CanonicalExport) -> str:
    """Identifies an export by its source, snapshot and sizes (content identity is decided row by row)."""
    parts = [export.source, export.snapshot_at.isoformat()]
    tables = (export.opportunities, export.history, export.users, export.accounts, export.quotas)
    for table in (*tables, export.owner_changes):
        parts.append(str(table.num_rows))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
