"""The ``saleslead`` command: a thin face over the seat. Each command parses, calls the seat once, and prints."""

from __future__ import annotations

import typer

from saleslead import __version__
from saleslead.cli import data, fleet, forecast, role, roster, strategy, sync, targets, web

app = typer.Typer(
    name="saleslead",
    help="The sales-lead seat: strategy, pipeline targets, roster and the forecast call — honest about the funnel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"saleslead {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """The sales-lead seat of an agent fleet."""


for module in (data, sync, targets, forecast, roster, strategy, role, fleet, web):
    module.register(app)


def main() -> None:
    app()
