"""A fake Salesforce org behind a local HTTPS server, speaking the real API's response shapes.

* ``GET /services/data/vXX.X/sobjects/{Object}/describe`` — fields (name, type, custom) and keyPrefix;
  ``404 [{"errorCode": "NOT_FOUND", …}]`` for an object the org lacks.
* ``GET …/query?q=`` and ``…/queryAll?q=`` — SOQL (``SELECT f, … | COUNT() FROM X [WHERE …]`` with
  ``AND``, comparisons, ``IN (…)``), pages of ``page_size`` records with ``done`` and ``nextRecordsUrl``
  (``GET …/query/{locator}``); ``query`` hides deleted rows, ``queryAll`` shows them with ``IsDeleted``.
* Bulk API 2.0 queries: ``POST …/jobs/query`` creates a job (``UploadComplete``), ``GET …/jobs/query/{id}``
  reports ``InProgress`` then ``JobComplete``, ``GET …/jobs/query/{id}/results`` gives CSV pages (every
  value quoted, null as an empty field) with ``Sforce-Locator`` and ``Sforce-NumberOfRecords``.
* Errors as Salesforce writes them: ``[{"message": …, "errorCode": …}]``. ``org.refuse(n, status, code)``
  makes the next ``n`` API calls fail that way (``REQUEST_LIMIT_EXCEEDED`` is 403, a gateway's 429 too);
  ``path=`` limits the refusals to calls whose path contains it (e.g. a Bulk job's ``/results``).
  ``org.fail_jobs = n`` makes the next ``n`` Bulk API 2.0 jobs end ``Failed`` with an ``errorMessage``.
* A bearer token is required on every call (``INVALID_SESSION_ID`` otherwise).
* Logins, as Salesforce answers them: ``POST /services/oauth2/token`` (OAuth 2.0 JWT bearer: the assertion's
  RS256 signature checked against the connected app's certificate, ``iss``/``sub``/``aud``/``exp``; JSON with
  ``access_token`` and ``instance_url``, or ``{"error": "invalid_grant", …}``) and the SOAP partner login
  ``POST /services/Soap/u/{version}`` (username and password + security token; a ``loginResponse`` with
  ``serverUrl`` and ``sessionId``, or a ``LoginFault`` with ``INVALID_LOGIN``). ``org.allow_jwt`` and
  ``org.allow_password`` register who may log in.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

import jwt

from .fake_https import https_server

TOKEN = "00Dfake!session-token-for-tests"
ORG_ID = "00D000000000001AAA"
_SOAP = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>'
)
_LOGIN_RESPONSE = _SOAP.format(
    body="<loginResponse><result><metadataServerUrl>{meta}</metadataServerUrl><passwordExpired>false"
    "</passwordExpired><sandbox>false</sandbox><serverUrl>{server}</serverUrl><sessionId>{session}</sessionId>"
    "<userId>005000000000001AAA</userId><userInfo><organizationId>{org}</organizationId><userName>{user}"
    "</userName></userInfo></result></loginResponse>"
)
_LOGIN_FAULT = _SOAP.format(
    body="<soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, "
    'password, security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault">'
    "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security "
    "token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>"
)
_REST_TIME = "%Y-%m-%dT%H:%M:%S.000+0000"
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000")
_NUMERIC = {"double", "currency", "percent"}


def _field_type(name: str, values: list[str]) -> str:
    sample = next((v for v in values if v), "")
    if name == "Id":
        return "id"
    if name.startswith("Is"):
        return "boolean"
    if name in {"NumberOfEmployees", "SortOrder"}:
        return "int"
    if name in {"Amount", "QuotaAmount", "Probability", "DefaultProbability"}:
        return "currency"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT.*", sample):
        return "datetime"
    if re.fullmatch(r"\d{4}-\d\d-\d\d", sample):
        return "date"
    if name.endswith("Id"):
        return "reference"
    return "string"


def _typed(kind: str, text: str | None) -> Any:
    if text is None or text == "":
        return None
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "int":
        return int(float(text))
    if kind in _NUMERIC:
        return float(text)
    if kind == "datetime":
        return _parse_time(text).strftime(_REST_TIME)
    return text


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class SObjectTable:
    name: str
    fields: dict[str, str]  # name -> type
    rows: list[dict[str, Any]] = field(default_factory=list)
    key_prefix: str = "a00"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "keyPrefix": self.key_prefix,
            "fields": [{"name": n, "type": t, "custom": n.endswith("__c")} for n, t in self.fields.items()],
        }


class FakeOrg:
    """The org's objects and the server's behaviour (page sizes, refusals), shared with the handler."""

    def __init__(self, page_size: int = 2000, bulk_page: int = 50_000) -> None:
        self.objects: dict[str, SObjectTable] = {}
        self.page_size = page_size
        self.bulk_page = bulk_page
        self.cursors: dict[str, tuple[Sequence[dict[str, Any]], list[str], str]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.refusals: list[tuple[int, str, str]] = []
        self.fail_jobs = 0
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.jwt_apps: dict[tuple[str, str], bytes] = {}  # (consumer key, username) -> certificate's public key
        self.passwords: dict[str, str] = {}  # username -> password + security token

    def allow_jwt(self, consumer_key: str, username: str, public_key_pem: bytes) -> None:
        self.jwt_apps[(consumer_key, username)] = public_key_pem

    def allow_password(self, username: str, password: str, security_token: str) -> None:
        self.passwords[username] = password + security_token

    # --- building the org ---------------------------------------------------------------------
    def add(self, name: str, fields: dict[str, str], rows: list[dict[str, Any]], key_prefix: str = "a00") -> None:
        for row in rows:
            row.setdefault("IsDeleted", False)
        fields = {**fields, "IsDeleted": "boolean"}
        if "SystemModstamp" not in fields and name != "OpportunityFieldHistory":
            fields["SystemModstamp"] = "datetime"
        self.objects[name] = SObjectTable(name, fields, rows, key_prefix)

    def load_csv(self, path: Path, name: str, stamp: str) -> None:
        """An export file as the object's rows; SystemModstamp: LastModifiedDate, else CreatedDate, else ``stamp``."""
        with path.open(newline="", encoding="utf-8-sig") as handle:
            records = list(csv.DictReader(handle))
        header = list(records[0]) if records else next(csv.reader(path.open(encoding="utf-8-sig")), [])
        kinds = {n: _field_type(n, [r[n] for r in records[:50]]) for n in header}
        rows = [{n: _typed(kinds[n], r[n]) for n in header} for r in records]
        for row in rows:
            if name != "OpportunityFieldHistory":
                moment = row.get("LastModifiedDate") or row.get("CreatedDate") or stamp
                row["SystemModstamp"] = _typed("datetime", moment)
        prefix = str(rows[0]["Id"])[:3] if rows and rows[0].get("Id") else "a00"
        self.add(name, kinds, rows, prefix)

    def results_csv(
        self, rows: Sequence[dict[str, Any]], fields: list[str], kinds: dict[str, str], start: int, size: int
    ) -> tuple[str, int]:
        """One page of a Bulk API 2.0 job's results: CSV text (every value quoted, null empty) and its row count."""
        chunk = rows[start : start + size]
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(fields)
        for row in chunk:
            writer.writerow([_csv_value(kinds[f], row.get(f)) for f in fields])
        return out.getvalue(), len(chunk)

    def refuse(self, times: int, status: int = 403, code: str = "REQUEST_LIMIT_EXCEEDED", path: str = "") -> None:
        with self.lock:
            self.refusals.extend([(status, code, path)] * times)

    def refusal(self, path: str) -> tuple[int, str] | None:
        """The first refusal meant for a call to ``path`` (taken off the list), if any."""
        with self.lock:
            for i, (status, code, where) in enumerate(self.refusals):
                if where in path:
                    del self.refusals[i]
                    return status, code
        return None

    # --- SOQL ---------------------------------------------------------------------------------
    def parse(self, soql: str) -> tuple[SObjectTable, list[str], bool, list[str]]:
        """The queried table, its fields, whether it counts, and the WHERE's AND-ed parts (Salesforce's errors)."""
        match = re.fullmatch(r"SELECT (.+?) FROM (\w+)(?: WHERE (.+))?", soql.strip(), re.S)
        if match is None:
            raise ValueError(f"MALFORMED_QUERY: cannot parse {soql!r}")
        columns, name, where = match.groups()
        table = self.objects.get(name)
        if table is None:
            raise LookupError(f"INVALID_TYPE: sObject type '{name}' is not supported.")
        fields = [c.strip() for c in columns.split(",")]
        counting = fields == ["COUNT()"]
        for f in [] if counting else fields:
            if f not in table.fields:
                raise ValueError(f"INVALID_FIELD: No such column '{f}' on entity '{name}'.")
        return table, fields, counting, _split_and(where) if where else []

    def run(self, soql: str, deleted: bool) -> tuple[Sequence[dict[str, Any]], list[str], bool]:
        table, fields, counting, parts = self.parse(soql)
        tests = [_condition(part, table) for part in parts]
        rows = [r for r in table.rows if (deleted or not r.get("IsDeleted")) and all(t(r) for t in tests)]
        return rows, fields, counting


