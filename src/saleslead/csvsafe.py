"""CSV a spreadsheet can open safely: any cell that a spreadsheet would run as a formula is neutralised.

A deal or account name is text someone typed into the CRM. Written raw into a CSV, a name such as
``=HYPERLINK("http://…")`` or ``+cmd|' /C calc'!A0`` runs as a formula when the file is opened (CSV
injection). :func:`safe_cell` prefixes such text with an apostrophe, which spreadsheets show as text;
numbers are written as numbers (a negative amount stays a number).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

__all__ = ["FORMULA_PREFIXES", "csv_text", "safe_cell"]

#: First characters that make a spreadsheet read a cell as a formula (or a DDE call).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: object) -> str | int | float:
    """``value`` as a CSV cell: numbers as numbers, dates ISO, None empty, text that looks like a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    stripped = text.lstrip(" ")
    if stripped[:1] in FORMULA_PREFIXES:
        text = "'" + text
    # a carriage return becomes a line feed, which the writer quotes (a bare CR it would not)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (``\\n`` line ends) with every cell passed through :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
