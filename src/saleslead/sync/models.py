"""Requests and reports of the live syncs (frozen pydantic models; documented in docs/sync.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saleslead.data.desk import IngestReport

__all__ = ["HubSpotSyncRequest", "ObjectSync", "SalesforceSyncRequest", "SyncReport", "WarehouseRequest"]


class SalesforceSyncRequest(BaseModel):
    """One Salesforce sync. Credentials never travel in a request: they are read from the environment."""

    model_config = ConfigDict(frozen=True)

    #: read everything even when the store holds a watermark
    full: bool = False
    #: an object whose change holds at least this many rows is read by a Bulk API 2.0 job (0: never)
    bulk_threshold: int = Field(10_000, ge=0)
    #: re-read this much before each watermark (rows committed late, clocks): re-reading changes nothing
    overlap_minutes: float = Field(5.0, ge=0)
    #: object -> {contract field: the org's field}, e.g. {"Opportunity": {"Segment__c": "Region__c"}}
    fields: dict[str, dict[str, str]] = {}
    #: quarantine bad rows instead of failing (as ``ingest --quarantine``)
    strict: bool = True
    #: seconds before the first poll of a Bulk API 2.0 job
    bulk_wait: int = Field(2, ge=0)


class HubSpotSyncRequest(BaseModel):
    """One HubSpot sync. The private-app token is read from ``HUBSPOT_ACCESS_TOKEN``."""

    model_config = ConfigDict(frozen=True)

    full: bool = False
    overlap_minutes: float = Field(5.0, ge=0)
    #: deals per batch read of property history (HubSpot allows at most 50)
    batch: int = Field(50, ge=1, le=50)
    strict: bool = True


class WarehouseRequest(BaseModel):
    """Read the tables of Fivetran's Salesforce connector from a warehouse (any Ibis backend URL)."""

    model_config = ConfigDict(frozen=True)

    #: an Ibis URL, e.g. postgres://user:pass@host/db (the password never appears in reports)
    url: str
    #: the schema holding the connector's tables (opportunity, opportunity_history, …)
    schema_name: str = "salesforce"
    strict: bool = True
    snapshot_at: datetime | None = None


class ObjectSync(BaseModel):
    """What one object's read did."""

    model_config = ConfigDict(frozen=True)

    name: str
    #: rest, bulk2, or absent (the org has no such object)
    api: str
    #: rows changed after this moment were read (null: every row)
    since: datetime | None
    rows: int
    #: rows read that the CRM marks deleted
    deleted: int = 0
    #: rows fetched by id to make the delta whole (parents of changed rows)
    by_id: int = 0
    #: the newest change seen: the next sync reads from here
    watermark: datetime | None = None


class SyncReport(BaseModel):
    """What a sync read, and what it changed in the store (``ingest`` is null when nothing changed)."""

    model_config = ConfigDict(frozen=True)

    source: Literal["salesforce", "hubspot", "warehouse"]
    mode: Literal["full", "incremental"]
    objects: list[ObjectSync]
    requests: int
    retries: int
    removed_opportunities: int
    ingest: IngestReport | None
    #: no new deal, no new event, no deal removed (rows re-read in the overlap change nothing)
    unchanged: bool
    seconds: float
