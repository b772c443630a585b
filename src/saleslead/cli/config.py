"""CLI commands for the seat's settings per store and engagement (``saleslead config show|set``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from saleslead.cli.common import EngagementOption, JsonOption, StoreOption
from saleslead.cli.output import console, emit_json, guarded
from saleslead.config import ConfigSetRequest, SettingsView
from saleslead.seat import open_seat

__all__ = ["register"]


def _print(view: SettingsView) -> None:
    version = f"version {view.version}" if view.version is not None else "defaults (nothing set yet)"
    console.print(f"[bold]settings of {view.engagement}[/]: {version}")
    table = Table("key", "value", "default", "meaning", box=None)
    for line in view.lines:
        mark = "" if line.value == line.default else " *"
        table.add_row(line.key, f"{line.value}{mark}", str(line.default), line.description)
    console.print(table)


def register(app: typer.Typer) -> None:
    config = typer.Typer(help="The seat's settings for this store and engagement: fiscal year start, thresholds.")
    app.add_typer(config, name="config")

    @config.command("show")
    def show(store: StoreOption = None, engagement: EngagementOption = "default", json: JsonOption = False) -> None:
        """Every setting with its value (* where it differs from the default), default and meaning."""
        with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
            view = seat.config_show()
        if json:
            emit_json(view)
        else:
            _print(view)

    @config.command("set")
    def set_(
        key: Annotated[str, typer.Argument(help="A setting, e.g. fiscal_start_month or guard.stretch.")],
        value: Annotated[str, typer.Argument(help="Its new value (JSON or plain text), e.g. 2.")],
        author: Annotated[str, typer.Option("--author", help="Who changes it.")] = "saleslead",
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Set one setting for this store and engagement; every face (CLI, web, MCP, the cadence) uses it."""
        with guarded(json), open_seat(store, engagement=engagement) as seat:
            view = seat.config_set(ConfigSetRequest(key=key, value=value, author=author))
        if json:
            emit_json(view)
        else:
            _print(view)