def _split_and(where: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(where):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and where[i : i + 5].upper() == " AND ":
            parts.append(where[start:i])
            start = i + 5
    parts.append(where[start:])
    out = []
    for part in parts:
        part = part.strip()
        while part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
            part = part[1:-1].strip()
        out.append(part)
    return out


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if depth < 0:
            return False
    return depth == 0


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", text):
        return _parse_time(text)
    return {"true": True, "false": False, "null": None}.get(text.lower(), text)


def read_condition(text: str, table: SObjectTable) -> tuple[str, str, Any]:
    """One SOQL condition as (field, operator, value), with Salesforce's errors: ``IN`` gives a list of values;
    a datetime field's value is written as stored stamps are (compared as text, in order)."""
    found = re.fullmatch(r"(\w+) IN \((.*)\)", text, re.S)
    if found:
        return found.group(1), "IN", [_literal(v) for v in re.findall(r"'(?:[^'\\]|\\.)*'", found.group(2))]
    found = re.fullmatch(r"(\w+) (>=|<=|!=|=|>|<) (.+)", text)
    if found is None:
        raise ValueError(f"MALFORMED_QUERY: cannot read condition {text!r}")
    name, op, value = found.group(1), found.group(2), _literal(found.group(3))
    if name not in table.fields:
        raise ValueError(f"INVALID_FIELD: No such column '{name}' on entity '{table.name}'.")
    if table.fields[name] == "datetime" and isinstance(value, datetime):
        value = value.strftime(_REST_TIME)
    return name, op, value


def _condition(text: str, table: SObjectTable) -> Any:
    name, op, value = read_condition(text, table)
    if op == "IN":
        values = set(value)
        return lambda r: r.get(name) in values
    timed = table.fields.get(name) == "datetime"

    def test(row: dict[str, Any]) -> bool:
        have = row.get(name)
        if timed and have is not None and not _CANONICAL.fullmatch(have):
            have = _parse_time(have).strftime(_REST_TIME)
        if op in ("=", "!="):
            return (have == value) == (op == "=")
        if have is None or value is None:
            return False
        return {">": have > value, ">=": have >= value, "<": have < value, "<=": have <= value}[op]

    return test


def _csv_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "datetime":
        return _parse_time(value).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    org: FakeOrg
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, text: str | None = None) -> None:
        data = (text if text is not None else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/csv" if text is not None else "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Sforce-Limit-Info", "api-usage=25/15000")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, [{"message": message, "errorCode": code}])

    def _guard(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return False
        refusal = self.org.refusal(urlparse(self.path).path)
        if refusal is not None:
            status, code = refusal
            self._error(status, code, "TotalRequests Limit exceeded.")
            return False
        return True

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.org.log.append(f"GET {url.path}")
        if not self._guard():
            return
        path = re.sub(r"^/services/data/v[\d.]+/", "", url.path).rstrip("/")
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if m := re.fullmatch(r"sobjects/(\w+)/describe", path):
                table = self.org.objects.get(m.group(1))
                if table is None:
                    self._error(404, "NOT_FOUND", "The requested resource does not exist")
                else:
                    self._send(200, table.describe())
            elif path in ("query", "queryAll"):
                self._query(params["q"], deleted=path == "queryAll", base=url.path.rstrip("/"))
            elif m := re.fullmatch(r"(?:query|queryAll)/([\w-]+)", path):
                self._page(m.group(1), url.path.rsplit("/", 1)[0])
            elif m := re.fullmatch(r"jobs/query/([\w-]+)", path):
                self._job_state(m.group(1))
            elif m := re.fullmatch(r"jobs/query/([\w-]+)/results", path):
                self._results(m.group(1), params)
            else:
                self._error(404, "NOT_FOUND", "The requested resource does not exist")
        except LookupError as error:
            self._error(400, "INVALID_TYPE", str(error))
        except ValueError as error:
            code, _, message = str(error).partition(": ")
            self._error(400, code, message)

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.org.log.append(f"POST {url.path}")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if url.path == "/services/oauth2/token":
            self._token_login(parse_qs(raw.decode()))
            return
        if re.fullmatch(r"/services/Soap/u/[\d.]+", url.path):
            self._soap_login(raw, url.path)
            return
        body = json.loads(raw or b"{}")
        if not self._guard():
            return
        path = re.sub(r"^/services/data/v[\d.]+/", "", url.path).rstrip("/")
        if path != "jobs/query":
            self._error(404, "NOT_FOUND", "The requested resource does not exist")
            return
        try:
            rows, fields, _ = self.org.run(body["query"], deleted=body.get("operation") == "queryAll")
        except (LookupError, ValueError) as error:
            code, _, message = str(error).partition(": ")
            self._error(400, code, message)
            return
        job = uuid.uuid4().hex[:15]
        name = re.search(r"FROM (\w+)", body["query"]).group(1)  # type: ignore[union-attr]
        with self.org.lock:
            failed = self.org.fail_jobs > 0
            self.org.fail_jobs -= failed
        self.org.jobs[job] = {"rows": rows, "fields": fields, "object": name, "polls": 0, "failed": failed}
        self._send(200, {"id": job, "operation": body.get("operation"), "object": name, "state": "UploadComplete"})

    def _base(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def _token_login(self, form: dict[str, list[str]]) -> None:
        """OAuth 2.0 JWT bearer flow, as ``/services/oauth2/token`` answers it."""
        grant = form.get("grant_type", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._send(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
            return
        assertion = form.get("assertion", [""])[0]
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            key = self.org.jwt_apps[(claims["iss"], claims["sub"])]
            jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=f"https://{self.headers.get('Host', '').split(':')[0]}",
                issuer=claims["iss"],
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except (jwt.PyJWTError, KeyError):
            self._send(400, {"error": "invalid_grant", "error_description": "invalid assertion"})
            return
        self._send(
            200,
            {
                "access_token": TOKEN,
                "scope": "api",
                "instance_url": self._base(),
                "id": f"https://login.salesforce.com/id/{ORG_ID}/005000000000001AAA",
                "token_type": "Bearer",
            },
        )

    def _soap_login(self, raw: bytes, path: str) -> None:
        """The SOAP partner API's ``login`` (username, then password followed by the security token)."""
        tree = ElementTree.fromstring(raw)
        found = {el.tag.rsplit("}", 1)[-1]: el.text or "" for el in tree.iter()}
        username, secret = found.get("username", ""), found.get("password", "")
        if self.org.passwords.get(username) != secret:
            self._send_xml(500, _LOGIN_FAULT)
            return
        version = path.rsplit("/", 1)[-1]
        self._send_xml(
            200,
            _LOGIN_RESPONSE.format(
                server=f"{self._base()}/services/Soap/u/{version}/{ORG_ID}",
                meta=f"{self._base()}/services/Soap/m/{version}/{ORG_ID}",
                session=TOKEN,
                user=xml_escape(username),
                org=ORG_ID,
            ),
        )

    def _send_xml(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _query(self, soql: str, deleted: bool, base: str) -> None:
        rows, fields, counting = self.org.run(soql, deleted)
        if counting:
            self._send(200, {"totalSize": len(rows), "done": True, "records": []})
            return
        locator = uuid.uuid4().hex[:15]
        self.org.cursors[locator] = (rows, fields, re.search(r"FROM (\w+)", soql).group(1))  # type: ignore[union-attr]
        self._page(f"{locator}-0", base)

    def _page(self, cursor: str, base: str) -> None:
        locator, _, start_text = cursor.rpartition("-")
        rows, fields, name = self.org.cursors[locator]
        start = int(start_text)
        stop = start + self.org.page_size
        records = [
            {"attributes": {"type": name, "url": f"/services/data/v59.0/sobjects/{name}/{r.get('Id')}"}}
            | {f: r.get(f) for f in fields}
            for r in rows[start:stop]
        ]
        body: dict[str, Any] = {"totalSize": len(rows), "done": stop >= len(rows), "records": records}
        if stop < len(rows):
            body["nextRecordsUrl"] = f"{base}/{locator}-{stop}"
        self._send(200, body)

    def _job_state(self, job_id: str) -> None:
        job = self.org.jobs[job_id]
        job["polls"] += 1
        state = "InProgress" if job["polls"] == 1 else "Failed" if job["failed"] else "JobComplete"
        body = {"id": job_id, "object": job["object"], "state": state, "numberRecordsProcessed": len(job["rows"])}
        if state == "Failed":
            body["errorMessage"] = "INVALID_QUERY_LOCATOR: the query job failed on the server"
        self._send(200, body)

    def _results(self, job_id: str, params: dict[str, str]) -> None:
        job = self.org.jobs[job_id]
        start = int(params.get("locator") or 0)
        size = min(int(params.get("maxRecords") or self.org.bulk_page), self.org.bulk_page)
        kinds = self.org.objects[job["object"]].fields
        text, count = self.org.results_csv(job["rows"], job["fields"], kinds, start, size)
        following = start + size
        locator = str(following) if following < len(job["rows"]) else "null"
        self._send(200, None, {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)}, text)


@contextmanager
def fake_salesforce(org: FakeOrg) -> Iterator[tuple[str, Path]]:
    """Serve ``org``; yield (instance URL, CA certificate path)."""
    handler = type("OrgHandler", (_Handler,), {"org": org})
    with https_server(handler) as (url, cert):
        yield url, cert


def org_from_export(folder: Path, stamp: str = "2026-01-01T00:00:00Z", **options: Any) -> FakeOrg:
    """A fake org holding an export folder's objects (Opportunity.csv → Opportunity, …)."""
    org = FakeOrg(**options)
    for path in sorted(folder.glob("*.csv")):
        org.load_csv(path, path.stem, stamp)
    return org
