"""HubSpot deals, their real stage history, owners, pipelines and companies → the canonical export.

HubSpot's CSV export keeps no history; its API does. Each deal is read with ``propertiesWithHistory``
for ``dealstage``, ``amount``, ``closedate`` and ``hubspot_owner_id``: every moment one of the first three
changed becomes a history row holding the deal's whole state then (as Salesforce's OpportunityHistory
does), and every owner change an owner-change row (as OpportunityFieldHistory). Pipelines give the stage
ladder (order, closed, won at probability 1, probability), owners the users, companies the accounts.
The rows take Salesforce's shape and go through the same checks as any export (``read_objects``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from saleslead.ingest.mapping import fill_open_close_dates
from saleslead.ingest.settings import StageSetting
from saleslead.sync.hubspot_api import Deal, HubSpotApi, connect_hubspot
from saleslead.sync.models import HubSpotSyncRequest, ObjectSync, SyncReport
from saleslead.sync.rows import text_table

if TYPE_CHECKING:
    from saleslead.data.desk import DataDesk

__all__ = ["LABELS", "PipelineStages", "deal_tables", "sync_hubspot"]

#: how each object's rows are named in errors and reports
LABELS = {
    "Opportunity": "deals (HubSpot API)",
    "OpportunityHistory": "deal property history (HubSpot API)",
    "OpportunityFieldHistory": "deal owner history (HubSpot API)",
    "User": "owners (HubSpot API)",
    "Account": "companies (HubSpot API)",
}
_OPPORTUNITY = (
    "Id", "Name", "AccountId", "OwnerId", "Amount", "StageName", "Probability", "ForecastCategoryName", "CloseDate",
    "CreatedDate", "IsClosed", "IsWon", "Type", "LeadSource", "LastModifiedDate", "Pipeline",
)  # fmt: skip
_HISTORY = ("OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate", "Probability")
_OWNERS = ("OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue", "DataType")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class PipelineStages:
    """The deal stages of every pipeline: id → name, closed, won, probability (percent), in order."""

    def __init__(self, pipelines: Iterable[Any]) -> None:
        self.names: dict[str, str] = {}
        self.pipelines: dict[str, str] = {}
        self.settings: list[StageSetting] = []
        taken: set[str] = set()
        for pipeline in sorted(pipelines, key=lambda p: (p.display_order, p.label)):
            self.pipelines[str(pipeline.id)] = str(pipeline.label)
            for stage in sorted(pipeline.stages, key=lambda s: s.display_order):
                name = str(stage.label) if stage.label not in taken else f"{stage.label} ({pipeline.label})"
                taken.add(name)
                meta = stage.metadata or {}
                closed = str(meta.get("isClosed", "false")).lower() == "true"
                probability = float(meta["probability"]) * 100 if meta.get("probability") not in (None, "") else None
                self.names[str(stage.id)] = name
                won = closed and probability is not None and probability >= 100
                self.settings.append(StageSetting(name=name, is_closed=closed, is_won=won, probability=probability))
        self.by_name = {s.name: s for s in self.settings}

    def name(self, stage_id: str | None) -> str | None:
        return self.names.get(stage_id, stage_id) if stage_id else None

    def stages(self) -> tuple[StageSetting, ...]:
        return tuple(self.settings)


def _at(history: list[tuple[str | None, datetime]], moment: datetime) -> str | None:
    """The property's value at ``moment`` (histories come newest first)."""
    for value, stamp in history:
        if stamp <= moment:
            return value
    return None


def _deal_rows(deal: Deal, ladder: PipelineStages) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    p = deal.properties
    stage = ladder.name(p.get("dealstage"))
    info = ladder.by_name.get(stage or "")
    opportunity = {
        "Id": deal.id, "Name": p.get("dealname"), "AccountId": deal.company, "OwnerId": p.get("hubspot_owner_id"),
        "Amount": p.get("amount"), "StageName": stage, "Probability": info.probability if info else None,
        "ForecastCategoryName": p.get("hs_forecast_category"), "CloseDate": p.get("closedate"),
        "CreatedDate": p.get("createdate"), "IsClosed": info.is_closed if info else None,
        "IsWon": info.is_won if info else None, "Type": p.get("dealtype"), "LeadSource": p.get("hs_analytics_source"),
        "LastModifiedDate": p.get("hs_lastmodifieddate"), "Pipeline": ladder.pipelines.get(p.get("pipeline") or ""),
    }  # fmt: skip
    tracked = {name: deal.history.get(name, []) for name in ("dealstage", "amount", "closedate")}
    moments = sorted({stamp for entries in tracked.values() for _, stamp in entries})
    history = []
    for moment in moments:
        at_stage = ladder.name(_at(tracked["dealstage"], moment))
        if at_stage is None:
            continue
        known = ladder.by_name.get(at_stage)
        history.append(
            {
                "OpportunityId": deal.id, "CreatedDate": _iso(moment), "StageName": at_stage,
                "Amount": _at(tracked["amount"], moment), "CloseDate": _at(tracked["closedate"], moment),
                "Probability": known.probability if known else None,
            }
        )  # fmt: skip
    owners = list(reversed(deal.history.get("hubspot_owner_id", [])))
    changes = [
        {"OpportunityId": deal.id, "CreatedDate": _iso(stamp), "Field": "Owner", "OldValue": owners[i - 1][0],
         "NewValue": value, "DataType": "EntityId"}
        for i, (value, stamp) in enumerate(owners) if i > 0 and value != owners[i - 1][0]
    ]  # fmt: skip
    return opportunity, history, changes


