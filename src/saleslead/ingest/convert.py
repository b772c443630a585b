"""Vectorised conversion of raw export columns to typed Arrow arrays, and the bad-row ledger.

Every converter returns the typed array and a boolean mask of values that were present but could
not be read. The happy path never loops over rows in Python; the mask is only inspected row by row
when it has at least one ``True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import InputError
from saleslead.ingest.source import RawTable

__all__ = [
    "Problems",
    "mask_of",
    "to_bool",
    "to_date",
    "to_float",
    "to_int",
    "to_string",
    "to_timestamp",
]

TS = pa.timestamp("us")

_ISO = r"^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
_ISO_ZONED = r"\d:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$"
#: (guard regex, strptime format) for US-style dates; the guard keeps %Y from eating 2-digit years.
_US_FORMATS: tuple[tuple[str, str], ...] = tuple(
    (rf"^\d{{1,2}}/\d{{1,2}}/{year_re}{time_re}$", f"%m/%d/{year_fmt}{time_fmt}")
    for year_re, year_fmt in ((r"\d{4}", "%Y"), (r"\d{2}", "%y"))
    for time_re, time_fmt in (
        ("", ""),
        (r" \d{1,2}:\d{2} ?[AaPp][Mm]", " %I:%M %p"),
        (r" \d{1,2}:\d{2}:\d{2} ?[AaPp][Mm]", " %I:%M:%S %p"),
        (r" \d{1,2}:\d{2}", " %H:%M"),
        (r" \d{1,2}:\d{2}:\d{2}", " %H:%M:%S"),
    )
)
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
DATE_HINT = "expected a date like 2024-02-03, 2024-02-03T10:11:12Z, 02/03/24, 2/3/2024 or 02/23/26 08:55 PM"


@dataclass
class Problems:
    """Collects bad rows: raises on the first one when strict, quarantines them otherwise."""

    strict: bool
    rejected: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)

    def flag(
        self,
        raw: RawTable,
        mask: np.ndarray,
        column: str | None,
        reason: str,
        hint: str,
        *,
        error: type[InputError] = InputError,
    ) -> None:
        """Report rows where ``mask`` is true; in non-strict mode they are quarantined, not loaded."""
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return
        if self.strict:
            line = raw.lines(rows[:1])[0]
            raise error(reason, file=raw.name, line=line, column=column, hint=hint)
        for line in raw.lines(rows):
            self.rejected.append((raw.name, line, column, f"{reason} ({hint})"))

    def note(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        """Record a file-level problem tolerated in non-strict mode."""
        self.rejected.append((file, line, column, reason))


# Bytes that may begin / end a string with white space (Unicode White_Space in UTF-8): ASCII tab..CR and
# space; lead bytes of U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000; and
# the last bytes of those. A column none of whose values starts or ends with one of these needs no trim.
_MAY_START = np.zeros(256, dtype=bool)
_MAY_START[[9, 10, 11, 12, 13, 32, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_MAY_END = np.zeros(256, dtype=bool)
_MAY_END[[9, 10, 11, 12, 13, 32, 0x85, 0x9F, 0xA0, 0xA8, 0xA9, 0xAF, *range(0x80, 0x8B)]] = True


def _ends(array: pa.Array) -> tuple[bool, bool]:
    """(whether any value might start or end with white space, whether any value is empty), from the bytes."""
    if len(array) == 0 or array.null_count == len(array):
        return False, False
    width = np.dtype(np.int64 if pa.types.is_large_string(array.type) else np.int32)
    _, offsets_buffer, data_buffer = array.buffers()
    if offsets_buffer is None:
        return False, False
    offsets: npt.NDArray[np.int64] = np.frombuffer(
        offsets_buffer, dtype=width, count=len(array) + 1, offset=array.offset * width.itemsize
    ).astype(np.int64, copy=False)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts  # nulls and empty strings have no bytes
    empty = bool(np.count_nonzero(filled) < len(array) - array.null_count)
    if data_buffer is None:
        return False, empty
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    if not filled.all():
        starts, ends = starts[filled], ends[filled]
    return bool(_MAY_START[data[starts]].any() or _MAY_END[data[ends - 1]].any()), empty


def _trimmed(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    may_trim, empty = _ends(array)
    if not may_trim and not empty:
        return array
    trimmed = pc.utf8_trim_whitespace(array) if may_trim else array
    blank = pc.equal(pc.binary_length(trimmed), 0)  # a length test: comparing text to "" is much slower
    if not pc.any(blank).as_py():
        return trimmed
    return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)


def mask_of(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask (null counts as false)."""
    filled = pc.fill_null(values, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _failed(raw: pa.Array, parsed: pa.Array) -> np.ndarray:
    return mask_of(pc.and_(pc.is_valid(raw), pc.is_null(parsed)))


def to_string(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Text, trimmed; blank becomes null."""
    return _trimmed(values)


def _iso(text: pa.Array, zoned: bool) -> pa.Array | None:
    """One cast attempt, with or without zone as the sample says (a failing cast is slow)."""
    try:
        if zoned:
            return pc.cast(pc.cast(text, pa.timestamp("us", tz="UTC")), TS)
        return pc.cast(text, TS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_CAST_PIECE = 4096


def _cast_or_null(text: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast text to ``target``; a value the cast refuses (``2026-02-30``, hour 25) becomes null, not an error.

    The whole array is cast at once; only when that fails is it cast piece by piece, and only the failing
    pieces value by value, so a single bad value costs a few thousand small casts, not one per row.
    """
    try:
        return pc.cast(text, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    pieces: list[pa.Array] = []
    for start in range(0, len(text), _CAST_PIECE):
        piece = text.slice(start, _CAST_PIECE)
        try:
            pieces.append(pc.cast(piece, target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pieces.append(pa.array([_cast_one(value, target) for value in piece], target))
    return pa.concat_arrays(pieces) if pieces else pa.nulls(0, target)


def _cast_one(value: pa.Scalar, target: pa.DataType) -> object:
    if not value.is_valid:
        return None
    try:
        return pc.cast(pa.array([value.as_py()], pa.string()), target)[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _timestamp_slow(text: pa.Array) -> pa.Array:
    null = pa.nulls(len(text), TS)
    iso = pc.match_substring_regex(text, _ISO)
    zoned = pc.and_(iso, pc.match_substring_regex(text, _ISO_ZONED))
    plain = pc.and_(iso, pc.invert(zoned))
    result = null
    if pc.any(plain).as_py():
        result = pc.coalesce(result, _cast_or_null(pc.if_else(plain, text, pa.scalar(None, pa.string())), TS))
    if pc.any(zoned).as_py():
        utc = pa.timestamp("us", tz="UTC")
        aware = _cast_or_null(pc.if_else(zoned, text, pa.scalar(None, pa.string())), utc)
        result = pc.coalesce(result, pc.cast(aware, TS))
    for guard, fmt in _US_FORMATS:
        mask = pc.and_(pc.is_null(result), pc.match_substring_regex(text, guard))
        if pc.any(mask).as_py():
            subset = pc.if_else(mask, text, pa.scalar(None, pa.string()))
            result = pc.coalesce(result, pc.strptime(subset, format=fmt, unit="us", error_is_null=True))
    return result


def to_timestamp(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Naive-UTC timestamps from ISO (``T``, ``Z``, fractions, offsets) or Salesforce US formats."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_timestamp(array.type):
        if array.type.tz is not None:
            array = pc.cast(array, pa.timestamp(array.type.unit, tz="UTC"))
        return pc.cast(pc.cast(array, pa.timestamp(array.type.unit)), TS), np.zeros(len(array), dtype=bool)
    if pa.types.is_date(array.type):
        return pc.cast(array, TS), np.zeros(len(array), dtype=bool)
    text = _trimmed(array)
    present = text.drop_null()
    if len(present) == 0:
        return pa.nulls(len(text), TS), np.zeros(len(text), dtype=bool)
    parsed = _fast_timestamp(text, str(present[0].as_py()))
    if parsed is None or parsed.null_count != text.null_count:
        parsed = _timestamp_slow(text)
    return parsed, _failed(text, parsed)


def _fast_timestamp(text: pa.Array, sample: str) -> pa.Array | None:
    """Parse the whole column with the format of its first value; ``None`` when that does not fit."""
    if sample[:4].isdigit() and "-" in sample[:5]:
        return _iso(text, bool(re.search(_ISO_ZONED, sample)))
    for guard, fmt in _US_FORMATS:
        if pc.match_substring_regex(pa.array([sample]), guard)[0].as_py():
            parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
            low = pc.min(parsed).as_py()
            if low is not None and low.year < 1000:
                return None  # a 4-digit-year format swallowed a 2-digit year: take the guarded path
            return parsed
    return None


def to_date(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Calendar dates; a time part, if any, is dropped after normalising to UTC."""
    parsed, bad = to_timestamp(values)
    return pc.cast(parsed, pa.date32()), bad


def to_float(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Numbers written plainly (``1500``, ``1500.50``, ``-3``, ``1e3``); blank is null."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        return pc.cast(array, pa.float64()), np.zeros(len(array), dtype=bool)
    text = _trimmed(array)
    try:
        return pc.cast(text, pa.float64()), np.zeros(len(text), dtype=bool)
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(text, _NUMBER)
        cleaned = pc.if_else(ok, text, pa.scalar(None, pa.string()))
        parsed = pc.cast(cleaned, pa.float64())
        return parsed, _failed(text, parsed)


def to_int(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Whole numbers (a ``.0`` fraction is accepted)."""
    parsed, bad = to_float(values)
    whole = pc.equal(pc.floor(parsed), parsed)
    fraction = mask_of(pc.invert(pc.fill_null(whole, True)))
    cleaned = pc.if_else(pc.fill_null(whole, False), parsed, pa.scalar(None, pa.float64()))
    return pc.cast(cleaned, pa.int64()), bad | fraction


def to_bool(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Booleans written TRUE/FALSE, true/false, 1/0, yes/no; blank is null."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_boolean(array.type):
        return array, np.zeros(len(array), dtype=bool)
    lowered = pc.utf8_lower(_trimmed(array))
    is_true = pc.is_in(lowered, value_set=pa.array(_TRUE))
    is_false = pc.is_in(lowered, value_set=pa.array(_FALSE))
    parsed = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    parsed = pc.if_else(pc.is_null(lowered), pa.scalar(None, pa.bool_()), parsed)
    return parsed, _failed(lowered, parsed)
