"""Live syncs: Salesforce (simple-salesforce) and HubSpot (hubspot-api-client) into the store.

A sync reads what changed since the last one, turns it into the same canonical export a folder
ingest produces (the same checks, the same errors), and writes it, the deletions and the new
watermarks in one transaction.
"""

from saleslead.sync.models import HubSpotSyncRequest, ObjectSync, SalesforceSyncRequest, SyncReport, WarehouseRequest

__all__ = ["HubSpotSyncRequest", "ObjectSync", "SalesforceSyncRequest", "SyncReport", "WarehouseRequest"]
