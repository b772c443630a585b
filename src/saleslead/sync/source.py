"""The seat's sync action: the source (Salesforce, HubSpot, a warehouse) follows from the request's type."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from saleslead.sync.hubspot import sync_hubspot
from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport, WarehouseRequest
from saleslead.sync.run import sync_salesforce
from saleslead.sync.warehouse import sync_warehouse

if TYPE_CHECKING:
    from saleslead.data.desk import DataDesk

__all__ = ["sync_source"]


def sync_source(
    seat: DataDesk,
    request: SalesforceSyncRequest | HubSpotSyncRequest | WarehouseRequest,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncReport:
    """Pull what changed in the request's CRM since the last sync, and write it as ``ingest`` writes."""

    def step(label: str, rows: int) -> None:
        if progress is not None:
            progress(label, rows, 0)

    if isinstance(request, SalesforceSyncRequest):
        return sync_salesforce(seat, request, step)
    if isinstance(request, WarehouseRequest):
        return sync_warehouse(seat, request, step)
    return sync_hubspot(seat, request, step)
