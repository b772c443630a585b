"""The strategy commands: score → decide → show → check through the CLI, JSON shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.store.shelf import Shelf

from .conftest import copy_demo

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_score_decide_show_check(demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path) -> None:
    store = copy_demo(demo_store_file, demo_shelf, tmp_path / "demo.duckdb")
    code, out = run("strategy", "score", "--as-of", "2026-11-24", "--store", str(store), "--json")
    assert code == 0, out
    card = json.loads(out)
    assert card["as_of"] == "2026-11-24"
    assert card["dimensions"] == ["segment", "motion", "channel"]
    assert {"median_yield", "median_velocity"} <= card["company"].keys()
    cell = card["cells"][0]
    assert {"segment", "motion", "channel", "deals", "win_rate", "win_rate_low", "win_rate_high", "avg_deal"} <= set(
        cell
    )
    assert {"cycle_days", "velocity", "yield", "recommendation", "evidence"} <= set(cell)
    judged = [c for c in card["cells"] if c["recommendation"] != "insufficient-evidence"]
    worst = min(judged, key=lambda c: c["yield"] if c["yield"] is not None else 1.0)

    code, out = run(
        "strategy", "decide", "--author", "Ana Ruiz", "--as-of", "2025-11-24", "--store", str(store),
        "--do-not-compete", f"{worst['segment']} / {worst['motion']} / {worst['channel']}",
        "--reason", "lowest yield on the card", "--json",
    )  # fmt: skip
    assert code == 0, out
    decision = json.loads(out)
    assert decision["version"] == 1
    banned = [c["key"] for c in decision["do_not_compete"]]
    assert f"{worst['segment']} / {worst['motion']} / {worst['channel']}" in banned

    code, out = run("strategy", "show", "--store", str(store), "--json")
    assert code == 0
    assert json.loads(out)["versions"][0]["author"] == "Ana Ruiz"

    code, out = run("strategy", "check", "--as-of", "2026-11-24", "--store", str(store), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["strategy_version"] == 1
    assert result["do_not_compete"] == banned
    assert result["new_flags"] == len(result["flags"])
    code, _ = run("strategy", "check", "--as-of", "2026-11-24", "--store", str(store), "--fail-on-flags")
    assert code == (1 if result["flags"] else 0)

    code, out = run("strategy", "score", "--by", "segment,colour", "--store", str(store), "--json")
    assert code == 2
    assert json.loads(out)["error"]["type"] == "InputError"
