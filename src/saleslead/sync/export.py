"""Rows fetched from Salesforce's API → the canonical export, through the same checks as a folder export."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.build import TableSpec
from saleslead.ingest.canonical import CanonicalExport
from saleslead.ingest.salesforce import read_objects
from saleslead.ingest.settings import IngestSettings, StageSetting
from saleslead.ingest.source import RawTable
from saleslead.sync.rows import raw_of

__all__ = ["API_LABEL", "export_of"]

#: how an object's rows are named in errors and in the ingest report (``Opportunity (Salesforce API)``)
API_LABEL = "{} (Salesforce API)"

_KEYS = {
    "opportunity": "Opportunity",
    "opportunityhistory": "OpportunityHistory",
    "opportunityfieldhistory": "OpportunityFieldHistory",
    "user": "User",
    "account": "Account",
    "forecastingquota": "ForecastingQuota",
    "task": "Task",
    "event": "Event",
}


def _ready(table: pa.Table, spec: TableSpec) -> pa.Table:
    """Objects whose contract has no IsDeleted lose their deleted rows here; bookkeeping columns go."""
    if "is_deleted" not in spec.fields and "IsDeleted" in table.column_names:
        deleted = pc.fill_null(pc.equal(pc.utf8_lower(table.column("IsDeleted")), "true"), False)
        table = table.filter(pc.invert(deleted)).drop_columns(["IsDeleted"])
    contract = {name.casefold() for name in spec.fields.values()}
    extra = [c for c in ("SystemModstamp",) if c in table.column_names and c.casefold() not in contract]
    return table.drop_columns(extra) if extra else table


def export_of(
    tables: dict[str, pa.Table],
    *,
    source: str,
    snapshot_at: datetime,
    stages: tuple[StageSetting, ...],
    settings: IngestSettings,
    strict: bool,
    progress: Callable[[str, int], None] | None = None,
    labels: Mapping[str, str] | None = None,
    adjust: Callable[[pa.Table, datetime], pa.Table] | None = None,
) -> CanonicalExport:
    """The canonical export of fetched text tables (by object API name), checked as ``ingest`` checks a folder.

    ``stages`` is the source's own stage ladder; ``settings`` are the seat's (``saleslead config``): its stage
    overrides win over the source's ladder, and its segment rules band the accounts, as they do for a folder.
    ``labels`` names each object's rows in errors and reports (default ``Opportunity (Salesforce API)``, …).
    """

    def load(key: str, spec: TableSpec) -> RawTable | None:
        name = _KEYS[key]
        table = tables.get(name)
        if table is None:
            return None
        label = (labels or {}).get(name) or API_LABEL.format(name)
        return raw_of(label, _ready(table, spec))

    return read_objects(
        source,
        load,
        strict=strict,
        snapshot_at=snapshot_at,
        settings=IngestSettings.model_validate(settings.model_dump() | {"stages": settings.stages or stages}),
        progress=progress,
        adjust=adjust,
    )
