"""Mapping profiles (YAML): read exports that are not Salesforce objects into the canonical tables.

A profile names the files, renames their columns to canonical fields, fixes known misspellings
(``aliases``), derives the user hierarchy, declares the stages and chooses the rules for what the
source does not record. Shipped profiles live in ``saleslead/ingest/profiles``; see
``docs/data-contract.md`` for the format.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from saleslead.errors import MappingError
from saleslead.ingest.assemble import Parts, finish, lookup
from saleslead.ingest.build import Kind, TableSpec, build
from saleslead.ingest.canonical import (
    ACCOUNTS,
    ACTIVITIES,
    HISTORY,
    OPPORTUNITIES,
    QUOTAS,
    USERS,
    CanonicalExport,
)
from saleslead.ingest.convert import Problems
from saleslead.ingest.settings import IngestSettings, StageSetting
from saleslead.ingest.source import RawTable, read_raw

__all__ = ["PROFILES", "Profile", "fill_open_close_dates", "load_profile", "read_mapped"]

PROFILES = Path(__file__).parent / "profiles"
TableName = Literal["opportunities", "history", "users", "accounts", "quotas", "activities", "products"]
_PRODUCTS = pa.schema([("product", pa.string()), ("series", pa.string()), ("list_price", pa.float64())])
_SCHEMAS: dict[str, pa.Schema] = {
    "opportunities": OPPORTUNITIES,
    "history": HISTORY,
    "users": USERS,
    "accounts": ACCOUNTS,
    "quotas": QUOTAS,
    "activities": ACTIVITIES,
    "products": _PRODUCTS,
}
_IDS = {
    "opportunities": "opportunity_id",
    "users": "user_id",
    "accounts": "account_id",
    "products": "product",
}
_DEFAULT_REQUIRED = {
    "opportunities": ("opportunity_id", "stage"),
    "history": ("opportunity_id", "changed_at"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TableMap(_Strict):
    """One source file: which file (name or glob), and canonical field -> source column."""

    file: str
    columns: dict[str, str]
    required: tuple[str, ...] | None = None
    not_null: tuple[str, ...] | None = None
    aliases: dict[str, dict[str, str]] = Field(default_factory=dict)
    ignore: tuple[str, ...] = ()


class HierarchyLevel(_Strict):
    """One level of a user hierarchy held as columns of one file (lowest level first)."""

    column: str
    role: str | None = None
    title: str | None = None
    id_prefix: str = ""


class UsersMap(_Strict):
    """Users derived from a hierarchy file, or from the distinct opportunity owners."""

    file: str | None = None
    levels: tuple[HierarchyLevel, ...] = ()
    from_owners: bool = False
    owner_role: str | None = None


class Rules(_Strict):
    """Rules for what the source does not record. Each is documented in docs/data-contract.md."""

    list_price_for: tuple[Literal["open", "won", "lost"], ...] = ()
    open_close_date: Literal["required", "snapshot_plus_median_cycle"] = "required"
    segment_from: Literal["account_employees", "product_series"] = "account_employees"


class Profile(_Strict):
    """A parsed mapping profile."""

    name: str
    description: str = ""
    tables: dict[TableName, TableMap]
    users: UsersMap | None = None
    stages: tuple[StageSetting, ...] = ()
    employee_bands: dict[str, tuple[int, int | None]] = Field(default_factory=dict)
    rules: Rules = Rules()


def load_profile(mapping: Path | str) -> tuple[Profile, str]:
    """Parse a profile file, or a shipped profile by bare name. Returns it and its file name."""
    path = Path(mapping)
    if not path.exists() and path.suffix == "" and (PROFILES / f"{path.name}.yaml").exists():
        path = PROFILES / f"{path.name}.yaml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
        raise MappingError(
            f"no mapping profile {str(mapping)!r}",
            file=path.name,
            hint=f"give a YAML profile path or a shipped name ({shipped})",
        )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise MappingError(
            f"not valid YAML: {error}",
            file=path.name,
            line=mark.line + 1 if mark is not None else None,
            hint="expected a YAML mapping profile",
        ) from None
    try:
        profile = Profile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MappingError(
            f"profile field {where}: {first['msg']}",
            file=path.name,
            column=where,
            hint="see the mapping profile format in docs/data-contract.md",
        ) from None
    for table, entry in profile.tables.items():
        known = set(_SCHEMAS[table].names) - {"extra"}
        for field in (*entry.columns, *entry.aliases, *(entry.required or ()), *(entry.not_null or ())):
            if field not in known:
                raise MappingError(
                    f"{table} has no canonical field {field!r}",
                    file=path.name,
                    column=f"tables.{table}",
                    hint=f"expected one of {', '.join(sorted(known))}",
                )
    return profile, path.name


def _resolve(folder: Path, pattern: str, profile_file: str) -> Path:
    matches = sorted(p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name.lower(), pattern.lower()))
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files ({', '.join(p.name for p in matches)})"
        raise MappingError(
            f"{found} in {folder.name} match {pattern!r}",
            file=profile_file,
            hint=f"expected exactly one file matching {pattern!r} in the export folder",
        )
    return matches[0]


def _spec(table: str, entry: TableMap) -> TableSpec:
    schema = _SCHEMAS[table]
    kinds: dict[str, Kind] = {f.name: _kind(f.type) for f in schema if f.name != "extra"}
    required = entry.required if entry.required is not None else _DEFAULT_REQUIRED.get(table, ())
    not_null = entry.not_null if entry.not_null is not None else required
    return TableSpec(
        label=table,
        fields=entry.columns,
        kinds=kinds,
        required=tuple(required),
        not_null=tuple(not_null),
        id_field=_IDS.get(table) if _IDS.get(table) in entry.columns else None,
        nonnegative=tuple(name for name in ("amount", "employees", "list_price") if name in entry.columns),
        aliases=entry.aliases,
        ignore=entry.ignore,
    )


def _kind(kind: pa.DataType) -> Kind:
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_boolean(kind):
        return "bool"
    return "string"


def _hierarchy(raw: RawTable, levels: tuple[HierarchyLevel, ...], profile_file: str) -> pa.Table:
    """Users for every level of a hierarchy file; each level's manager is the next level up."""
    pieces = []
    for index, level in enumerate(levels):
        column = raw.find(level.column)
        if column is None:
            raise MappingError(
                f"hierarchy column {level.column!r} not in {raw.name}",
                file=profile_file,
                column=level.column,
                hint=f"expected one of {', '.join(raw.table.column_names)}",
            )
        names = pc.utf8_trim_whitespace(raw.table.column(column).combine_chunks())
        ids = pc.binary_join_element_wise(level.id_prefix, names, "")
        manager = pa.nulls(len(names), pa.string())
        if index + 1 < len(levels):
            above = levels[index + 1]
            up = raw.find(above.column)
            if up is not None:
                upper = pc.utf8_trim_whitespace(raw.table.column(up).combine_chunks())
                manager = pc.binary_join_element_wise(above.id_prefix, upper, "")
        size = len(names)
        pieces.append(
            pa.table(
                {
                    "user_id": ids,
                    "name": names,
                    "title": pa.array([level.title] * size, pa.string()),
                    "manager_id": manager,
                    "role": pa.array([level.role] * size, pa.string()),
                }
            ).filter(pc.is_valid(ids))
        )
    users = pa.concat_tables(pieces)
    users = users.group_by("user_id", use_threads=False).aggregate(
        [(name, "first") for name in ("name", "title", "manager_id", "role")]
    )
    users = users.rename_columns([name.removesuffix("_first") for name in users.column_names])
    return _complete_users(users)


