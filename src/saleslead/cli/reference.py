"""The command reference (docs/commands.md), rendered from the live CLI so it cannot drift.

Regenerate with ``python -m saleslead.cli.reference > docs/commands.md``; a test fails when the
file and the CLI disagree.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperArgument

from saleslead.cli.app import app

__all__ = ["render_reference"]


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    children = getattr(command, "commands", {})
    for name in sorted(children):
        found += _walk(children[name], [*path, name])
    return found


def _option_line(param: Any) -> str:
    if isinstance(param, TyperArgument):
        text = (getattr(param, "help", "") or "").strip()
        name = (param.name or "").upper()
        required = ", required" if param.required else ""
        return f"- `{name}` (argument{required}): {text}".rstrip()
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    text = (param.help or "").strip()
    default = param.default
    shown = "" if default in (None, False, (), []) or callable(default) else f" (default: `{default}`)"
    env = f" [env: `{param.envvar}`]" if isinstance(param.envvar, str) else ""
    return f"- {names}: {text}{shown}{env}".rstrip()


def render_reference() -> str:
    """Markdown reference of every command, its help and its options."""
    root = typer.main.get_command(app)
    lines = [
        "# Command reference",
        "",
        "Generated from the CLI itself (`python -m saleslead.cli.reference > docs/commands.md`);",
        "`tests/test_docs.py` fails when this file and `saleslead --help` disagree.",
        "Every reporting command takes `--json`; its fields are documented with the mandate",
        "(docs/targets.md, docs/forecast.md, docs/roster.md, docs/strategy.md, docs/fleet.md, docs/web.md).",
        "",
    ]
    for path, command in _walk(root, ["saleslead"]):
        if command.hidden:
            continue
        lines.append(f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`")
        lines.append("")
        help_text = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        if help_text:
            lines += [help_text, ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            lines += [_option_line(p) for p in params]
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_reference())