def deal_tables(
    deals: list[Deal], ladder: PipelineStages, owners: list[Any], companies: list[Any]
) -> dict[str, pa.Table]:
    """Deals, owners and companies as Salesforce-shaped text tables (see the module's docstring)."""
    opportunities, history, changes = [], [], []
    for deal in deals:
        row, events, moves = _deal_rows(deal, ladder)
        opportunities.append(row)
        history.extend(events)
        changes.extend(moves)
    users = [
        {"Id": str(o.id), "Name": " ".join(x for x in (o.first_name, o.last_name) if x) or o.email,
         "IsActive": not o.archived, "CreatedDate": _iso(o.created_at), "Role__c": "AE"}
        for o in owners
    ]  # fmt: skip
    accounts = [
        {"Id": str(c.id), "Name": c.properties.get("name"), "Industry": c.properties.get("industry"),
         "NumberOfEmployees": c.properties.get("numberofemployees"), "BillingCountry": c.properties.get("country"),
         "OwnerId": c.properties.get("hubspot_owner_id")}
        for c in companies
    ]  # fmt: skip
    return {
        "Opportunity": text_table(_OPPORTUNITY, opportunities),
        "OpportunityHistory": text_table(_HISTORY, history),
        "OpportunityFieldHistory": text_table(_OWNERS, changes),
        "User": text_table(("Id", "Name", "IsActive", "CreatedDate", "Role__c"), users),
        "Account": text_table(("Id", "Name", "Industry", "NumberOfEmployees", "BillingCountry", "OwnerId"), accounts),
    }


def sync_hubspot(
    seat: DataDesk,
    request: HubSpotSyncRequest,
    progress: Callable[[str, int], None] | None = None,
    api: HubSpotApi | None = None,
) -> SyncReport:
    """Read the deals changed since the last sync (all on the first run) with their history, and write them."""
    from saleslead.sync.export import export_of
    from saleslead.sync.run import _report, checkpoint, write

    started = time.perf_counter()
    if api is None:
        api = HubSpotApi(connect_hubspot(), batch=request.batch)
    host = str(api.client.config.get("host") or "https://api.hubapi.com")
    payload = {} if request.full else checkpoint(seat, "hubspot")
    mark = _parse(payload.get("watermark")) if payload.get("instance") == host else None
    since = mark - timedelta(minutes=request.overlap_minutes) if mark is not None else None
    if since is None:
        deals = list(api.deals())
    else:
        deals = api.deals_by_id(api.modified_since(since.replace(tzinfo=UTC)))
    if progress is not None:
        progress("deals", len(deals))
    ladder = PipelineStages(api.pipelines())
    companies = api.companies(sorted({d.company for d in deals if d.company}))
    tables = deal_tables(deals, ladder, api.owners(), companies)
    stamps = [s for d in deals if (s := _parse(d.properties.get("hs_lastmodifieddate"))) is not None]
    newest = max(stamps) if stamps else mark
    archived = [deal_id for deal_id, _ in api.archived_deals()]
    export = None
    if deals and newest is not None:
        export = export_of(
            tables,
            source=f"hubspot:{host}",
            snapshot_at=newest,
            stages=ladder.stages(),
            settings=seat.settings.ingest_settings(),  # stage overrides and segment rules (saleslead config)
            strict=request.strict,
            progress=progress,
            labels=LABELS,
            adjust=fill_open_close_dates,
        )
    state = {"instance": host, "watermark": _iso(newest), "synced_at": _iso(datetime.now(UTC))}
    report, removed = write(seat, "hubspot", export, archived, state, "hubspot")
    objects = {
        "deals": ObjectSync(name="deals", api="rest", since=since, rows=len(deals), deleted=removed, watermark=newest),
        "deal history": ObjectSync(
            name="deal history", api="rest", since=since, rows=tables["OpportunityHistory"].num_rows
        ),
        "owners": ObjectSync(name="owners", api="rest", since=None, rows=tables["User"].num_rows),
        "companies": ObjectSync(name="companies", api="rest", since=None, rows=len(companies), by_id=len(companies)),
    }
    marks = {"deals": since} if since is not None else {}
    return _report("hubspot", marks, objects, api.requests, api.backoff.retries, report, removed, started)
