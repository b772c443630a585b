"""Fetch what changed in a Salesforce org since the last sync, as the objects an export folder holds.

The first run (or ``full``) reads every row. Later runs read the rows whose ``SystemModstamp`` (field
history: ``CreatedDate``) is past the watermark kept in the store's records, minus a small overlap
(re-reading a row changes nothing in the store). Every query goes through ``queryAll`` so deleted rows
come back flagged ``IsDeleted``: deleted opportunities are then removed from the store. An object whose
change holds at least ``bulk_threshold`` rows is read by a Bulk API 2.0 job, smaller ones by REST.

A delta is made whole before it is checked: opportunities named by changed history, activity or contact
roles and not changed themselves are fetched by Id, and so are the accounts of changed opportunities (their
segment comes from the account), so every row passes the same checks as in a full export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import SourceError
from saleslead.ingest.build import TableSpec
from saleslead.ingest.convert import to_timestamp
from saleslead.ingest.owners import FIELD_HISTORY
from saleslead.ingest.salesforce import ACCOUNT, ACTIVITY, HISTORY, OPPORTUNITY, QUOTA, user_spec
from saleslead.ingest.settings import IngestSettings, StageSetting
from saleslead.sync.models import ObjectSync, SalesforceSyncRequest
from saleslead.sync.rows import csv_pages, text_table
from saleslead.sync.salesforce_api import Describe, SalesforceApi

__all__ = ["OBJECTS", "Fetched", "SObject", "fetch_changes"]

_ID_CHUNK = 300
#: field types that cannot be read through Bulk API 2.0 CSV or mean nothing to the seat
_SKIPPED_TYPES = {"address", "location", "base64", "complexvalue", "anyType"}


@dataclass(frozen=True)
class SObject:
    """One object the sync reads."""

    name: str
    key: str | None  # the ingest's object key; None for objects folded into another
    stamp: str = "SystemModstamp"
    parent: str | None = None  # the field naming the opportunity a row belongs to
    where: str = ""
    optional: bool = False


OBJECTS = (
    SObject("Opportunity", "opportunity"),
    SObject("OpportunityHistory", "opportunityhistory", parent="OpportunityId"),
    SObject(
        "OpportunityFieldHistory",
        "opportunityfieldhistory",
        stamp="CreatedDate",
        parent="OpportunityId",
        where="Field IN ('Owner', 'OwnerId')",
        optional=True,
    ),
    SObject("User", "user"),
    SObject("Account", "account", optional=True),
    SObject("ForecastingQuota", "forecastingquota", optional=True),
    SObject("Task", "task", parent="WhatId", optional=True),
    SObject("Event", "event", parent="WhatId", optional=True),
    SObject("OpportunityContactRole", None, parent="OpportunityId", optional=True),
)

_CONTACT_ROLE_FIELDS = ("Id", "OpportunityId", "ContactId", "IsPrimary", "Role")


def _specs(settings: IngestSettings) -> dict[str, TableSpec]:
    return {
        "Opportunity": OPPORTUNITY,
        "OpportunityHistory": HISTORY,
        "OpportunityFieldHistory": FIELD_HISTORY,
        "User": user_spec(settings),
        "Account": ACCOUNT,
        "ForecastingQuota": QUOTA,
        "Task": ACTIVITY,
        "Event": ACTIVITY,
    }


@dataclass
class Fetched:
    """The rows read, as text tables named by the contract's field names, and what was done to get them."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    objects: dict[str, ObjectSync] = field(default_factory=dict)
    deleted_opportunities: list[str] = field(default_factory=list)
    stages: tuple[StageSetting, ...] = ()
    instance: str = ""

    @property
    def changed(self) -> bool:
        return any(table.num_rows for table in self.tables.values())

    def newest(self) -> datetime | None:
        stamps = [o.watermark for o in self.objects.values() if o.watermark is not None and o.rows]
        return max(stamps) if stamps else None


def _soql_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" for value in values)


