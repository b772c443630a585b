"""Read one export file (CSV or Parquet) into an Arrow table of raw values, with exact line numbers.

CSV files are parsed by ``pyarrow.csv`` (multithreaded), every column as text. File-level problems
(empty, not text, wrong encoding, ragged rows) raise :class:`~saleslead.errors.InputError` naming the
file and line. Physical line numbers are computed only when a problem has to be reported.
"""

from __future__ import annotations

import codecs
import csv
import io
import mmap
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from saleslead.errors import InputError

__all__ = ["MAX_FIELD_BYTES", "MAX_ROW_BYTES", "RawTable", "read_raw"]

# Error paths re-read files with the standard library's reader: let it take any field pyarrow took.
csv.field_size_limit(2**31 - 1)

_HEAD_BYTES = 65536
#: The longest field accepted (bytes); a 10 MB pasted document in a field is refused with its line.
MAX_FIELD_BYTES = 4 * 2**20
#: pyarrow reads in blocks of this size and a row (all its lines) must fit in one.
MAX_ROW_BYTES = 8 * 2**20
_SCAN_CHUNK = 16 * 2**20
_BARE_CR = re.compile(rb"\r(?!\n)")
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
        # Past the last record the reader found (a file the two readers split differently): the plain count.
        return [starts[row] if row < len(starts) else row + 2 for row in indices]

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
        _check_header(name, [str(column) for column in table.column_names])
        raw = RawTable(name, path, table)
    else:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        _check_head(name, head)
        delimiter = _sniff_delimiter(head.removeprefix(_UTF8_BOM))
        _check_bytes(name, path, delimiter)
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
    try:
        header_bytes.decode("utf-8")
    except UnicodeDecodeError:
        _raise_encoding(name, path, delimiter)
    header_text = header_bytes.decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r\n")
    if "\r" in header_text:
        raise InputError(
            "the header line holds a bare CR (a line break in the middle of the line)",
            file=name,
            line=1,
            hint="expected one header line of column names ending in LF or CRLF",
        )
    header = _fields(header_text, delimiter)
    _check_header(name, header)
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid)
    kept = [column for column in header if columns is None or _wanted(column, columns)] or header
    convert = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in kept},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],  # only blank is null: "NA", "null" or "NaN" are values (a deal may be named "NA")
        include_columns=None if columns is None or kept is header else kept,
    )
    try:
        read = pacsv.ReadOptions(block_size=MAX_ROW_BYTES)
        table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "utf8" in str(error).lower():
            _raise_encoding(name, path, delimiter)
        if "straddl" in str(error):
            _raise_long_row(name, path, delimiter, header)
        raise InputError(
            f"not a readable CSV file: {error}",
            file=name,
            hint="expected a comma- or semicolon-separated export",
        ) from None
    if not set(table.column_names) <= set(header):
        raise InputError(
            "the header is not one line of column names (a quote on line 1 is not closed on that line)",
            file=name,
            line=1,
            hint="expected the first line to name the columns, quoted or not, each quote closed on the line",
        )
    raw = RawTable(name, path, table, delimiter=delimiter, width=len(header))
    _check_field_sizes(raw)
    if skipped:
        data = path.read_bytes()
        located = [(_locate(data, text) if number < 0 else number, text) for number, text in skipped]
        raw.skipped = located
        if strict:
            line, text = located[0]
            got = len(_fields(text, delimiter))
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


def _check_header(name: str, header: Sequence[str]) -> None:
    """Every column named once: ``Amount`` twice, or ``Amount`` and ``amount``, is refused (which one is meant?)."""
    seen: dict[str, str] = {}
    for column in header:
        key = column.strip().casefold()
        if key in seen:
            same = "twice" if seen[key] == column else f"twice (as {seen[key]!r} and {column!r})"
            raise InputError(
                f"the header names the column {column.strip()!r} {same}",
                file=name,
                line=1,
                column=column,
                hint="expected each column once (names are matched ignoring case and spaces); drop or rename one",
            )
        seen[key] = column


def _check_bytes(name: str, path: Path, delimiter: str) -> None:
    """Whole-file byte checks the CSV parser would let through: NUL bytes, CR-only line ends, bare quotes."""
    if path.stat().st_size == 0:
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        nul = data.find(b"\x00")
        if nul >= 0:
            line, column = _position(data, nul, delimiter)
            raise InputError(
                "a NUL byte (0x00) inside a field",
                file=name,
                line=line,
                column=column,
                hint="expected text without control bytes; remove the NUL or re-export the file as UTF-8",
            )
        if not _is_utf8(data):
            _raise_encoding(name, path, delimiter)
        if data.find(b"\n") < 0 and data.find(b"\r") >= 0:
            raise InputError(
                "the lines end with a bare CR (classic Mac OS line ends)",
                file=name,
                line=1,
                hint="expected LF or CRLF line ends; convert the file (e.g. `tr '\\r' '\\n'`) and ingest again",
            )
        stray = _BARE_CR.search(data) if data.find(b"\r") >= 0 else None
        if stray is not None:
            line, column = _position(data, stray.start(), delimiter)
            raise InputError(
                "a bare CR (a carriage return not followed by LF)",
                file=name,
                line=line,
                column=column,
                hint="expected LF or CRLF line ends and no lone CR inside text; remove it or re-export the file",
            )
        bare = _bare_quote(data, delimiter.encode())
        if bare >= 0:
            line, column = _position(data, bare, delimiter)
            raise InputError(
                "a bare quote inside a field",
                file=name,
                line=line,
                column=column,
                hint='expected a quote inside a quoted field to be doubled ("") and a field with quotes to be quoted',
            )


