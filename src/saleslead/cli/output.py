"""How the CLI speaks: JSON for machines, Rich tables for people, one error shape, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from saleslead.errors import SalesLeadError, as_error, error_payload, exit_code
from saleslead.format import money

__all__ = ["WIDTH", "console", "emit_json", "fail", "money", "progress_bar", "stderr", "table"]

#: Tables are laid out for this many columns when the output is not a terminal (a file, a pipe, a test).
WIDTH = 100
console = Console(width=None if sys.stdout.isatty() else WIDTH)
stderr = Console(stderr=True)


def table(*headers: str, text: tuple[str, ...] = (), title: str | None = None) -> Table:
    """A table that fits the console: columns named in ``text`` wrap; every other column holds a number
    (money, a ratio, a count) and is right-aligned and never cut — Rich narrows the text columns first."""
    out = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, title=title, title_justify="left", show_edge=False
    )
    for h in headers:
        if h in text:
            out.add_column(h, overflow="fold", min_width=min(14, max(len(h), 8)) if h == text[0] else None)
        else:
            out.add_column(h, justify="right", no_wrap=True)
    return out


def emit_json(result: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(result, BaseModel):
        text = result.model_dump_json(indent=2)
    else:
        text = json.dumps(result, indent=2, default=str)
    sys.stdout.write(text + "\n")


def fail(error: BaseException, as_json: bool) -> NoReturn:
    """Report an error in the one shape and exit with its code (2 bad input, 1 otherwise)."""
    if as_json:
        sys.stdout.write(json.dumps(error_payload(error), indent=2) + "\n")
    else:
        stderr.print(f"[bold red]error:[/] {as_error(error)}", markup=True, highlight=False)
    raise typer.Exit(exit_code(error))


@contextmanager
def guarded(as_json: bool) -> Iterator[None]:
    """Turn library errors, and requests that fail validation, into the CLI's error output at the edge."""
    try:
        yield
    except (SalesLeadError, ValidationError) as error:
        fail(error, as_json)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A Rich progress bar on a terminal; nothing under --json or when output is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield update