class _Reader:
    """Reads one org's objects for one sync."""

    def __init__(
        self,
        api: SalesforceApi,
        request: SalesforceSyncRequest,
        since: dict[str, datetime],
        progress: Callable[[str, int], None] | None,
    ) -> None:
        self.api = api
        self.request = request
        self.since = since
        self.progress = progress
        self.specs = _specs(IngestSettings())
        self.described: dict[str, Describe] = {}
        self.columns: dict[str, list[tuple[str, str]]] = {}  # object -> [(org field, contract name)]

    # --- which fields ------------------------------------------------------------------------------
    def describe(self, sobject: SObject) -> Describe | None:
        found = self.api.describe(sobject.name)
        if found is None:
            if not sobject.optional:
                raise SourceError(f"the org has no {sobject.name} object (or this login cannot see it)")
            return None
        self.described[sobject.name] = found
        self.columns[sobject.name] = self._fields(sobject, found)
        return found

    def _fields(self, sobject: SObject, found: Describe) -> list[tuple[str, str]]:
        renamed = {k.casefold(): v for k, v in self.request.fields.get(sobject.name, {}).items()}
        spec = self.specs.get(sobject.name)
        wanted = list(spec.fields.values()) if spec is not None else list(_CONTACT_ROLE_FIELDS)
        for always in ("Id", sobject.stamp, "IsDeleted", *([sobject.parent] if sobject.parent else [])):
            if always not in wanted:
                wanted.append(always)
        picked: list[tuple[str, str]] = []
        for name in wanted:
            org = found.field(renamed.get(name.casefold(), name))
            if org is not None:
                picked.append((org, name))
        if spec is not None and spec.keep_extra:
            taken = {org.casefold() for org, _ in picked}
            for custom in sorted(found.custom):
                if custom.casefold() not in taken and found.types.get(custom) not in _SKIPPED_TYPES:
                    picked.append((custom, custom))
        return picked

    # --- reading -----------------------------------------------------------------------------------
    def _select(self, sobject: SObject, where: Sequence[str]) -> str:
        fields = ", ".join(org for org, _ in self.columns[sobject.name])
        clause = " AND ".join(f"({w})" for w in where if w)
        return f"SELECT {fields} FROM {sobject.name}" + (f" WHERE {clause}" if clause else "")

    def _where(self, sobject: SObject) -> list[str]:
        where = [sobject.where]
        since = self.since.get(sobject.name)
        if since is not None:
            where.append(f"{sobject.stamp} > {_soql_time(since)}")
        return where

    def _rename(self, sobject: SObject, table: pa.Table) -> pa.Table:
        names = {org.casefold(): contract for org, contract in self.columns[sobject.name]}
        return table.rename_columns([names.get(str(c).casefold(), str(c)) for c in table.column_names])

    def read(self, sobject: SObject, where: Sequence[str], *, allow_bulk: bool = True) -> tuple[pa.Table, str]:
        """The rows matching ``where`` (REST or Bulk API 2.0 by their number) as a text table."""
        soql = self._select(sobject, where)
        columns = [org for org, _ in self.columns[sobject.name]]
        api = "rest"
        if allow_bulk and self.request.bulk_threshold > 0:
            clause = soql[soql.index(" FROM ") :]
            if self.api.count(f"SELECT COUNT(){clause}") >= self.request.bulk_threshold:
                api = "bulk2"
        if api == "bulk2":
            table = csv_pages(self.api.bulk(sobject.name, soql), columns)
        else:
            table = text_table(columns, self.api.rest(soql))
        if self.progress is not None:
            self.progress(sobject.name, table.num_rows)
        return self._rename(sobject, table), api

    def by_ids(self, sobject: SObject, column: str, ids: Sequence[str]) -> pa.Table:
        """Rows whose ``column`` is one of ``ids`` (REST, in chunks that keep the query short)."""
        parts = [
            self.read(sobject, [sobject.where, f"{column} IN ({_quoted(ids[i : i + _ID_CHUNK])})"], allow_bulk=False)[0]
            for i in range(0, len(ids), _ID_CHUNK)
        ]
        if not parts:
            return text_table([name for _, name in self.columns[sobject.name]], [])
        return pa.concat_tables(parts)

    def stages(self) -> tuple[StageSetting, ...]:
        """The org's stage ladder (OpportunityStage: order, closed, won, default probability)."""
        found = self.api.describe("OpportunityStage")
        if found is None:
            return ()
        name = found.field("ApiName") or "MasterLabel"
        soql = f"SELECT {name}, IsClosed, IsWon, DefaultProbability, SortOrder FROM OpportunityStage"
        rows = sorted(self.api.rest(soql), key=lambda r: (r.get("SortOrder") is None, r.get("SortOrder") or 0))
        ladder: dict[str, StageSetting] = {}
        for row in rows:
            label = str(row.get(name) or "").strip()
            if label and label not in ladder:
                closed = bool(row.get("IsClosed"))
                probability = row.get("DefaultProbability")
                ladder[label] = StageSetting(
                    name=label,
                    is_closed=closed,
                    is_won=closed and bool(row.get("IsWon")),
                    probability=float(probability) if probability is not None else None,
                )
        return tuple(ladder.values())


def _newest(table: pa.Table, column: str) -> datetime | None:
    if column not in table.column_names or table.num_rows == 0:
        return None
    stamps, _ = to_timestamp(table.column(column))
    top = pc.max(stamps).as_py()
    return top if isinstance(top, datetime) else None


def _true(table: pa.Table, column: str) -> pa.Array:
    if column not in table.column_names:
        return pa.array([False] * table.num_rows)
    return pc.fill_null(pc.equal(pc.utf8_lower(table.column(column)), "true"), False)


