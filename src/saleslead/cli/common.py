"""Options every command shares."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from saleslead.periods import parse_date

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="SALESLEAD_STORE", help="Store location: a DuckDB file or an Ibis URL."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (documented schema).")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Compute as of the end of this date (YYYY-MM-DD).")]
EngagementOption = Annotated[
    str, typer.Option("--engagement", envvar="SALESLEAD_ENGAGEMENT", help="Engagement whose records to use.")
]


def as_of_date(value: str | None) -> date | None:
    return parse_date(value, "--as-of") if value else None
