"""The seat's sync action: the source (Salesforce, HubSpot) follows from the request's type."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from saleslead.sync.hubspot import sync_hubspot
from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport
from saleslead.sync.run import sync_salesforce

if TYPE_CHECKING:
    from saleslead.data.desk import DataDesk

__all__ = ["sync_source"]


def sync_source(
    seat: DataDesk,
    request: SalesforceSyncRequest | HubSpotSyncRequest,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncReport:
    """Pull what changed in the request's CRM since the last sync, and write it as ``ingest`` writes."""

    def step(label: str, rows: int) -> None:
        if progress is not None:
            progress(label, rows, 0)

    if isinstance(request, SalesforceSyncRequest):
        return sync_salesforce(seat, request, step)
    return sync_hubspot(seat, request, step)
