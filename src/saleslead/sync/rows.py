"""API records as the raw text tables the ingest checks: one column per field, every value as text.

A record fetched from an API becomes exactly what the same row of a CSV export would be, so it goes
through the same conversion and validation (:mod:`saleslead.ingest.build`). Line numbers in errors
count as in that CSV export: the header is line 1, the first record line 2.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from saleslead.ingest.source import RawTable

__all__ = ["as_text", "csv_pages", "raw_of", "text_table"]


def as_text(value: Any) -> str | None:
    """One JSON value as the text a CSV export would hold (null stays null; booleans as true/false)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    return text if text.strip() else None


def text_table(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Text columns ``columns`` from JSON records (fields a record lacks are null)."""
    values: dict[str, list[str | None]] = {column: [] for column in columns}
    for record in records:
        for column in columns:
            values[column].append(as_text(record.get(column)))
    return pa.table({column: pa.array(values[column], pa.string()) for column in columns})


def csv_pages(pages: Iterable[str | bytes], columns: Sequence[str]) -> pa.Table:
    """Text columns from CSV pages that each start with a header (Bulk API 2.0 results, a page per locator)."""
    tables = []
    for page in pages:
        data = page.encode("utf-8") if isinstance(page, str) else page
        if not data.strip():
            continue
        header = next(iter(data.decode("utf-8").splitlines()), "")
        names = [name.strip().strip('"') for name in header.split(",")]
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        parse = pacsv.ParseOptions(newlines_in_values=True)
        table = pacsv.read_csv(io.BytesIO(data), parse_options=parse, convert_options=convert)
        found = {column: _find(table, column) for column in columns}
        tables.append(pa.table({column: table.column(name) for column, name in found.items() if name}))
    if not tables:
        return pa.table({column: pa.array([], pa.string()) for column in columns})
    return pa.concat_tables(tables)


def _find(table: pa.Table, column: str) -> str:
    wanted = column.casefold()
    return next((str(name) for name in table.column_names if str(name).casefold() == wanted), "")


def raw_of(label: str, table: pa.Table) -> RawTable:
    """A raw table of API records, named for error reports (``Opportunity (Salesforce API)``)."""
    return RawTable(label, Path(label), table)
