"""HubSpot through hubspot-api-client: a private-app token from the environment, pages and batch reads.

``HUBSPOT_ACCESS_TOKEN`` holds the private app's token (scopes ``crm.objects.deals.read``,
``crm.objects.companies.read``, ``crm.objects.owners.read``); it is handed to the client and never
stored, logged or shown. ``HUBSPOT_API_BASE`` changes the API's address (default
``https://api.hubapi.com``, e.g. ``https://api-eu1.hubapi.com``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.deals import BatchReadInputSimplePublicObjectId, Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.deals import SimplePublicObjectId as DealId
from urllib3.util.retry import Retry

from saleslead.errors import InputError, SourceError
from saleslead.sync.backoff import Backoff

__all__ = ["DEAL_HISTORY", "DEAL_PROPERTIES", "Deal", "HubSpotApi", "connect_hubspot"]

T = TypeVar("T")

#: deal properties read (the current value)
DEAL_PROPERTIES = (
    "dealname",
    "amount",
    "dealstage",
    "pipeline",
    "closedate",
    "createdate",
    "hubspot_owner_id",
    "dealtype",
    "hs_analytics_source",
    "hs_forecast_category",
    "hs_lastmodifieddate",
)
#: deal properties read with every past value: the real stage history
DEAL_HISTORY = ("dealstage", "amount", "closedate", "hubspot_owner_id")
_SEARCH_CAP = 10_000  # HubSpot's search returns at most this many results per query


def connect_hubspot(env: Mapping[str, str] | None = None) -> HubSpot:
    """A client with the private-app token of ``HUBSPOT_ACCESS_TOKEN``."""
    env = os.environ if env is None else env
    token = env.get("HUBSPOT_ACCESS_TOKEN")
    if not token:
        raise InputError(
            "no HubSpot token in the environment",
            hint="set HUBSPOT_ACCESS_TOKEN to a private app's access token (deals, companies and owners read scopes)",
        )
    # Rate limits are retried by our own bounded backoff (counted, reported), not silently by urllib3.
    transport = Retry(total=2, connect=2, read=0, redirect=2, status=0, respect_retry_after_header=False)
    options: dict[str, Any] = {"access_token": token, "retry": transport}
    if env.get("HUBSPOT_API_BASE"):
        options["host"] = env["HUBSPOT_API_BASE"].rstrip("/")
    ca = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE")
    if ca:
        options["ssl_ca_cert"] = ca
    return HubSpot(**options)


@dataclass
class Deal:
    """One deal as read: current properties, each history newest first, its company."""

    id: str
    properties: dict[str, str | None]
    history: dict[str, list[tuple[str | None, datetime]]] = field(default_factory=dict)
    company: str | None = None


def _limited(error: BaseException) -> float | None:
    if getattr(error, "status", None) != 429:
        return None
    headers = getattr(error, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", 0))
    except (TypeError, ValueError):
        return 0.0


def _deal(result: Any) -> Deal:
    history = {
        name: [(entry.value, entry.timestamp) for entry in entries]
        for name, entries in (result.properties_with_history or {}).items()
    }
    company = None
    associations = getattr(result, "associations", None) or {}
    if "companies" in associations and associations["companies"].results:
        company = str(associations["companies"].results[0].id)
    return Deal(id=str(result.id), properties=dict(result.properties or {}), history=history, company=company)


class HubSpotApi:
    """Calls with HTTP 429 retried (honouring ``Retry-After``); counts the requests it makes."""

    def __init__(self, client: HubSpot, backoff: Backoff | None = None, batch: int = 50) -> None:
        self.client = client
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.requests = 0

    def _call(self, what: str, call: Callable[[], T]) -> T:
        def counted() -> T:
            self.requests += 1
            return call()

        try:
            return self.backoff.run(counted, _limited, what)
        except SourceError:
            raise
        except Exception as error:
            status = getattr(error, "status", None)
            if status is None:
                raise
            raise SourceError(f"HubSpot refused {what}: HTTP {status} {getattr(error, 'reason', '')}".strip()) from None

    def deals(self) -> Iterator[Deal]:
        """Every deal, 50 a page (the most HubSpot gives with property history), with its company."""
        api = self.client.crm.deals.basic_api
        after: str | None = None
        while True:
            page = self._call(
                "a page of deals",
                partial(
                    api.get_page,
                    limit=self.batch,
                    after=after,
                    properties=list(DEAL_PROPERTIES),
                    properties_with_history=list(DEAL_HISTORY),
                    associations=["companies"],
                    archived=False,
                ),
            )
            yield from (_deal(result) for result in page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return

    def modified_since(self, since: datetime) -> list[str]:
        """Ids of deals modified after ``since`` (search, oldest first, restarted past HubSpot's 10,000 cap)."""
        ids: list[str] = []
        lower = int(since.timestamp() * 1000)
        while True:
            after: str | None = None
            seen = 0
            last = lower
            while True:
                request = PublicObjectSearchRequest(
                    filter_groups=[
                        FilterGroup(
                            filters=[Filter(property_name="hs_lastmodifieddate", operator="GT", value=str(lower))]
                        )
                    ],
                    sorts=["hs_lastmodifieddate"],
                    properties=["hs_lastmodifieddate"],
                    limit=100,
                    after=after,
                )
                page = self._call(
                    "a deal search",
                    partial(self.client.crm.deals.search_api.do_search, public_object_search_request=request),
                )
                for result in page.results:
                    ids.append(str(result.id))
                    stamp = (result.properties or {}).get("hs_lastmodifieddate")
                    if stamp:
                        last = max(last, int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000))
                seen += len(page.results)
                after = page.paging.next.after if page.paging and page.paging.next else None
                if not after or seen >= _SEARCH_CAP:
                    break
            if not after or last == lower:
                return list(dict.fromkeys(ids))
            lower = last - 1  # past the cap: search again from the newest stamp seen

    def deals_by_id(self, ids: Sequence[str]) -> list[Deal]:
        """Deals by id with property history (batch reads of 50) and their companies (associations v4)."""
        deals: list[Deal] = []
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            body = BatchReadInputSimplePublicObjectId(
                properties=list(DEAL_PROPERTIES),
                properties_with_history=list(DEAL_HISTORY),
                inputs=[DealId(id=i) for i in chunk],
            )
            batch = self._call(
                "a batch read of deals",
                partial(
                    self.client.crm.deals.batch_api.read, batch_read_input_simple_public_object_id=body, archived=False
                ),
            )
            deals.extend(_deal(result) for result in batch.results)
        companies = self.companies_of([d.id for d in deals])
        for deal in deals:
            deal.company = companies.get(deal.id)
        return deals

    def companies_of(self, deal_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        api = self.client.crm.associations.v4.batch_api
        for start in range(0, len(deal_ids), 1000):
            body = BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in deal_ids[start : start + 1000]]
            )
            batch = self._call(
                "a batch read of deal companies",
                partial(
                    api.get_page,
                    from_object_type="deals",
                    to_object_type="companies",
                    batch_input_public_fetch_associations_batch_request=body,
                ),
            )
            for result in batch.results:
                if result.to:
                    found[str(result._from.id)] = str(result.to[0].to_object_id)
        return found

    def archived_deals(self) -> list[tuple[str, datetime | None]]:
        """Deals in the recycle bin (archived), with when they were archived."""
        api = self.client.crm.deals.basic_api
        out: list[tuple[str, datetime | None]] = []
        after: str | None = None
        while True:
            page = self._call(
                "a page of archived deals",
                partial(api.get_page, limit=100, after=after, properties=["dealname"], archived=True),
            )
            out.extend((str(r.id), r.archived_at) for r in page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return out

    def companies(self, ids: Sequence[str]) -> list[Any]:
        from hubspot.crm.companies import BatchReadInputSimplePublicObjectId as CompanyRead
        from hubspot.crm.companies import SimplePublicObjectId as CompanyId

        rows: list[Any] = []
        for start in range(0, len(ids), 100):
            body = CompanyRead(
                properties=["name", "industry", "numberofemployees", "country", "hubspot_owner_id"],
                inputs=[CompanyId(id=i) for i in ids[start : start + 100]],
                properties_with_history=[],
            )
            batch = self._call(
                "a batch read of companies",
                partial(
                    self.client.crm.companies.batch_api.read,
                    batch_read_input_simple_public_object_id=body,
                    archived=False,
                ),
            )
            rows.extend(batch.results)
        return rows

    def owners(self) -> list[Any]:
        rows: list[Any] = []
        for archived in (False, True):
            after: str | None = None
            while True:
                page = self._call(
                    "a page of owners",
                    partial(self.client.crm.owners.owners_api.get_page, limit=500, after=after, archived=archived),
                )
                rows.extend(page.results)
                after = page.paging.next.after if page.paging and page.paging.next else None
                if not after:
                    break
        return rows

    def pipelines(self) -> list[Any]:
        return list(
            self._call("the deal pipelines", lambda: self.client.crm.pipelines.pipelines_api.get_all("deals")).results
        )