def _is_utf8(data: mmap.mmap) -> bool:
    """Whether the bytes are UTF-8 (checked before parsing: the parser cannot report a bad byte in a bad row)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _SCAN_CHUNK):
            chunk = data[start : start + _SCAN_CHUNK]
            if not (chunk.isascii() and decoder.getstate()[0] == b""):  # ASCII is UTF-8: no decoding needed
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _bare_quote(data: mmap.mmap, delimiter: bytes) -> int:
    """Offset of the first quote that neither opens nor closes a field nor pairs with a neighbour, else -1.

    In well-formed CSV every quote touches a separator, a line end, the file's edge or another quote; one
    with ordinary text on both sides (``"Op"en"``) is a bare quote the parser would silently misread. The
    bytes are mapped to three classes (quote, boundary, other) and the pattern other-quote-other searched.
    """
    if data.find(b'"') < 0:
        return -1
    classes = bytearray(b"x" * 256)
    classes[ord('"')] = ord('"')
    for byte in (ord("\n"), ord("\r"), delimiter[0]):
        classes[byte] = ord(",")
    table = bytes(classes)
    for start in range(0, len(data), _SCAN_CHUNK):
        found = data[start : start + _SCAN_CHUNK + 2].translate(table).find(b'x"x')
        if found >= 0:
            return start + found + 1
    return -1


def _check_field_sizes(raw: RawTable) -> None:
    """Refuse a field longer than :data:`MAX_FIELD_BYTES` (measured on the parsed text: no extra pass)."""
    for column in raw.table.column_names:
        values = raw.table.column(column)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        lengths = pc.binary_length(values)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= MAX_FIELD_BYTES:
            continue
        row = int(pc.index(pc.greater(lengths, MAX_FIELD_BYTES), True).as_py())
        raise InputError(
            f"a field of {longest:,} bytes; fields are limited to {MAX_FIELD_BYTES // 2**20} MiB",
            file=raw.name,
            line=raw.lines([row])[0],
            column=str(column),
            hint="expected fields of ordinary size; trim the long text (often a pasted document) and re-export",
        )


def _header_of(data: mmap.mmap, delimiter: str) -> list[str]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").removeprefix("\ufeff")
    return _fields(first, delimiter)


def _fields(text: str, delimiter: str) -> list[str]:
    """The fields of one line; a line the standard reader cannot take (a stray CR) is split plainly."""
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return text.split(delimiter)


def _position(data: mmap.mmap, offset: int, delimiter: str) -> tuple[int, str | None]:
    """(1-based physical line, header column) of a byte offset; the column is read from the line's start."""
    line = data[:offset].count(b"\n") + 1
    start = data.rfind(b"\n", 0, offset) + 1
    header = _header_of(data, delimiter)
    index, quoted = 0, False
    for byte in data[start:offset]:
        if byte == 34:
            quoted = not quoted
        elif byte == ord(delimiter) and not quoted:
            index += 1
    return line, header[index] if line > 1 and index < len(header) else None


def _raise_long_row(name: str, path: Path, delimiter: str, header: Sequence[str]) -> None:
    """A row longer than :data:`MAX_ROW_BYTES`: name its line and its longest field."""
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    worst: tuple[int, int, list[str]] = (0, 1, [])
    for record in reader:
        start, previous = previous + 1, reader.line_num
        size = sum(len(value) for value in record) + len(record)
        if size * 4 >= MAX_ROW_BYTES:
            size = sum(len(value.encode("utf-8")) for value in record) + len(record)
        if size > worst[0]:
            worst = (size, start, record)
        if size >= MAX_ROW_BYTES:
            break
    size, start, record = worst
    longest = max(range(len(record)), key=lambda i: len(record[i])) if record else 0
    raise InputError(
        f"a row of {size:,} bytes (its longest field {len(record[longest]) if record else 0:,} characters); "
        f"rows are limited to {MAX_ROW_BYTES // 2**20} MiB",
        file=name,
        line=start,
        column=header[longest] if start > 1 and longest < len(header) else None,
        hint="expected fields of ordinary size; trim the long text (often a pasted document) and re-export",
    )
