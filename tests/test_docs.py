"""Docs are checked against the code: the command reference, every command's help, the README's commands."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from saleslead.cli.app import app
from saleslead.cli.reference import render_reference

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(command: object, path: str) -> None:
        found[path] = command
        for name, child in getattr(command, "commands", {}).items():
            walk(child, f"{path} {name}")

    walk(typer.main.get_command(app), "saleslead")
    return found


def test_command_reference_is_current() -> None:
    current = (ROOT / "docs" / "commands.md").read_text()
    assert current == render_reference(), "regenerate: python -m saleslead.cli.reference > docs/commands.md"


def test_store_option_names_every_kind_of_store() -> None:
    lines = [line for line in render_reference().splitlines() if line.startswith("- `--store`")]
    assert len(lines) > 20
    for line in lines:
        assert "DuckDB file" in line
        assert "postgres://" in line
        assert "spark://MASTER?writer=PATH&lake=DIR" in line


def test_every_command_says_what_it_does() -> None:
    missing = [path for path, command in _commands().items() if not (getattr(command, "help", "") or "").strip()]
    assert missing == []


def test_readme_commands_exist() -> None:
    commands = _commands()
    readme = (ROOT / "README.md").read_text()
    used = set(re.findall(r"^(saleslead(?: [a-z][a-z0-9-]*)*)", readme, flags=re.MULTILINE))
    used |= {m for m in re.findall(r"`(saleslead(?: [a-z][a-z0-9-]*)+)", readme)}
    assert used, "the README shows no saleslead command"
    unknown = []
    for line in used:
        words = line.split()
        # the longest prefix that is a command must exist, and the next word must not be a missing subcommand
        while len(words) > 1 and " ".join(words) not in commands:
            words.pop()
        if " ".join(words) not in commands or (len(words) == 1 and line != "saleslead"):
            unknown.append(line)
    assert unknown == []


def _documented_fields(block: str) -> set[str]:
    """Field names of a ``{ ... }`` sketch in the docs, nested objects included (``[words]`` describe lists)."""
    fields = re.sub(r"\[[^\[\]{}]*\]", "", block.replace("\n", " "))
    return set(re.findall(r"([a-z_][a-z0-9_]*)\s*(?=[,:}\]]|$)", fields))


def test_ingest_and_status_json_are_documented_field_by_field() -> None:
    from saleslead.seat import IngestReport
    from saleslead.status import ClosedWon, PipelineSlice, StageRow, StatusReport

    contract = (ROOT / "docs" / "data-contract.md").read_text()
    section = contract[contract.index("## 8. What `ingest` and `status` report") :]
    blocks = re.findall(r"```\n(\{.*?\})\n```", section, flags=re.DOTALL)
    assert len(blocks) == 2
    ingest, status = (_documented_fields(block) for block in blocks)
    expected_ingest = set(IngestReport.model_fields) | {"file", "line", "column", "reason"}
    expected_ingest |= {"opportunities", "history", "users", "accounts", "quotas", "activities", "owner_changes"}
    assert ingest == expected_ingest
    expected_status = set(StatusReport.model_fields)
    for part in (StageRow, PipelineSlice, ClosedWon):
        expected_status |= set(part.model_fields)
    assert status == expected_status
