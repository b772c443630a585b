"""Read a folder of Salesforce object exports (CSV or Parquet, one file per object)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import InputError
from saleslead.ingest.assemble import Parts, finish
from saleslead.ingest.build import TableSpec, build
from saleslead.ingest.canonical import CanonicalExport
from saleslead.ingest.convert import Problems
from saleslead.ingest.owners import FIELD_HISTORY, owner_changes
from saleslead.ingest.settings import IngestSettings
from saleslead.ingest.source import RawTable, read_raw

__all__ = ["OBJECTS", "Loader", "find_files", "read_objects", "read_salesforce", "user_spec"]

Progress = Callable[[str, int], None]

OPPORTUNITY = TableSpec(
    label="Opportunity",
    fields={
        "opportunity_id": "Id",
        "account_id": "AccountId",
        "owner_id": "OwnerId",
        "name": "Name",
        "amount": "Amount",
        "stage": "StageName",
        "probability": "Probability",
        "forecast_category": "ForecastCategoryName",
        "close_date": "CloseDate",
        "created_at": "CreatedDate",
        "is_closed": "IsClosed",
        "is_won": "IsWon",
        "motion": "Type",
        "channel": "LeadSource",
        "last_activity_date": "LastActivityDate",
        "segment": "Segment__c",
        "product": "Product__c",
        "modified_at": "LastModifiedDate",
        "modstamp": "SystemModstamp",
        "is_deleted": "IsDeleted",
    },
    kinds={
        "opportunity_id": "string",
        "name": "string",
        "account_id": "string",
        "owner_id": "string",
        "created_at": "timestamp",
        "segment": "string",
        "motion": "string",
        "channel": "string",
        "product": "string",
        "stage": "string",
        "amount": "float",
        "close_date": "date",
        "probability": "float",
        "forecast_category": "string",
        "is_closed": "bool",
        "is_won": "bool",
        "last_activity_date": "date",
        "modified_at": "timestamp",
        "modstamp": "timestamp",
        "is_deleted": "bool",
    },
    required=("opportunity_id", "stage", "close_date"),
    not_null=("opportunity_id", "stage", "close_date"),
    id_field="opportunity_id",
    nonnegative=("amount",),
)

HISTORY = TableSpec(
    label="OpportunityHistory",
    fields={
        "opportunity_id": "OpportunityId",
        "changed_at": "CreatedDate",
        "stage": "StageName",
        "amount": "Amount",
        "close_date": "CloseDate",
        "probability": "Probability",
        "forecast_category": "ForecastCategory",
        "modstamp": "SystemModstamp",
        "is_deleted": "IsDeleted",
    },
    kinds={
        "opportunity_id": "string",
        "changed_at": "timestamp",
        "stage": "string",
        "amount": "float",
        "close_date": "date",
        "probability": "float",
        "forecast_category": "string",
        "modstamp": "timestamp",
        "is_deleted": "bool",
    },
    required=("opportunity_id", "changed_at", "stage"),
    not_null=("opportunity_id", "changed_at"),
    nonnegative=("amount",),
    keep_extra=False,
)


def user_spec(settings: IngestSettings) -> TableSpec:
    """User spec; the start/end date fields come from settings."""
    return TableSpec(
        label="User",
        fields={
            "user_id": "Id",
            "name": "Name",
            "title": "Title",
            "manager_id": "ManagerId",
            "is_active": "IsActive",
            "start_date": settings.user_start_field,
            "end_date": settings.user_end_field,
            "role": "Role__c",
            "segment": "Segment__c",
        },
        kinds={
            "user_id": "string",
            "name": "string",
            "title": "string",
            "manager_id": "string",
            "is_active": "bool",
            "start_date": "date",
            "end_date": "date",
            "role": "string",
            "segment": "string",
        },
        required=("user_id",),
        not_null=("user_id",),
        id_field="user_id",
    )


ACCOUNT = TableSpec(
    label="Account",
    fields={
        "account_id": "Id",
        "name": "Name",
        "industry": "Industry",
        "employees": "NumberOfEmployees",
        "country": "BillingCountry",
        "owner_id": "OwnerId",
        "segment": "Segment__c",
    },
    kinds={
        "account_id": "string",
        "name": "string",
        "industry": "string",
        "employees": "int",
        "country": "string",
        "owner_id": "string",
        "segment": "string",
    },
    required=("account_id",),
    not_null=("account_id",),
    id_field="account_id",
    nonnegative=("employees",),
)

QUOTA = TableSpec(
    label="ForecastingQuota",
    fields={"owner_id": "QuotaOwnerId", "start_date": "StartDate", "amount": "QuotaAmount"},
    kinds={"owner_id": "string", "start_date": "date", "amount": "float"},
    required=("owner_id", "start_date", "amount"),
    not_null=("owner_id", "start_date"),
    nonnegative=("amount",),
)

ACTIVITY = TableSpec(
    label="Task/Event",
    fields={"opportunity_id": "WhatId", "activity_date": "ActivityDate"},
    kinds={"opportunity_id": "string", "activity_date": "date"},
    required=("opportunity_id", "activity_date"),
    keep_extra=False,
)

#: object name (case-insensitive file stem) -> canonical part
OBJECTS = {
    "opportunity": "opportunities",
    "opportunityhistory": "history",
    "opportunityfieldhistory": "owner_changes",
    "user": "users",
    "account": "accounts",
    "forecastingquota": "quotas",
    "task": "activities",
    "event": "activities",
}


def find_files(folder: Path) -> dict[str, Path]:
    """Export files by lower-case object name (file stem), CSV or Parquet."""
    if not folder.is_dir():
        raise InputError(
            f"not a folder: {folder}",
            file=folder.name,
            hint="expected a folder of CSV or Parquet export files",
        )
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in {".csv", ".parquet"}:
            continue
        key = path.stem.casefold()
        if key in found:
            raise InputError(
                f"two files for the object {path.stem}: {found[key].name} and {path.name}",
                file=path.name,
                hint="keep one file per object",
            )
        found[key] = path
    return found


def _live(table: pa.Table) -> pa.Table:
    """Drop rows Salesforce marks IsDeleted (recycle-bin rows included in some exports)."""
    deleted = pc.fill_null(table.column("is_deleted"), False)
    return table.filter(pc.invert(deleted)) if pc.any(deleted).as_py() else table


_ROLE_COLUMNS = ("OpportunityId", "ContactId", "IsDeleted")


def count_contact_roles(opportunities: RawTable, roles: RawTable) -> None:
    """Add ``ContactRoles`` (distinct live contacts on the deal; kept in ``extra``) from OpportunityContactRole.

    The deal-risk check reads it to call a deal with fewer than two contacts single-threaded. An Opportunity
    object that already carries the column (the API sync folds it in) is left as it is.
    """
    if opportunities.find("ContactRoles") is not None or opportunities.find("Id") is None:
        return
    opp_col, contact_col = roles.find("OpportunityId"), roles.find("ContactId")
    if opp_col is None:
        return
    deleted_col = roles.find("IsDeleted")
    deleted = (
        [str(v).strip().lower() in ("true", "1") for v in roles.table.column(deleted_col).to_pylist()]
        if deleted_col
        else [False] * roles.num_rows
    )
    contacts = roles.table.column(contact_col).to_pylist() if contact_col else [None] * roles.num_rows
    seen: dict[str, set[str]] = {}
    for n, (opp, contact) in enumerate(zip(roles.table.column(opp_col).to_pylist(), contacts, strict=True)):
        if opp and not deleted[n]:
            seen.setdefault(str(opp), set()).add(str(contact) if contact else f"row {n}")
    ids = opportunities.table.column(str(opportunities.find("Id"))).to_pylist()
    counts = pa.array([str(len(seen.get(str(i), ()))) for i in ids], pa.string())
    opportunities.table = opportunities.table.append_column("ContactRoles", counts)


#: Reads one object: (object key, spec) -> its raw rows, or None when the source does not hold it.
Loader = Callable[[str, TableSpec], RawTable | None]


def read_salesforce(
    folder: Path,
    *,
    strict: bool,
    snapshot_at: datetime | None,
    settings: IngestSettings,
    progress: Progress | None,
) -> CanonicalExport:
    """Read Opportunity (required) and the optional objects found in ``folder``."""
    files = find_files(folder)
    if "opportunity" not in files:
        raise InputError(
            "no Opportunity file in the export folder",
            file=folder.name,
            hint="expected Opportunity.csv or Opportunity.parquet (other objects are optional)",
        )

    def load(key: str, spec: TableSpec) -> RawTable | None:
        path = files.get(key)
        if path is None:
            return None
        # Without ``extra`` only the mapped columns are worth converting.
        wanted = None if spec.keep_extra else spec.fields.values()
        raw = read_raw(path, strict=strict, rows_required=key == "opportunity", columns=wanted)
        roles = files.get("opportunitycontactrole")
        if key == "opportunity" and roles is not None:
            count_contact_roles(raw, read_raw(roles, strict=strict, rows_required=False, columns=_ROLE_COLUMNS))
        return raw

    return read_objects(folder.name, load, strict=strict, snapshot_at=snapshot_at, settings=settings, progress=progress)


def read_objects(
    source: str,
    loader: Loader,
    *,
    strict: bool,
    snapshot_at: datetime | None,
    settings: IngestSettings,
    progress: Progress | None,
    adjust: Callable[[pa.Table, datetime], pa.Table] | None = None,
) -> CanonicalExport:
    """Validate and assemble Salesforce objects however they were fetched (a folder, the API, a warehouse).

    ``loader(key, spec)`` gives the raw rows of one object (keys of :data:`OBJECTS`, ``opportunity``
    required) as text or typed columns; every object then goes through the same checks as a folder export.
    ``adjust(opportunities, snapshot)`` is a source's own last rule (as a mapping profile's ``rules``).
    """
    problems = Problems(strict=strict)
    objects = _Objects(loader, problems, strict, progress)
    opportunity = objects.load("opportunity", OPPORTUNITY)
    if opportunity is None:
        raise InputError(f"no Opportunity rows in {source}", file=source, hint="expected the Opportunity object")
    opps, opps_raw = opportunity
    opps = _live(opps)
    parts = Parts(
        source=source,
        opportunities=opps,
        opportunities_raw=opps_raw,
        close_date_column=opps_raw.find("CloseDate"),
    )
    modified = [opps.column("modified_at"), opps.column("modstamp")]
    if (history := objects.load("opportunityhistory", HISTORY)) is not None:
        parts.history, parts.history_raw = _live(history[0]), history[1]
        modified.append(parts.history.column("modstamp"))
    _add_reference_objects(parts, objects, settings)
    _add_owner_changes(parts, objects)
    activities = [found[0] for key in ("task", "event") if (found := objects.load(key, ACTIVITY)) is not None]
    if activities:
        parts.activities = pa.concat_tables(activities)
    parts.files = tuple(objects.used)
    parts.notes[:0] = objects.notes
    return finish(
        parts,
        problems=problems,
        configured=settings.stages,
        bands=settings.employee_bands,
        snapshot_at=snapshot_at,
        modified=modified,
        adjust=adjust,
    )


class _Objects:
    """Loads the objects of one read in turn through a :data:`Loader`, building each into its typed table.

    An optional object whose file is unreadable at its start (an empty file, a bad header) is noted and
    skipped when reading leniently; the Opportunity object never is.
    """

    def __init__(self, loader: Loader, problems: Problems, strict: bool, progress: Progress | None) -> None:
        self.loader = loader
        self.problems = problems
        self.strict = strict
        self.progress = progress
        #: names of the files read, in order
        self.used: list[str] = []
        #: report lines on objects read but empty
        self.notes: list[str] = []

    def load(self, key: str, spec: TableSpec) -> tuple[pa.Table, RawTable] | None:
        """The object's typed table and its raw rows (None when the source has no such object)."""
        try:
            raw = self.loader(key, spec)
        except InputError as error:
            if self.strict or key == "opportunity" or error.line not in (1, 2) or error.column is not None:
                raise
            self.problems.note(error.file or key, error.line, None, f"{error.message}; file ignored")
            return None
        if raw is None:
            return None
        self.used.append(raw.name)
        if raw.num_rows == 0:
            self.notes.append(f"{raw.name}: a header and no rows")
        if self.progress is not None:
            self.progress(raw.name, raw.num_rows)
        table = build(raw, spec, self.problems)
        raw.release()
        return table, raw


def _add_reference_objects(parts: Parts, objects: _Objects, settings: IngestSettings) -> None:
    """Users, accounts and quotas, each if the source has it."""
    if (users := objects.load("user", user_spec(settings))) is not None:
        parts.users = users[0]
    if (accounts := objects.load("account", ACCOUNT)) is not None:
        parts.accounts = accounts[0]
    if (quotas := objects.load("forecastingquota", QUOTA)) is not None:
        parts.quotas = quotas[0]


def _add_owner_changes(parts: Parts, objects: _Objects) -> None:
    """The deals' owner changes from the field history (if the source has it), with its notes."""
    if (fields := objects.load("opportunityfieldhistory", FIELD_HISTORY)) is None:
        return
    owned = owner_changes(_live(fields[0]), parts.users, parts.opportunities.column("owner_id"))
    parts.owner_changes, parts.owner_changes_raw = owned.changes, fields[1]
    parts.notes.extend(owned.notes(fields[1].name))
