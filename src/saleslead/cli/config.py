"""CLI commands for the seat's settings per store and engagement (``saleslead config show|set``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from saleslead.cli.common import EngagementOption, JsonOption, StoreOption
from saleslead.cli.output import console, emit_json, guarded
from saleslead.config import ConfigLoadRequest, ConfigSetRequest, SettingsView
from saleslead.errors import InputError
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
    config = typer.Typer(
        help="The seat's settings for this store and engagement: fiscal year, currency, stages, segments, thresholds."
    )
    app.add_typer(config, name="config")

    @config.command("show")
    def show(
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        toml: Annotated[bool, typer.Option("--toml", help="Write the settings as one TOML document.")] = False,
        json: JsonOption = False,
    ) -> None:
        """Every setting with its value (* where it differs from the default), default and meaning."""
        with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
            view = seat.config_show()
        if json:
            emit_json(view)
        elif toml:
            sys.stdout.write(view.toml)
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

    @config.command("load")
    def load(
        file: Annotated[Path, typer.Argument(help="A TOML file of settings, as `config show --toml` writes it.")],
        author: Annotated[str, typer.Option("--author", help="Who changes it.")] = "saleslead",
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Replace the settings of this store and engagement with a TOML file (keys left out take their defaults)."""
        with guarded(json):
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as error:
                raise InputError(f"cannot read {file}: {error.strerror}", file=str(file)) from error
            with open_seat(store, engagement=engagement) as seat:
                view = seat.config_load(ConfigLoadRequest(text=text, author=author))
        if json:
            emit_json(view)
        else:
            _print(view)