def _ids(table: pa.Table, column: str, prefix: str | None = None) -> set[str]:
    if column not in table.column_names:
        return set()
    values = {v for v in table.column(column).to_pylist() if v}
    return {v for v in values if prefix is None or v.startswith(prefix)}


def _append(table: pa.Table, more: pa.Table) -> pa.Table:
    if more.num_rows == 0:
        return table
    return pa.concat_tables([table, more.select(table.column_names)])


def _fold_contact_roles(opps: pa.Table, roles: pa.Table) -> pa.Table:
    """Each opportunity's live contact roles as two columns (kept in ``extra``): how many, and the primary."""
    live = roles.filter(pc.invert(_true(roles, "IsDeleted")))
    counts: dict[str, int] = {}
    primary: dict[str, str] = {}
    for opp, contact, is_primary in zip(
        live.column("OpportunityId").to_pylist(),
        live.column("ContactId").to_pylist() if "ContactId" in live.column_names else [None] * live.num_rows,
        _true(live, "IsPrimary").to_pylist(),
        strict=True,
    ):
        if opp:
            counts[opp] = counts.get(opp, 0) + 1
            if is_primary and contact:
                primary[opp] = contact
    ids = opps.column("Id").to_pylist()
    opps = opps.append_column("ContactRoles", pa.array([str(counts.get(i, 0)) for i in ids], pa.string()))
    return opps.append_column("PrimaryContactId", pa.array([primary.get(i) for i in ids], pa.string()))


def fetch_changes(
    api: SalesforceApi,
    request: SalesforceSyncRequest,
    watermarks: dict[str, datetime],
    progress: Callable[[str, int], None] | None = None,
) -> Fetched:
    """Read every object's change since its watermark (everything when ``watermarks`` is empty)."""
    overlap = timedelta(minutes=request.overlap_minutes)
    since = {} if request.full else {name: moment - overlap for name, moment in watermarks.items()}
    reader = _Reader(api, request, since, progress)
    fetched = Fetched(instance=api.instance)
    for sobject in OBJECTS:
        if reader.describe(sobject) is None:
            fetched.objects[sobject.name] = ObjectSync(name=sobject.name, api="absent", since=None, rows=0)
            continue
        table, how = reader.read(sobject, reader._where(sobject))
        fetched.tables[sobject.name] = table
        fetched.objects[sobject.name] = ObjectSync(
            name=sobject.name,
            api=how,
            since=since.get(sobject.name),
            rows=table.num_rows,
            deleted=int(pc.sum(_true(table, "IsDeleted")).as_py() or 0),
            watermark=_newest(table, sobject.stamp) or watermarks.get(sobject.name),
        )
    incremental = bool(since)
    if incremental:
        _complete(reader, fetched)
    _finish_opportunities(reader, fetched, incremental)
    fetched.stages = reader.stages()
    return fetched


def _complete(reader: _Reader, fetched: Fetched) -> None:
    """Fetch by Id the opportunities named by changed rows, and the accounts of changed opportunities."""
    opportunity = OBJECTS[0]
    opps = fetched.tables["Opportunity"]
    prefix = reader.described["Opportunity"].key_prefix
    named: set[str] = set()
    for sobject in OBJECTS[1:]:
        if sobject.parent and sobject.name in fetched.tables:
            named |= _ids(fetched.tables[sobject.name], sobject.parent, prefix)
    missing = sorted(named - _ids(opps, "Id"))
    if missing:
        opps = _append(opps, reader.by_ids(opportunity, "Id", missing))
        fetched.objects["Opportunity"] = fetched.objects["Opportunity"].model_copy(update={"by_id": len(missing)})
    fetched.tables["Opportunity"] = opps
    if "Account" in fetched.tables:
        accounts = fetched.tables["Account"]
        wanted = sorted(_ids(opps, "AccountId") - _ids(accounts, "Id"))
        if wanted:
            fetched.tables["Account"] = _append(accounts, reader.by_ids(OBJECTS[4], "Id", wanted))
            fetched.objects["Account"] = fetched.objects["Account"].model_copy(update={"by_id": len(wanted)})


def _finish_opportunities(reader: _Reader, fetched: Fetched, incremental: bool) -> None:
    """Deleted opportunities noted; contact roles of the opportunities read folded into their rows."""
    opps = fetched.tables["Opportunity"]
    deleted = opps.filter(_true(opps, "IsDeleted"))
    fetched.deleted_opportunities = sorted(_ids(deleted, "Id"))
    roles_object = OBJECTS[-1]
    if roles_object.name not in fetched.tables:
        return
    roles = fetched.tables.pop(roles_object.name)
    if incremental:  # every role of every opportunity read, not only the roles that changed
        roles = reader.by_ids(roles_object, "OpportunityId", sorted(_ids(opps, "Id")))
    fetched.tables["Opportunity"] = _fold_contact_roles(opps, roles)
