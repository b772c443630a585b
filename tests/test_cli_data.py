"""The data commands end to end: ingest, status and demo through the real CLI and a real store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app

from .conftest import shared_data

runner = CliRunner()

ERROR_KEYS = {"type", "message", "file", "line", "column", "hint"}


def run(*args: str) -> tuple[int, Any]:
    result = runner.invoke(app, list(args))
    try:
        body = json.loads(result.stdout)
    except json.JSONDecodeError:
        body = result.stdout
    return result.exit_code, body


def counts(store: Path) -> tuple[int, int, int]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM opportunities), (SELECT count(*) FROM history),"
            " (SELECT count(*) FROM ingests)"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_ingest_salesforce_sample_reports_and_is_idempotent(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    code, report = run("ingest", str(shared_data("salesforce-sample")), "--store", str(store), "--json")
    assert code == 0
    assert report["rows_read"]["opportunities"] == 36
    assert report["rows_read"]["history"] == 48
    assert report["rejected"] == []
    assert report["stages"][-2:] == ["Closed Won", "Closed Lost"]
    assert report["snapshot_at"] == "2026-03-07T21:00:00"
    assert report["opportunities_new"] == 36
    assert not report["unchanged"]
    first = counts(store)
    code, again = run("ingest", str(shared_data("salesforce-sample")), "--store", str(store), "--json")
    assert code == 0
    assert again["unchanged"] is True
    assert again["history_added"] == 0
    assert counts(store)[:2] == first[:2]


def test_status_json_schema_on_salesforce_sample(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    run("ingest", str(shared_data("salesforce-sample")), "--store", str(store), "--json")
    code, status = run("status", "--as-of", "2026-03-07", "--store", str(store), "--json")
    assert code == 0
    assert {
        "opportunities",
        "history_rows",
        "stages",
        "open_count",
        "open_amount",
        "open_by_segment",
        "open_by_stage",
        "closed_won_quarter_to_date",
        "first_event",
        "last_event",
        "as_of",
    } <= set(status)
    assert status["opportunities"] == 36
    assert status["open_count"] == sum(s["count"] for s in status["open_by_stage"])
    assert status["open_amount"] == sum(s["amount"] for s in status["open_by_segment"])
    assert status["closed_won_quarter_to_date"]["period"] == "2026-Q1"
    order = [s["order"] for s in status["stages"]]
    assert order == sorted(order)


def test_maven_with_its_mapping(tmp_path: Path) -> None:
    store = tmp_path / "m.duckdb"
    code, report = run("ingest", str(shared_data("maven-crm")), "--mapping", "maven", "--store", str(store), "--json")
    assert code == 0
    assert report["rows_read"]["opportunities"] == 8800
    code, status = run("status", "--as-of", "2017-12-31", "--store", str(store), "--json")
    assert code == 0
    # Engaging 1,589 + Prospecting 500 are open at the end of the data.
    assert status["open_count"] == 2089
    by_stage = {s["name"]: s["count"] for s in status["open_by_stage"]}
    assert by_stage == {"Prospecting": 500, "Engaging": 1589}
    code, mid = run("status", "--as-of", "2017-06-30", "--store", str(store), "--json")
    assert code == 0
    # Mid-year, deals engaged but not yet closed are open; prospects (no dates at all) are first seen at the end.
    assert 0 < mid["open_count"] != status["open_count"]
    assert "Prospecting" not in {s["name"] for s in mid["open_by_stage"]}


def test_bad_input_names_file_line_column_and_leaves_store_unchanged(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    run("ingest", str(shared_data("salesforce-sample")), "--store", str(store), "--json")
    before = counts(store)
    broken = tmp_path / "broken"
    shutil.copytree(shared_data("salesforce-sample"), broken)
    lines = (broken / "Opportunity.csv").read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",220000,", ",lots,", 1)
    (broken / "Opportunity.csv").write_text("".join(lines))
    code, body = run("ingest", str(broken), "--store", str(store), "--json")
    assert code == 2
    assert set(body["error"]) == ERROR_KEYS
    assert body["error"]["file"] == "Opportunity.csv"
    assert body["error"]["line"] == 4
    assert body["error"]["column"] == "Amount"
    assert counts(store) == before


def test_quarantine_loads_the_good_rows_and_reports_the_bad(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    broken = tmp_path / "broken"
    shutil.copytree(shared_data("salesforce-sample"), broken)
    lines = (broken / "Opportunity.csv").read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",220000,", ",lots,", 1)
    (broken / "Opportunity.csv").write_text("".join(lines))
    code, report = run("ingest", str(broken), "--quarantine", "--store", str(store), "--json")
    assert code == 0
    assert report["rows_read"]["opportunities"] == 35
    # The bad deal is quarantined, and so is its history row, which now points at an unknown opportunity.
    assert [(r["file"], r["line"], r["column"]) for r in report["rejected"]] == [
        ("Opportunity.csv", 4, "Amount"),
        ("OpportunityHistory.csv", 4, "OpportunityId"),
    ]


def test_missing_folder_and_bad_date_are_usage_errors(tmp_path: Path) -> None:
    code, body = run("ingest", str(tmp_path / "nope"), "--store", str(tmp_path / "s.duckdb"), "--json")
    assert code == 2
    assert body["error"]["type"] == "InputError"
    code, body = run("status", "--as-of", "yesterday", "--store", str(tmp_path / "s.duckdb"), "--json")
    assert code == 2
    assert "--as-of" in body["error"]["message"]


def test_status_on_a_missing_store_says_so(tmp_path: Path) -> None:
    code, body = run("status", "--store", str(tmp_path / "none.duckdb"), "--json")
    assert code == 1
    assert body["error"]["type"] == "StoreError"
    assert "saleslead demo" in body["error"]["hint"]


@pytest.mark.slow
def test_demo_builds_ingests_and_briefs(tmp_path: Path) -> None:
    out = tmp_path / "export"
    store = tmp_path / "d.duckdb"
    code, result = run(
        "demo", "--out", str(out), "--opportunities", "400", "--as-of", "2026-03-31", "--store", str(store), "--json"
    )
    assert code == 0
    assert (out / "Opportunity.csv").exists()
    assert result["ingest"]["rows_read"]["opportunities"] == result["opportunities"]
    assert result["status"]["as_of"] == "2026-03-31"
    assert result["status"]["open_count"] > 0
    # The demo ends with the weekly briefing: the call with its range comes first.
    assert result["briefing"].startswith("# Sales-lead briefing — week of 2026-03-31 (2026-Q1)")
    assert "## The call" in result["briefing"]
    assert counts(store)[0] == result["opportunities"]
