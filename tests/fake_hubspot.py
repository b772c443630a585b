"""A fake HubSpot portal behind a local HTTPS server, speaking the CRM v3/v4 API's response shapes.

* ``GET /crm/v3/objects/deals`` — pages (``limit``, ``after``; ``paging.next.after``) of deals with
  ``properties``, ``propertiesWithHistory`` (newest first: ``value``, ``timestamp``, ``sourceType``) and
  ``associations.companies``; ``archived=true`` lists the recycle bin.
* ``POST /crm/v3/objects/deals/search`` — ``filterGroups`` on ``hs_lastmodifieddate`` (``GT``, epoch ms),
  ``sorts``, ``after``; ``total`` and at most 100 results a page, never past 10,000 (HubSpot's cap).
* ``POST /crm/v3/objects/deals/batch/read`` and ``/crm/v3/objects/companies/batch/read`` — ``inputs`` by id.
* ``POST /crm/v4/associations/deals/companies/batch/read`` — ``from``/``to`` pairs.
* ``GET /crm/v3/owners/`` and ``GET /crm/v3/pipelines/deals``.
* Errors as HubSpot writes them: ``{"status": "error", "message", "correlationId", "category"}``;
  ``portal.throttle(n)`` answers the next ``n`` calls with 429 ``RATE_LIMITS`` and ``Retry-After:
  portal.retry_after`` (seconds, "0" by default). A bearer token is required.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from .fake_https import https_server

TOKEN = "pat-na1-fake-private-app-token"
_NOW = "2026-07-01T00:00:00.000Z"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class FakeDeal:
    id: str
    history: dict[str, list[tuple[str | None, str]]]  # property -> [(value, timestamp)] oldest first
    properties: dict[str, str | None]
    company: str | None = None
    archived_at: str | None = None

    def body(self, properties: list[str], with_history: list[str], associations: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "properties": {name: self.properties.get(name) for name in properties},
            "createdAt": self.properties.get("createdate") or _NOW,
            "updatedAt": self.properties.get("hs_lastmodifieddate") or _NOW,
            "archived": self.archived_at is not None,
        }
        if self.archived_at:
            out["archivedAt"] = self.archived_at
        if with_history:
            out["propertiesWithHistory"] = {
                name: [
                    {"value": value, "timestamp": stamp, "sourceType": "CRM_UI", "sourceId": "userId:1"}
                    for value, stamp in reversed(self.history.get(name, []))
                ]
                for name in with_history
            }
        if associations and self.company:
            out["associations"] = {"companies": {"results": [{"id": self.company, "type": "deal_to_company"}]}}
        return out


@dataclass
class FakePortal:
    deals: dict[str, FakeDeal] = field(default_factory=dict)
    companies: dict[str, dict[str, str | None]] = field(default_factory=dict)
    owners: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0
    retry_after: str = "0"
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, times: int) -> None:
        with self.lock:
            self.throttled += times


def _stamp(moment: str) -> str:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def portal_from_export(folder: Path, stages: list[dict[str, Any]]) -> FakePortal:
    """A portal holding a Salesforce-shaped export: each deal's history from OpportunityHistory, one pipeline."""

    def read(name: str) -> list[dict[str, str]]:
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))

    slug = {s["name"]: re.sub(r"\W+", "", s["name"].lower()) for s in stages}
    portal = FakePortal()
    portal.pipelines = [
        {"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False, "createdAt": _NOW,
         "updatedAt": _NOW, "stages": [
            {"id": slug[s["name"]], "label": s["name"], "displayOrder": i, "archived": False, "createdAt": _NOW,
             "updatedAt": _NOW, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
             "metadata": {"isClosed": str(s["is_closed"]).lower(), "probability": str(s["probability"] / 100)}}
            for i, s in enumerate(stages)]}
    ]  # fmt: skip
    history: dict[str, list[dict[str, str]]] = {}
    for row in read("OpportunityHistory"):
        history.setdefault(row["OpportunityId"], []).append(row)
    for opp in read("Opportunity"):
        rows = sorted(history.get(opp["Id"], []), key=lambda r: r["CreatedDate"])
        tracks: dict[str, list[tuple[str | None, str]]] = {"dealstage": [], "amount": [], "closedate": []}
        for row in rows:
            when = _stamp(row["CreatedDate"])
            for prop, value in (
                ("dealstage", slug[row["StageName"]]),
                ("amount", row["Amount"] or None),
                ("closedate", f"{row['CloseDate']}T00:00:00Z" if row["CloseDate"] else None),
            ):
                if not tracks[prop] or tracks[prop][-1][0] != value:
                    tracks[prop].append((value, when))
        created = _stamp(opp["CreatedDate"])
        tracks["hubspot_owner_id"] = [(opp["OwnerId"], created)]
        properties = {
            "dealname": opp["Name"], "amount": opp["Amount"] or None, "dealstage": slug[opp["StageName"]],
            "pipeline": "default", "closedate": f"{opp['CloseDate']}T00:00:00Z", "createdate": created,
            "hubspot_owner_id": opp["OwnerId"], "dealtype": opp["Type"] or None,
            "hs_analytics_source": opp["LeadSource"] or None, "hs_forecast_category": None,
            "hs_lastmodifieddate": _stamp(opp["LastModifiedDate"]),
        }  # fmt: skip
        portal.deals[opp["Id"]] = FakeDeal(opp["Id"], tracks, properties, opp["AccountId"] or None)
    for account in read("Account"):
        portal.companies[account["Id"]] = {
            "name": account["Name"], "industry": account["Industry"], "numberofemployees": account["NumberOfEmployees"],
            "country": account["BillingCountry"], "hubspot_owner_id": account["OwnerId"],
        }  # fmt: skip
    for user in read("User"):
        first, _, last = user["Name"].partition(" ")
        portal.owners.append(
            {"id": user["Id"], "email": f"{first.lower()}@example.com", "firstName": first, "lastName": last,
             "userId": 1, "type": "PERSON", "createdAt": _stamp(user["CreatedDate"]), "updatedAt": _NOW,
             "archived": user["IsActive"] != "true"}
        )  # fmt: skip
    return portal


