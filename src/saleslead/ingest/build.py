"""Turn one raw file into one typed table: rename, convert, validate, keep unnamed columns as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import SchemaError
from saleslead.ingest import convert
from saleslead.ingest.convert import Problems, mask_of
from saleslead.ingest.source import RawTable

__all__ = ["BOUNDS", "DATE_WINDOW", "ROW", "Kind", "TableSpec", "build", "json_objects"]

Kind = Literal["string", "timestamp", "date", "float", "int", "bool"]
ROW = "_row"
_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}
#: Inclusive range of every value of these canonical fields, whichever file or profile they come from:
#: probabilities are percentages; money below 10^15 (sums of a million deals stay exact to the cent).
BOUNDS: dict[str, tuple[float, float]] = {
    "probability": (0.0, 100.0),
    "amount": (0.0, 1e15),
    "list_price": (0.0, 1e15),
}
#: Every date and timestamp of an export lies in this window (sentinels such as 1900-01-01 or 9999-12-31
#: are refused, not read as real dates); later checks bound dates relative to the export's own date.
DATE_WINDOW = (date(1970, 1, 1), date(2199, 12, 31))
_HINTS: dict[str, str] = {
    "timestamp": convert.DATE_HINT,
    "date": convert.DATE_HINT,
    "float": "expected a plain number such as 1500 or 1500.50 (no thousands separators or currency)",
    "int": "expected a whole number",
    "bool": "expected TRUE/FALSE, true/false or 1/0",
}
_WORDS: dict[str, str] = {"timestamp": "date", "float": "number", "int": "whole number", "bool": "boolean"}


@dataclass(frozen=True)
class TableSpec:
    """How one object's file maps to a typed table."""

    label: str
    #: output field -> source column name (matched case-insensitively)
    fields: Mapping[str, str]
    kinds: Mapping[str, Kind]
    #: output fields whose source column must be in the header
    required: tuple[str, ...] = ()
    #: output fields that must hold a value on every row
    not_null: tuple[str, ...] = ()
    #: output field whose values must be unique
    id_field: str | None = None
    nonnegative: tuple[str, ...] = ()
    #: output field -> {value as written: value to use}
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: source columns that are neither mapped nor worth keeping in ``extra``
    ignore: tuple[str, ...] = ()
    #: whether the canonical table keeps ``extra`` (when it does not, the JSON is never built)
    keep_extra: bool = True


def build(raw: RawTable, spec: TableSpec, problems: Problems) -> pa.Table:
    """Typed table with one column per ``spec.kinds`` entry, ``extra`` (JSON) and ``_row``."""
    found = _found_columns(raw, spec)
    for line, _ in raw.skipped:
        problems.note(raw.name, line, None, "row does not have as many fields as the header; not loaded")
    rows = _Rows(raw, problems)
    columns = {
        name: rows.typed(name, kind, found.get(name), spec.aliases.get(name)) for name, kind in spec.kinds.items()
    }
    for name in spec.not_null:
        if name in found:
            rows.refuse_blank(found[name], columns[name])
    for name in spec.nonnegative:
        if name in found:
            rows.refuse_negative(found[name], columns[name])
    if spec.id_field is not None and spec.id_field in found:
        rows.refuse_duplicates(found[spec.id_field], columns[spec.id_field])
    columns["extra"] = _extra(raw, spec, found)
    columns[ROW] = pa.array(np.arange(raw.num_rows, dtype=np.int64))
    table = pa.table(columns)
    return table.filter(pa.array(~rows.bad)) if rows.bad.any() else table


def _found_columns(raw: RawTable, spec: TableSpec) -> dict[str, str]:
    """Output field -> the file's column holding it; a required column the header lacks is refused."""
    found: dict[str, str] = {}
    missing = []
    for name, source in spec.fields.items():
        actual = raw.find(source)
        if actual is not None:
            found[name] = actual
        elif name in spec.required:
            missing.append(source)
    if missing:
        raise SchemaError(
            f"{spec.label} is missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            file=raw.name,
            line=1,
            column=missing[0],
            hint=f"expected a header with {', '.join(spec.fields[name] for name in spec.required)}",
        )
    return found


def _extra(raw: RawTable, spec: TableSpec, found: Mapping[str, str]) -> pa.Array:
    """The file's unmapped, unignored columns as one JSON object per row (nulls when the spec keeps none)."""
    if not spec.keep_extra:
        return pa.nulls(raw.num_rows, pa.string())
    used = {actual.casefold() for actual in found.values()} | {name.casefold() for name in spec.ignore}
    leftovers = [column for column in raw.table.column_names if column.casefold() not in used]
    return json_objects({column: raw.table.column(column) for column in leftovers}, raw.num_rows)