def _complete_users(users: pa.Table) -> pa.Table:
    size = users.num_rows
    columns = {f.name: users.column(f.name) if f.name in users.column_names else pa.nulls(size, f.type) for f in USERS}
    columns["is_active"] = pa.array([True] * size, pa.bool_())
    return pa.table(columns, schema=USERS)


def _owners(opps: pa.Table, role: str | None) -> pa.Table:
    owners = pc.unique(opps.column("owner_id").drop_null())
    size = len(owners)
    return _complete_users(pa.table({"user_id": owners, "name": owners, "role": pa.array([role] * size, pa.string())}))


def _adjuster(profile: Profile, products: pa.Table | None) -> Callable[[pa.Table, datetime], pa.Table]:
    """The profile's rules for amounts and open close dates, applied once stages and snapshot are known."""
    rules = profile.rules

    def adjust(opps: pa.Table, snapshot: datetime) -> pa.Table:
        if rules.list_price_for and products is not None:
            closed = pc.fill_null(opps.column("is_closed"), False)
            won = pc.fill_null(opps.column("is_won"), False)
            which = {"open": pc.invert(closed), "won": won, "lost": pc.and_(closed, pc.invert(won))}
            chosen = which[rules.list_price_for[0]]
            for kind in rules.list_price_for[1:]:
                chosen = pc.or_(chosen, which[kind])
            amount = opps.column("amount")
            blank = pc.or_(pc.is_null(amount), pc.fill_null(pc.equal(amount, 0.0), False))
            price = lookup(opps.column("product"), products, "product", "list_price")
            replace = pc.and_(pc.and_(chosen, blank), pc.is_valid(price))
            opps = opps.set_column(opps.schema.get_field_index("amount"), "amount", pc.if_else(replace, price, amount))
        if rules.open_close_date == "snapshot_plus_median_cycle":
            opps = fill_open_close_dates(opps, snapshot)
        return opps

    return adjust


