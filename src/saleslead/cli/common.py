"""Options every command shares."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from saleslead.errors import InputError
from saleslead.periods import parse_date

if TYPE_CHECKING:
    from saleslead.seat import Seat

STORE_HELP = (
    "Store location (default ./saleslead.duckdb): a DuckDB file; an Ibis URL such as "
    "postgres://USER@HOST/DB or duckdb:///PATH; or spark://MASTER?writer=PATH&lake=DIR "
    "(MASTER local[N], yarn or HOST:PORT; facts served by Spark, writes through the DuckDB file PATH; "
    "see docs/sync.md)."
)
StoreOption = Annotated[str | None, typer.Option("--store", envvar="SALESLEAD_STORE", help=STORE_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (documented schema).")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Compute as of the end of this date (YYYY-MM-DD).")]
EngagementOption = Annotated[
    str, typer.Option("--engagement", envvar="SALESLEAD_ENGAGEMENT", help="Engagement whose records to use.")
]


def as_of_date(value: str | None) -> date | None:
    return parse_date(value, "--as-of") if value else None


class _Dated(Protocol):
    def today(self) -> date: ...

    def data_through(self) -> date | None: ...


def as_of_note(seat: _Dated, given: str | None) -> str:
    """Where the as-of date came from, in words, when the user did not give one."""
    if given:
        return ""
    through = seat.data_through()
    today = seat.today()
    if through is not None and through == today:
        return f"as of {today}: the end of the store's last snapshot (--as-of for another day)"
    return f"as of {today}: today (--as-of for another day)"


def choice(value: str, options: Any, option: str) -> Any:
    """``value`` if it is one of the ``Literal`` ``options``, else a usage error naming them."""
    allowed = tuple(getattr(options, "__args__", options))
    if value not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)}; got {value!r}", column=option)
    return value


def open_seat(store: str | Path | None = None, *, engagement: str = "default", read_only: bool = False) -> Seat:
    """:func:`saleslead.seat.open_seat`, the seat imported when a command first needs it (not to list or parse)."""
    from saleslead import seat

    return seat.open_seat(store, engagement=engagement, read_only=read_only)
