"""A sync end to end: watermarks from the store's records, fetch, check, and write all or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from saleslead.sync.models import ObjectSync, SalesforceSyncRequest, SyncReport

if TYPE_CHECKING:
    from saleslead.data.desk import DataDesk
    from saleslead.ingest.canonical import CanonicalExport
    from saleslead.sync.salesforce_api import SalesforceApi

__all__ = ["CHECKPOINT_KIND", "checkpoint", "sync_salesforce", "write"]

#: the records kind holding each source's watermarks (key: the source, e.g. ``salesforce``)
CHECKPOINT_KIND = "sync"

Step = Callable[[str, int], None]


def checkpoint(seat: DataDesk, source: str) -> dict[str, Any]:
    """The last sync's payload for ``source`` (empty before the first)."""
    record = seat.records.latest(CHECKPOINT_KIND, source)
    return dict(record.payload) if record is not None else {}


def _watermarks(payload: dict[str, Any], instance: str) -> dict[str, datetime]:
    if payload.get("instance") != instance:
        return {}  # another org (or none yet): read everything
    return {name: datetime.fromisoformat(text) for name, text in payload.get("watermarks", {}).items() if text}


def write(
    seat: DataDesk,
    source: str,
    export: CanonicalExport | None,
    deleted: list[str],
    payload: dict[str, Any],
    label: str,
) -> tuple[Any, int]:
    """The export, the deletions and the new watermarks in one transaction: all of them or none."""
    with seat.store.transaction():
        report = seat.ingest_export(export, label) if export is not None else None
        removed = seat.store.remove_opportunities(deleted)
        seat.records.put(CHECKPOINT_KIND, source, payload, author="sync")
    return report, removed


def sync_salesforce(
    seat: DataDesk,
    request: SalesforceSyncRequest,
    progress: Step | None = None,
    api: SalesforceApi | None = None,
) -> SyncReport:
    """Read what changed in the org since the last sync and write it as ``ingest`` writes an export."""
    from saleslead.sync.export import export_of
    from saleslead.sync.salesforce import fetch_changes
    from saleslead.sync.salesforce_api import SalesforceApi, connect

    started = time.perf_counter()
    if api is None:
        api = SalesforceApi(connect(), bulk_wait=request.bulk_wait)
    marks = {} if request.full else _watermarks(checkpoint(seat, "salesforce"), api.instance)
    fetched = fetch_changes(api, request, marks, progress)
    export = None
    snapshot = fetched.newest()
    if fetched.changed and snapshot is not None:
        export = export_of(
            fetched.tables,
            source=f"salesforce:{fetched.instance}",
            snapshot_at=snapshot,
            stages=fetched.stages or _stored_ladder(seat),
            settings=seat.settings.ingest_settings(),  # stage overrides and segment rules (saleslead config)
            strict=request.strict,
            progress=progress,
        )
    payload = {
        "instance": fetched.instance,
        "synced_at": datetime.now(UTC).replace(tzinfo=None).isoformat(),
        "watermarks": {o.name: o.watermark.isoformat() for o in fetched.objects.values() if o.watermark},
    }
    report, removed = write(seat, "salesforce", export, fetched.deleted_opportunities, payload, "salesforce")
    return _report("salesforce", marks, fetched.objects, api.requests, api.backoff.retries, report, removed, started)


def _stored_ladder(seat: DataDesk) -> tuple[Any, ...]:
    """The stage ladder the store holds (so a delta never re-learns the order from a few deals)."""
    from saleslead.ingest.settings import StageSetting

    rows = seat.store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    return tuple(
        StageSetting(name=r["name"], is_closed=r["is_closed"], is_won=r["is_won"], probability=r["probability"])
        for r in rows
    )


def _report(
    source: Literal["salesforce", "hubspot", "warehouse"],
    marks: dict[str, datetime],
    objects: dict[str, ObjectSync],
    requests: int,
    retries: int,
    ingest: Any,
    removed: int,
    started: float,
) -> SyncReport:
    return SyncReport(
        source=source,
        mode="incremental" if marks else "full",
        objects=list(objects.values()),
        requests=requests,
        retries=retries,
        removed_opportunities=removed,
        ingest=ingest,
        unchanged=(ingest is None or (ingest.history_added == 0 and ingest.opportunities_new == 0)) and removed == 0,
        seconds=round(time.perf_counter() - started, 3),
    )
