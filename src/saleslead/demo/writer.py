"""Turning the demo world's arrays into Salesforce-shaped CSV text, fast.

Ids and timestamps are built as fixed-width byte matrices with NumPy and handed to Arrow as strings
(pyarrow's ``strftime`` is far too slow for millions of rows). Files are written with
``pyarrow.csv.write_csv``: strings quoted, booleans ``true``/``false``, dates ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["dates", "labels", "salesforce_ids", "timestamps", "write"]

IntArray = npt.NDArray[np.int64]
_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)
_ID_OFFSET = 62**7 * 11
_ID_STRIDE = 37


def _strings(matrix: npt.NDArray[np.uint8]) -> pa.Array:
    rows, width = matrix.shape
    fixed = pa.Array.from_buffers(pa.binary(width), rows, [None, pa.py_buffer(np.ascontiguousarray(matrix))])
    return fixed.cast(pa.binary()).cast(pa.string())


def salesforce_ids(prefix: str, numbers: IntArray) -> pa.Array:
    """18-character Salesforce-like ids: key prefix, pod, base-62 serial, case-safe checksum."""
    head = np.frombuffer((prefix + "8d").encode(), dtype=np.uint8)
    n = len(numbers)
    matrix = np.empty((n, 18), dtype=np.uint8)
    matrix[:, :5] = head
    value = numbers.astype(np.int64) * _ID_STRIDE + _ID_OFFSET
    bits = np.zeros((3, n), dtype=np.uint8)
    head_upper = (head >= ord("A")) & (head <= ord("Z"))
    bits[0] = int((head_upper.astype(np.int64) << np.arange(5)).sum())
    for position in range(14, 4, -1):
        value, digit = np.divmod(value, 62)
        matrix[:, position] = _BASE62[digit]
        bits[position // 5] |= ((digit >= 10) & (digit < 36)).astype(np.uint8) << (position % 5)
    for chunk in range(3):
        matrix[:, 15 + chunk] = _SUFFIX[bits[chunk]]
    return _strings(matrix)


def _calendar(first_day: int, count: int) -> npt.NDArray[np.uint8]:
    """``YYYY-MM-DD`` as bytes for ``count`` days from ``first_day``."""
    text = np.arange(first_day, first_day + count).astype("datetime64[D]").astype("S10")
    return np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(count, 10)


_CLOCK = np.frombuffer(
    np.char.add(
        np.char.add(np.char.zfill((np.arange(86_400) // 3600).astype("S2"), 2), b":"),
        np.char.add(
            np.char.add(np.char.zfill((np.arange(86_400) // 60 % 60).astype("S2"), 2), b":"),
            np.char.zfill((np.arange(86_400) % 60).astype("S2"), 2),
        ),
    ).tobytes(),
    dtype=np.uint8,
).reshape(86_400, 8)


def timestamps(seconds: IntArray) -> pa.Array:
    """ISO 8601 UTC timestamps as Salesforce writes them: ``2025-01-06T14:03:00.000Z``."""
    n = len(seconds)
    matrix = np.empty((n, 24), dtype=np.uint8)
    matrix[:] = np.frombuffer(b"0000-00-00T00:00:00.000Z", dtype=np.uint8)
    if n:
        days, rest = np.divmod(seconds, 86_400)
        first = int(days.min())
        matrix[:, :10] = _calendar(first, int(days.max()) - first + 1)[days - first]
        matrix[:, 11:19] = _CLOCK[rest]
    return _strings(matrix)


def dates(days: IntArray, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """Days since 1970 as Arrow dates (written ``YYYY-MM-DD``); ``valid`` False gives nulls."""
    mask = None if valid is None else ~valid
    return pa.array(days.astype(np.int32), type=pa.date32(), mask=mask)


def labels(names: Sequence[str], index: IntArray, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """``names[index]`` as an Arrow string column (nulls where ``valid`` is False)."""
    taken = pc.take(pa.array(list(names), type=pa.string()), pa.array(index.astype(np.int64)))
    if valid is None:
        return taken
    return pc.if_else(pa.array(valid), taken, pa.scalar(None, pa.string()))


def write(path: Path, columns: dict[str, pa.Array | npt.NDArray[np.generic]]) -> int:
    """Write one CSV file; returns the number of rows."""
    table = pa.table({name: pa.array(col) if isinstance(col, np.ndarray) else col for name, col in columns.items()})
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return int(table.num_rows)
