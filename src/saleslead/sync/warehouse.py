"""Salesforce objects from warehouse tables written by Fivetran's Salesforce connector, on any Ibis backend.

Fivetran names each table after its object and each column after its field, in snake case
(``Opportunity.StageName`` → ``opportunity.stage_name``, ``OpportunityFieldHistory`` →
``opportunity_field_history``, a custom ``Segment__c`` → ``segment_c``) and adds ``_fivetran_synced``,
``_fivetran_deleted`` (the row is gone from Salesforce) and, in history mode, ``_fivetran_active`` (the
row's current version). Rows marked deleted, and inactive versions, are filtered out in the engine; the
rest is renamed back to the API names and goes through the same checks as an export folder.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import InputError, SourceError
from saleslead.ingest.build import TableSpec
from saleslead.ingest.salesforce import read_objects
from saleslead.ingest.source import RawTable
from saleslead.sync.models import ObjectSync, SyncReport, WarehouseRequest

if TYPE_CHECKING:
    from saleslead.data.desk import DataDesk

__all__ = ["TABLES", "fivetran_name", "safe_url", "sync_warehouse"]

#: the ingest's object key → Fivetran's table name
TABLES = {
    "opportunity": "opportunity",
    "opportunityhistory": "opportunity_history",
    "opportunityfieldhistory": "opportunity_field_history",
    "user": "user",
    "account": "account",
    "forecastingquota": "forecasting_quota",
    "task": "task",
    "event": "event",
}


def fivetran_name(field: str) -> str:
    """A Salesforce API name as Fivetran writes it: ``StageName`` → ``stage_name``, ``Segment__c`` → ``segment_c``."""
    base, custom = (field[:-3], True) if field.endswith("__c") else (field, False)
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", base).lower()
    return snake + ("_c" if custom else "")


def safe_url(url: str) -> str:
    """The URL without its password (for reports and errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, parts.fragment))


class _Tables:
    """Reads one schema's Fivetran tables."""

    def __init__(self, con: Any, schema: str) -> None:
        self.con = con
        self.schema = schema
        try:
            self.names = {str(n).casefold(): str(n) for n in con.list_tables(database=schema)}
        except Exception:  # the engine's own error for a schema it does not know
            self.names = {}
        self.deleted_opportunities: list[str] = []
        self.rows: dict[str, int] = {}
        self.deleted: dict[str, int] = {}

    def load(self, key: str, spec: TableSpec) -> RawTable | None:
        name = self.names.get(TABLES[key])
        if name is None:
            return None
        table = self.con.table(name, database=self.schema)
        columns = {str(c).casefold(): str(c) for c in table.columns}
        gone = columns.get("_fivetran_deleted")
        deleted = table[gone].fill_null(False) if gone else ibis.literal(False)
        if "_fivetran_active" in columns:  # history mode: only each row's current version
            deleted = deleted | ~table[columns["_fivetran_active"]].fill_null(True)
        if key == "opportunity" and gone and "id" in columns:
            ids = table.filter(deleted).select(columns["id"]).to_pyarrow().column(0)
            self.deleted_opportunities = [str(i) for i in ids.to_pylist() if i is not None]
        self.deleted[key] = int(table.filter(deleted).count().execute())
        table = table.filter(~deleted)
        wanted = {fivetran_name(api): api for api in spec.fields.values()}
        kept = [c for c in table.columns if not str(c).startswith("_fivetran")]
        if not spec.keep_extra:
            kept = [c for c in kept if str(c).casefold() in wanted]
        arrow: pa.Table = table.select(*kept).to_pyarrow() if kept else pa.table({})
        self.rows[key] = arrow.num_rows
        renamed = [wanted.get(str(c).casefold(), str(c)) for c in arrow.column_names]
        return RawTable(f"{self.schema}.{name}", _nowhere(self.schema, name), arrow.rename_columns(renamed))


def _nowhere(schema: str, name: str) -> Any:
    from pathlib import Path

    return Path(f"{schema}.{name}")


def _connect(url: str) -> Any:
    try:
        return ibis.connect(url)
    except Exception as error:
        raise SourceError(
            f"cannot connect to {safe_url(url)}: {type(error).__name__}",
            hint="expected an Ibis URL such as postgres://user:pass@host/db or duckdb:///path/to/file.duckdb",
        ) from None


def sync_warehouse(
    seat: DataDesk, request: WarehouseRequest, progress: Callable[[str, int], None] | None = None
) -> SyncReport:
    """Read the schema's Fivetran Salesforce tables and write them as ``ingest`` writes an export."""
    from saleslead.sync.run import _report, write

    started = time.perf_counter()
    con = _connect(request.url)
    try:
        tables = _Tables(con, request.schema_name)
        if "opportunity" not in tables.names:
            raise InputError(
                f"no opportunity table in schema {request.schema_name!r} of {safe_url(request.url)}",
                file=request.schema_name,
                hint="expected the tables of Fivetran's Salesforce connector (opportunity, opportunity_history, …)",
            )
        export = read_objects(
            f"{request.schema_name} ({safe_url(request.url)})",
            tables.load,
            strict=request.strict,
            snapshot_at=request.snapshot_at,
            settings=seat.settings.ingest_settings(),  # stage overrides and segment rules (saleslead config)
            progress=progress,
        )
    finally:
        disconnect = getattr(con, "disconnect", None)
        if disconnect is not None:
            disconnect()
    live = pc.is_in(
        pa.array(tables.deleted_opportunities, pa.string()), value_set=export.opportunities.column("opportunity_id")
    )
    deleted = [i for i, kept in zip(tables.deleted_opportunities, live.to_pylist(), strict=True) if not kept]
    payload = {
        "url": safe_url(request.url),
        "schema": request.schema_name,
        "snapshot_at": export.snapshot_at.isoformat(),
    }
    report, removed = write(seat, f"warehouse:{request.schema_name}", export, deleted, payload, safe_url(request.url))
    objects = {
        key: ObjectSync(name=TABLES[key], api="warehouse", since=None, rows=rows, deleted=tables.deleted.get(key, 0))
        for key, rows in tables.rows.items()
    }
    return _report("warehouse", {}, objects, 0, 0, report, removed, started)