class _Rows:
    """The rows of one file refused so far (``bad``); each check reports only rows no earlier check refused."""

    def __init__(self, raw: RawTable, problems: Problems) -> None:
        self.raw = raw
        self.problems = problems
        self.bad = np.zeros(raw.num_rows, dtype=bool)

    def typed(self, name: str, kind: Kind, source: str | None, aliases: Mapping[str, str] | None) -> pa.Array:
        """The column converted to ``kind`` (nulls when the file lacks it), refusing unreadable and
        out-of-range values."""
        if source is None:
            return pa.nulls(self.raw.num_rows, _TYPES[kind])
        values, failed = _convert(self.raw.table.column(source), kind)
        word = _WORDS.get(kind, kind)
        self._refuse(failed, source, lambda first: f"cannot read {word} {first!r}", _HINTS.get(kind, ""))
        if aliases:
            values = _apply_aliases(values, aliases)
        self.bad |= _check_range(self.raw, name, source, kind, values, self.bad, self.problems)
        return values

    def refuse_blank(self, source: str, values: pa.Array) -> None:
        blank = mask_of(pc.is_null(values))
        self._refuse(blank, source, lambda _: f"{source} is blank", f"expected a value in {source}")

    def refuse_negative(self, source: str, values: pa.Array) -> None:
        negative = mask_of(pc.less(values, 0))
        self._refuse(
            negative, source, lambda first: f"negative {source} {first!r}", f"expected {source} to be 0 or more"
        )

    def refuse_duplicates(self, source: str, ids: pa.Array) -> None:
        duplicate = _duplicates(ids, self.bad)
        hint = f"expected each {source} once; the first row is kept"
        self._refuse(duplicate, source, lambda first: f"duplicate {source} {first!r}", hint)

    def _refuse(self, mask: np.ndarray, source: str, reason: Callable[[object], str], hint: str) -> None:
        """Report and refuse the rows of ``mask`` not already refused; ``reason`` words the first one's value."""
        fresh = mask & ~self.bad
        if fresh.any():
            self.problems.flag(self.raw, fresh, source, reason(_first(self.raw, source, fresh)), hint)
            self.bad |= fresh


def _check_range(
    raw: RawTable, name: str, source: str, kind: Kind, values: pa.Array, bad: np.ndarray, problems: Problems
) -> np.ndarray:
    """Rows whose value was read but cannot be meant: not finite, out of the field's bounds, a sentinel date."""
    outside = np.zeros(len(values), dtype=bool)
    if kind == "float":
        finite = pc.is_finite(values)
        outside = mask_of(pc.invert(finite)) & ~bad
        if outside.any():
            reason = f"{source} {_first(raw, source, outside)!r} is not a finite number"
            problems.flag(raw, outside, source, reason, "expected a finite number (not inf, NaN or beyond 1e308)")
            return np.asarray(outside, dtype=bool)
    if name in BOUNDS and kind in ("float", "int"):
        low, high = BOUNDS[name]
        if name not in ("amount", "list_price"):  # negative money has its own message (``nonnegative``)
            outside = mask_of(pc.or_(pc.less(values, low), pc.greater(values, high))) & ~bad
        else:
            outside = mask_of(pc.greater(values, high)) & ~bad
        if outside.any():
            reason = f"{source} {_first(raw, source, outside)!r} is out of range"
            problems.flag(raw, outside, source, reason, f"expected {source} from {low:g} to {high:g}")
    elif kind in ("date", "timestamp"):
        low_day, high_day = DATE_WINDOW
        first: object = low_day if kind == "date" else datetime.combine(low_day, datetime.min.time())
        last: object = high_day if kind == "date" else datetime.combine(high_day, datetime.max.time())
        outside = mask_of(pc.or_(pc.less(values, first), pc.greater(values, last))) & ~bad
        if outside.any():
            reason = f"{source} {_first(raw, source, outside)!r} is outside {low_day} … {high_day}"
            hint = "expected a real date (placeholders such as 1900-01-01 or 9999-12-31 are not dates)"
            problems.flag(raw, outside, source, reason, hint)
    return np.asarray(outside, dtype=bool)


def _convert(values: pa.ChunkedArray, kind: Kind) -> tuple[pa.Array, np.ndarray]:
    if kind == "string":
        return convert.to_string(values), np.zeros(len(values), dtype=bool)
    converter = {
        "timestamp": convert.to_timestamp,
        "date": convert.to_date,
        "float": convert.to_float,
        "int": convert.to_int,
        "bool": convert.to_bool,
    }[kind]
    return converter(values)


def _first(raw: RawTable, column: str, mask: np.ndarray) -> object:
    return raw.table.column(column)[int(np.flatnonzero(mask)[0])].as_py()


def _apply_aliases(values: pa.Array, aliases: Mapping[str, str]) -> pa.Array:
    for written, meant in aliases.items():
        values = pc.if_else(pc.fill_null(pc.equal(values, written), False), meant, values)
    return values


def _duplicates(ids: pa.Array, bad: np.ndarray) -> np.ndarray:
    """Rows whose id already appeared on an earlier (good) row."""
    valid = pc.and_(pc.is_valid(ids), pa.array(~bad))
    if pc.count_distinct(pc.filter(ids, valid)).as_py() == pc.sum(valid).as_py():
        return np.zeros(len(ids), dtype=bool)
    rows = pa.array(np.arange(len(ids), dtype=np.int64))
    table = pa.table({"id": ids, "row": rows}).filter(valid)
    first = table.group_by("id", use_threads=False).aggregate([("row", "min")]).column("row_min")
    later = pc.and_(valid, pc.invert(pc.is_in(rows, value_set=first)))
    return mask_of(later)


_NEEDS_ESCAPE = r"[\\\"\x00-\x1f]"


def _escape(values: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        return values
    for char, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        values = pc.replace_substring(values, char, escaped)
    return pc.replace_substring_regex(values, r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")


def json_objects(columns: Mapping[str, pa.ChunkedArray | pa.Array], size: int) -> pa.Array:
    """One JSON object per row (``{"column": "value" | null}``); null when there are no columns."""
    if not columns:
        return pa.nulls(size, pa.string())
    parts: list[pa.Array | str] = []
    for index, (name, column) in enumerate(columns.items()):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if not pa.types.is_string(array.type):
            array = pc.cast(array, pa.string())
        quoted = pc.binary_join_element_wise('"', _escape(array), '"', "")
        parts.append(("{" if index == 0 else ",") + json.dumps(name) + ":")
        parts.append(pc.coalesce(quoted, "null"))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")
