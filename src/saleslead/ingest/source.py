"""Read one export file (CSV or Parquet) into an Arrow table of raw values, with exact line numbers.

CSV files are parsed by ``pyarrow.csv`` (multithreaded), every column as text. File-level problems
(empty, not text, wrong encoding, ragged rows) raise :class:`~saleslead.errors.InputError` naming the
file and line. Physical line numbers are computed only when a problem has to be reported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from saleslead.errors import InputError

__all__ = ["RawTable", "read_raw"]

_HEAD_BYTES = 65536
_UTF8_BOM = b"\xef\xbb\xbf"
_EXPECT_UTF8 = "expected a UTF-8 CSV export (with or without BOM); re-export or convert the file to UTF-8"


@dataclass
class RawTable:
    """One file's rows as read. ``table`` holds text columns for CSV, typed columns for Parquet."""

    name: str
    path: Path
    table: pa.Table
    delimiter: str | None = None
    #: Physical lines of malformed rows skipped while parsing (non-strict mode only).
    skipped: list[tuple[int, str]] = field(default_factory=list)
    #: Rows read, kept once :meth:`release` has dropped the values.
    released_rows: int | None = None
    #: Fields in the header (``table`` may hold only some of the columns).
    width: int | None = None

    @property
    def num_rows(self) -> int:
        return self.released_rows if self.released_rows is not None else int(self.table.num_rows)

    def release(self) -> None:
        """Drop the values once typed; header, row count and skipped lines stay to report lines later."""
        self.released_rows = self.num_rows
        self.table = self.table.schema.empty_table()

    def find(self, name: str) -> str | None:
        """The actual header spelling of ``name``, matched case-insensitively and ignoring spaces."""
        wanted = name.strip().casefold()
        for column in self.table.column_names:
            if column.strip().casefold() == wanted:
                return str(column)
        return None

    def lines(self, rows: Sequence[int] | np.ndarray) -> list[int]:
        """Physical 1-based line numbers (header = line 1) of the given 0-based data rows."""
        indices = [int(row) for row in rows]
        if self.delimiter is None or not indices:
            return [row + 2 for row in indices]
        data = self.path.read_bytes()
        newlines = data.count(b"\n")
        ends_with_newline = data.endswith(b"\n")
        physical = newlines + (0 if ends_with_newline else 1)
        if not self.skipped and physical == self.num_rows + 1:
            return [row + 2 for row in indices]
        starts = self._record_starts(data)
        return [starts[row] for row in indices]

    def _record_starts(self, data: bytes) -> list[int]:
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter or ",")
        width = self.width if self.width is not None else self.table.num_columns
        skipped = {line for line, _ in self.skipped}
        starts: list[int] = []
        previous = 0
        header_seen = False
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record:
                continue
            if not header_seen:
                header_seen = True
                continue
            if start in skipped or (self.skipped and len(record) != width):
                continue
            starts.append(start)
        return starts


def _sniff_delimiter(head: bytes) -> str:
    """Comma, semicolon or tab: whichever occurs most in the header line outside quotes."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in head.decode("utf-8", errors="replace"):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda key: counts[key])
    return best if counts[best] else ","


def _check_head(name: str, head: bytes) -> None:
    if not head:
        raise InputError(
            "the file is empty (zero bytes)", file=name, line=1, hint="expected a header row and data rows"
        )
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            "this is a zip archive, not a CSV file",
            file=name,
            line=1,
            hint="unzip the export and point at the folder of CSV files",
        )
    if head.startswith(b"PAR1"):
        raise InputError(
            "this is a Parquet file named like a CSV file",
            file=name,
            line=1,
            hint="rename it with a .parquet extension",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("the file is UTF-16 encoded", file=name, line=1, hint=_EXPECT_UTF8)
    if b"\x00" in head:
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise InputError(
            "the file holds NUL bytes: it is binary or UTF-16 without a byte-order mark",
            file=name,
            line=line,
            hint=_EXPECT_UTF8,
        )


def _raise_encoding(name: str, path: Path, delimiter: str) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] = []
        column: str | None = None
        for record in reader:
            if not header:
                header = record
                continue
            if reader.line_num >= line:
                for index, value in enumerate(record):
                    if any("\udc80" <= char <= "\udcff" for char in value) and index < len(header):
                        column = header[index]
                        break
                break
        raise InputError(
            f"byte 0x{data[error.start]:02x} is not valid UTF-8 (the file looks like Latin-1 / Windows-1252)",
            file=name,
            line=line,
            column=column,
            hint=_EXPECT_UTF8,
        ) from None


def read_raw(
    path: Path, *, strict: bool = True, rows_required: bool = True, columns: Collection[str] | None = None
) -> RawTable:
    """Read one CSV or Parquet file. Empty files and undecodable files raise :class:`InputError`.

    ``rows_required=False`` accepts a header without data rows (an optional object with nothing to say,
    such as a field history of an org where no owner ever changed); a file without a header is still refused.
    ``columns`` (matched case-insensitively, ignoring spaces) keeps only those columns: the others are
    still checked for shape (every row as many fields as the header) but never converted.
    """
    name = path.name
    if path.suffix.lower() == ".parquet":
        try:
            table = pq.read_table(path)
            if columns is not None:
                table = table.select([c for c in table.column_names if _wanted(c, columns)])
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(f"cannot read Parquet: {error}", file=name, hint="expected a Parquet file") from None
        raw = RawTable(name, path, table)
    else:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        _check_head(name, head)
        delimiter = _sniff_delimiter(head.removeprefix(_UTF8_BOM))
        raw = _read_csv(name, path, delimiter, strict=strict, columns=columns)
    if raw.table.num_columns == 0 or (raw.num_rows == 0 and rows_required):
        raise InputError(
            "the file has a header but no data rows",
            file=name,
            line=2,
            hint="expected at least one data row below the header",
        )
    return raw


def _wanted(column: str, columns: Collection[str]) -> bool:
    return column.strip().casefold() in {c.strip().casefold() for c in columns}


def _read_csv(name: str, path: Path, delimiter: str, *, strict: bool, columns: Collection[str] | None) -> RawTable:
    skipped: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        skipped.append((int(row.number) if row.number is not None else -1, str(row.text)))
        return "skip"

    with path.open("rb") as handle:
        header_bytes = handle.readline()
    header = next(
        csv.reader([header_bytes.decode("utf-8", errors="replace").removeprefix("\ufeff")], delimiter=delimiter),
        [],
    )
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid)
    kept = [column for column in header if columns is None or _wanted(column, columns)] or header
    convert = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in kept},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        include_columns=None if columns is None or kept is header else kept,
    )
    try:
        table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "utf8" in str(error).lower():
            _raise_encoding(name, path, delimiter)
        raise InputError(
            f"not a readable CSV file: {error}",
            file=name,
            hint="expected a comma- or semicolon-separated export",
        ) from None
    raw = RawTable(name, path, table, delimiter=delimiter, width=len(header))
    if skipped:
        data = path.read_bytes()
        located = [(_locate(data, text) if number < 0 else number, text) for number, text in skipped]
        raw.skipped = located
        if strict:
            line, text = located[0]
            got = len(next(csv.reader([text], delimiter=delimiter), []))
            raise InputError(
                f"row has {got} fields, the header has {len(header)}",
                file=name,
                line=line,
                hint="expected every row to have as many fields as the header; check quoting",
            )
    return raw


def _locate(data: bytes, text: str) -> int:
    offset = data.find(text.encode("utf-8"))
    return data.count(b"\n", 0, offset) + 1 if offset >= 0 else -1