class _Handler(BaseHTTPRequestHandler):
    portal: FakePortal
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", self.portal.retry_after)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, category: str, message: str) -> None:
        self._send(
            status, {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
        )

    def _guard(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
            return False
        with self.portal.lock:
            throttled = self.portal.throttled > 0
            self.portal.throttled -= throttled
        if throttled:
            self._error(429, "RATE_LIMITS", "You have reached your secondly limit.")
            return False
        return True

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.portal.log.append(f"GET {url.path}")
        if not self._guard():
            return
        params = parse_qs(url.query)
        if url.path == "/crm/v3/objects/deals":
            self._deal_page(params)
        elif url.path.rstrip("/") == "/crm/v3/owners":
            archived = params.get("archived", ["false"])[0].lower() == "true"
            rows = [o for o in self.portal.owners if o["archived"] == archived]
            self._send(200, {"results": rows})
        elif url.path == "/crm/v3/pipelines/deals":
            self._send(200, {"results": self.portal.pipelines})
        else:
            self._error(404, "OBJECT_NOT_FOUND", "resource not found")

    def _split(self, params: dict[str, list[str]], name: str) -> list[str]:
        return [v for value in params.get(name, []) for v in value.split(",") if v]

    def _deal_page(self, params: dict[str, list[str]]) -> None:
        archived = params.get("archived", ["false"])[0].lower() == "true"
        limit = min(int(params.get("limit", ["10"])[0]), 100)
        history = self._split(params, "propertiesWithHistory")
        if history:
            limit = min(limit, 50)
        deals = [d for d in self.portal.deals.values() if (d.archived_at is not None) == archived]
        start = int(params.get("after", ["0"])[0])
        page = deals[start : start + limit]
        wanted = self._split(params, "properties")
        body: dict[str, Any] = {
            "results": [d.body(wanted, history, "companies" in self._split(params, "associations")) for d in page]
        }
        if start + limit < len(deals):
            body["paging"] = {"next": {"after": str(start + limit), "link": "?after=" + str(start + limit)}}
        self._send(200, body)

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.portal.log.append(f"POST {url.path}")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self._guard():
            return
        if url.path == "/crm/v3/objects/deals/search":
            self._search(body)
        elif url.path == "/crm/v3/objects/deals/batch/read":
            found = [self.portal.deals[i["id"]] for i in body["inputs"] if i["id"] in self.portal.deals]
            live = [d.body(body.get("properties", []), body.get("propertiesWithHistory", []), False) for d in found]
            self._send(200, {"status": "COMPLETE", "results": live, "startedAt": _NOW, "completedAt": _NOW})
        elif url.path == "/crm/v3/objects/companies/batch/read":
            wanted = body.get("properties", [])
            rows = [
                {"id": i["id"], "properties": {k: self.portal.companies[i["id"]].get(k) for k in wanted},
                 "createdAt": _NOW, "updatedAt": _NOW, "archived": False}
                for i in body["inputs"] if i["id"] in self.portal.companies
            ]  # fmt: skip
            self._send(200, {"status": "COMPLETE", "results": rows, "startedAt": _NOW, "completedAt": _NOW})
        elif url.path == "/crm/v4/associations/deals/companies/batch/read":
            pairs = [
                {"from": {"id": i["id"]}, "to": [{"toObjectId": int(c) if c.isdigit() else c, "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": None}]}]}
                for i in body["inputs"] if (c := (self.portal.deals.get(i["id"]) or FakeDeal("", {}, {})).company)
            ]  # fmt: skip
            self._send(200, {"status": "COMPLETE", "results": pairs, "startedAt": _NOW, "completedAt": _NOW})
        else:
            self._error(404, "OBJECT_NOT_FOUND", "resource not found")

    def _search(self, body: dict[str, Any]) -> None:
        lower = None
        for group in body.get("filterGroups", []):
            for f in group.get("filters", []):
                if f["propertyName"] == "hs_lastmodifieddate" and f["operator"] == "GT":
                    lower = int(f["value"])
        deals = [
            d for d in self.portal.deals.values()
            if d.archived_at is None and (lower is None or _ms(d.properties["hs_lastmodifieddate"] or _NOW) > lower)
        ]  # fmt: skip
        deals.sort(key=lambda d: d.properties["hs_lastmodifieddate"] or "")
        start = int(body.get("after") or 0)
        if start >= 10_000:
            self._error(400, "VALIDATION_ERROR", "There was a problem with the request.")
            return
        limit = min(int(body.get("limit") or 10), 100)
        page = deals[start : start + limit]
        out: dict[str, Any] = {
            "total": len(deals),
            "results": [d.body(body.get("properties", []), [], False) for d in page],
        }
        if start + limit < min(len(deals), 10_000):
            out["paging"] = {"next": {"after": str(start + limit), "link": ""}}
        self._send(200, out)


@contextmanager
def fake_hubspot(portal: FakePortal) -> Iterator[tuple[str, Path]]:
    """Serve ``portal``; yield (API base URL, CA certificate path)."""
    handler = type("PortalHandler", (_Handler,), {"portal": portal})
    with https_server(handler) as (url, cert):
        yield url, cert
