"""The fake Salesforce org with its rows in DuckDB: the same server, at a million opportunities.

:class:`FakeOrg` keeps every row as a Python dict, which is right for tests (a test edits rows in place)
but takes tens of gigabytes for a million-opportunity org (≈ 14 M rows). :class:`DuckOrg` keeps each
object as a DuckDB table (one file on disk, spilled past ``memory_limit``) and answers the same SOQL
subset with SQL: a query's rows are a temporary table read page by page, a Bulk API 2.0 result page is
written as CSV by Arrow. Everything the server says is unchanged (:mod:`tests.fake_salesforce` serves it).

Values are stored as the REST API returns them: text for ids, strings and dates, ``…T…000+0000`` text
for datetimes (so comparing stamps as text keeps their order), booleans, integers and doubles. Change
rows with :meth:`DuckOrg.sql` (``UPDATE "Opportunity" SET …``).
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .fake_salesforce import FakeOrg, SObjectTable, _field_type, read_condition

_SQL_TYPE = {"boolean": "BOOLEAN", "int": "BIGINT", "currency": "DOUBLE", "double": "DOUBLE", "percent": "DOUBLE"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _typed_column(name: str, kind: str) -> str:
    """SQL turning the text of an export column into the value the REST API returns."""
    col = _ident(name)
    if kind in _SQL_TYPE:
        text = f"lower({col})" if kind == "boolean" else col
        return f"TRY_CAST(NULLIF({text}, '') AS {_SQL_TYPE[kind]}) AS {col}"
    if kind == "datetime":
        return f"{_rest_time(col)} AS {col}"
    return f"NULLIF({col}, '') AS {col}"


def _rest_time(text: str) -> str:
    """SQL turning an export's UTC moment (…T…Z, …T….000+00:00, or a bare date) into the REST form …T….000+0000."""
    value = f"NULLIF({text}, '')"
    return (
        f"CASE WHEN length({value}) = 10 THEN {value} || 'T00:00:00.000+0000' "
        f"ELSE regexp_replace({value}, '(\\.\\d{{3}})?(Z|\\+00:?00)$', '.000+0000') END"
    )


class Rows(Sequence[dict[str, Any]]):
    """A query's rows held in a temporary table, read a slice at a time (a REST page, a Bulk result page)."""

    def __init__(self, org: DuckOrg, table: str, fields: list[str], size: int) -> None:
        self.org, self.table, self.fields, self.size = org, table, fields, size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, key: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, key: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, key: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(key, int):
            return self[key : key + 1][0]
        start, stop, _ = key.indices(self.size)
        return self.slice(start, stop).to_pylist()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, self.size, 10_000):
            yield from self[start : start + 10_000]

    def slice(self, start: int, stop: int) -> pa.Table:
        columns = ", ".join(_ident(f) for f in self.fields)
        return self.org.arrow(f"SELECT {columns} FROM {self.table} WHERE _i > {start} AND _i <= {stop} ORDER BY _i")