def fill_open_close_dates(opps: pa.Table, snapshot: datetime) -> pa.Table:
    """Open deals without a close date: the snapshot day plus the median won cycle (``snapshot_plus_median_cycle``)."""
    expected = snapshot.date() + timedelta(days=_median_cycle(opps))
    open_blank = pc.and_(
        pc.invert(pc.fill_null(opps.column("is_closed"), False)),
        pc.is_null(opps.column("close_date")),
    )
    filled = pc.if_else(open_blank, pa.scalar(expected, pa.date32()), opps.column("close_date"))
    return opps.set_column(opps.schema.get_field_index("close_date"), "close_date", filled)


def _median_cycle(opps: pa.Table) -> int:
    """Median whole days from created to close over won deals (0 when none are known)."""
    won = opps.filter(pc.fill_null(opps.column("is_won"), False))
    created = pc.cast(pc.cast(won.column("created_at"), pa.date32()), pa.int32())
    closed = pc.cast(won.column("close_date"), pa.int32())
    days = pc.subtract(closed, created).drop_null().to_numpy()
    return int(np.median(days)) if len(days) else 0


def read_mapped(
    folder: Path,
    mapping: Path | str,
    *,
    strict: bool,
    snapshot_at: datetime | None,
    settings: IngestSettings | None,
    progress: Callable[[str, int], None] | None,
) -> CanonicalExport:
    """Read ``folder`` through a mapping profile."""
    profile, profile_file = load_profile(mapping)
    if not folder.is_dir():
        raise MappingError(f"not a folder: {folder}", file=folder.name, hint="expected the export folder")
    if "opportunities" not in profile.tables:
        raise MappingError("the profile maps no opportunities file", file=profile_file, hint="add tables.opportunities")
    problems = Problems(strict=strict)
    files = _Files(folder, profile_file, strict, progress)
    tables: dict[str, tuple[pa.Table, RawTable]] = {}
    for table, entry in profile.tables.items():
        raw = files.read(entry.file)
        tables[table] = build(raw, _spec(table, entry), problems), raw
    products = tables["products"][0] if "products" in tables else None
    if products is None and (profile.rules.list_price_for or profile.rules.segment_from == "product_series"):
        raise MappingError("the profile's rules need a products table", file=profile_file, hint="add tables.products")
    parts = _parts(profile, tables, products)
    parts.users = _users(profile, files, parts.opportunities, parts.users)
    parts.files = tuple(files.used)
    settings = settings or IngestSettings()
    return finish(
        parts,
        problems=problems,
        configured=settings.stages or profile.stages,
        bands=settings.employee_bands or profile.employee_bands,
        snapshot_at=snapshot_at,
        adjust=_adjuster(profile, products),
    )


class _Files:
    """The export folder's files as the profile names them, read in turn (each reported to ``progress``)."""

    def __init__(
        self, folder: Path, profile_file: str, strict: bool, progress: Callable[[str, int], None] | None
    ) -> None:
        self.folder = folder
        self.profile_file = profile_file
        self.strict = strict
        self.progress = progress
        #: names of the files read, in order
        self.used: list[str] = []

    def read(self, pattern: str) -> RawTable:
        raw = read_raw(_resolve(self.folder, pattern, self.profile_file), strict=self.strict)
        self.used.append(raw.name)
        if self.progress is not None:
            self.progress(raw.name, raw.num_rows)
        return raw


def _parts(profile: Profile, tables: dict[str, tuple[pa.Table, RawTable]], products: pa.Table | None) -> Parts:
    """The mapped tables as the assembler takes them (a deal's segment from its product's series if the rules
    say so)."""
    opps, opps_raw = tables["opportunities"]
    if profile.rules.segment_from == "product_series" and products is not None:
        series = lookup(opps.column("product"), products, "product", "series")
        opps = opps.set_column(
            opps.schema.get_field_index("segment"), "segment", pc.coalesce(opps.column("segment"), series)
        )
    parts = Parts(
        source=profile.name,
        opportunities=opps,
        opportunities_raw=opps_raw,
        close_date_column=profile.tables["opportunities"].columns.get("close_date"),
    )
    if "history" in tables:
        parts.history, parts.history_raw = tables["history"]
    parts.accounts = tables["accounts"][0] if "accounts" in tables else None
    parts.quotas = tables["quotas"][0] if "quotas" in tables else None
    parts.activities = tables["activities"][0] if "activities" in tables else None
    parts.users = tables["users"][0] if "users" in tables else None
    return parts


def _users(profile: Profile, files: _Files, opps: pa.Table, mapped: pa.Table | None) -> pa.Table | None:
    """The users: a hierarchy file's levels, else one per deal owner, else the mapped users table (if any)."""
    if profile.users is not None and profile.users.file is not None:
        return _hierarchy(files.read(profile.users.file), profile.users.levels, files.profile_file)
    if profile.users is not None and profile.users.from_owners:
        return _owners(opps, profile.users.owner_role)
    return mapped