class DuckOrg(FakeOrg):
    """A :class:`FakeOrg` whose objects are DuckDB tables in ``path`` (see the module)."""

    def __init__(self, path: Path, page_size: int = 2000, bulk_page: int = 50_000, memory: str = "2GB") -> None:
        super().__init__(page_size, bulk_page)
        self.con = duckdb.connect(str(path))
        self.con.execute(f"SET memory_limit = '{memory}'")
        self.con.execute("SET threads = 1")  # the org shares the machine with the sync it serves
        self.con.execute("SET preserve_insertion_order = true")
        self._sql_lock = threading.Lock()
        self.sizes: dict[str, int] = {}

    # --- SQL ----------------------------------------------------------------------------------
    def sql(self, statement: str) -> None:
        with self._sql_lock:
            self.con.execute(statement)

    def arrow(self, query: str) -> pa.Table:
        with self._sql_lock:
            return self.con.execute(query).fetch_arrow_table()

    def scalar(self, query: str) -> Any:
        with self._sql_lock:
            row = self.con.execute(query).fetchone()
        return None if row is None else row[0]

    def count(self, name: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {_ident(name)}"))

    # --- building the org ---------------------------------------------------------------------
    def load_csv(self, path: Path, name: str, stamp: str) -> None:
        """An export file as the object's table; SystemModstamp as :meth:`FakeOrg.load_csv` sets it."""
        source = str(path).replace("'", "''")
        reader = f"read_csv('{source}', all_varchar = true, header = true)"
        sample = self.arrow(f"SELECT * FROM {reader} LIMIT 50")
        header = [str(c) for c in sample.column_names]
        kinds = {n: _field_type(n, [v or "" for v in sample.column(n).to_pylist()]) for n in header}
        columns = [_typed_column(n, kinds[n]) for n in header]
        if name != "OpportunityFieldHistory":
            moment = next((f for f in ("LastModifiedDate", "CreatedDate") if f in header), None)
            text = f"coalesce(NULLIF({_ident(moment)}, ''), '{stamp}')" if moment else f"'{stamp}'"
            columns.append(f'{_rest_time(text)} AS "SystemModstamp"')
            kinds["SystemModstamp"] = "datetime"
        columns.append('FALSE AS "IsDeleted"')
        kinds["IsDeleted"] = "boolean"
        self.sql(
            f"CREATE OR REPLACE TABLE {_ident(name)} AS SELECT row_number() OVER () AS _rn, {', '.join(columns)} "
            f"FROM {reader}"
        )
        prefix = str(self.scalar(f'SELECT "Id" FROM {_ident(name)} LIMIT 1') or "a00")[:3]
        self.objects[name] = SObjectTable(name, kinds, [], prefix)

    # --- SOQL ---------------------------------------------------------------------------------
    def run(self, soql: str, deleted: bool) -> tuple[Sequence[dict[str, Any]], list[str], bool]:
        table, fields, counting, parts = self.parse(soql)
        name = table.name
        tests = [_condition_sql(part, table) for part in parts]
        if not deleted:
            tests.append('NOT "IsDeleted"')
        clause = (" WHERE " + " AND ".join(f"({t})" for t in tests)) if tests else ""
        if counting:
            return range(int(self.scalar(f"SELECT count(*) FROM {_ident(name)}{clause}"))), fields, True  # type: ignore[return-value]
        result = f"q_{uuid.uuid4().hex[:12]}"
        picked = ", ".join(_ident(f) for f in fields)
        self.sql(
            f"CREATE TEMP TABLE {result} AS SELECT row_number() OVER (ORDER BY _rn) AS _i, {picked} "
            f"FROM {_ident(name)}{clause}"
        )
        return Rows(self, result, fields, int(self.scalar(f"SELECT count(*) FROM {result}"))), fields, False

    def results_csv(
        self, rows: Sequence[dict[str, Any]], fields: list[str], kinds: dict[str, str], start: int, size: int
    ) -> tuple[str, int]:
        if not isinstance(rows, Rows):
            return super().results_csv(rows, fields, kinds, start, size)
        chunk = rows.slice(start, start + size)
        out = []
        for f, column in zip(fields, chunk.columns, strict=True):
            if kinds[f] == "datetime":  # Bulk API 2.0 writes …T…000Z
                column = pc.replace_substring_regex(column, r"\+0000$", "Z")
            elif kinds[f] == "boolean":
                column = pc.if_else(column, "true", "false")
            out.append(column.cast(pa.string()))
        buffer = io.BytesIO()
        options = pacsv.WriteOptions(quoting_style="all_valid")
        pacsv.write_csv(pa.table(out, names=fields), buffer, write_options=options)
        if start + size >= len(rows):
            self.sql(f"DROP TABLE IF EXISTS {rows.table}")
        return buffer.getvalue().decode("utf-8"), chunk.num_rows


def _condition_sql(text: str, table: SObjectTable) -> str:
    """One SOQL condition of the subset :func:`tests.fake_salesforce.read_condition` reads, as SQL."""
    name, op, value = read_condition(text, table)
    if op == "IN":
        return f"{_ident(name)} IN ({', '.join(_sql_literal(v) for v in value) or 'NULL'})"
    if value is None:
        return f"{_ident(name)} IS {'NOT ' if op == '!=' else ''}NULL"
    return f"{_ident(name)} {'<>' if op == '!=' else op} {_sql_literal(value)}"


def duck_org_from_export(folder: Path, database: Path, stamp: str = "2026-01-01T00:00:00Z", **options: Any) -> DuckOrg:
    """A DuckDB-backed fake org holding an export folder's objects (Opportunity.csv → Opportunity, …)."""
    org = DuckOrg(database, **options)
    for path in sorted(folder.glob("*.csv")):
        org.load_csv(path, path.stem, stamp)
    return org
