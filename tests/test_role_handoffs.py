"""Handoffs: stable ids, an idempotent outbox that survives restarts, forward-only statuses, JSON Lines, payloads."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.errors import InputError
from saleslead.ingest.canonical import ACCOUNTS, QUOTAS
from saleslead.role.desk import AskRequest, HandoffsRequest, HandoffUpdate
from saleslead.role.handoffs import handoff_id
from saleslead.seat import Seat, open_seat
from saleslead.store import Store

from .builders import export

D = date(2026, 11, 24)


def _deal(oid: str, account: str, segment: str, amount: float, days_ago: int) -> tuple[dict[str, Any], dict[str, Any]]:
    created = datetime.combine(D - timedelta(days=days_ago), datetime.min.time()).replace(hour=9)
    opp = {
        "opportunity_id": oid,
        "name": f"{oid} deal",
        "account_id": account,
        "owner_id": "u1",
        "created_at": created,
        "stage": "Qualify",
        "amount": amount,
        "close_date": D + timedelta(days=30),
        "is_closed": False,
        "is_won": False,
        "segment": segment,
    }
    event = {
        "opportunity_id": oid,
        "changed_at": created,
        "stage": "Qualify",
        "amount": amount,
        "close_date": D + timedelta(days=30),
    }
    return opp, event


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    deals = [
        _deal("O1", "ACC1", "SMB", 100.0, 10),
        _deal("O2", "ACC2", "SMB", 300.0, 50),
        _deal("O3", "ACC3", "Enterprise", 1000.0, 20),
    ]
    path = tmp_path / "hand.duckdb"
    store = Store.open(path)
    store.ingest(export(datetime(2026, 11, 24, 18), [o for o, _ in deals], [e for _, e in deals]))
    accounts = [
        {"account_id": "ACC1", "name": "Acme Analytics Inc", "segment": "SMB"},
        {"account_id": "ACC2", "name": "Globex GmbH", "segment": "SMB"},
        {"account_id": "ACC3", "name": "Initech", "segment": "Enterprise"},
    ]
    quotas = [
        {"owner_id": "u1", "start_date": date(2026, 10, 1), "amount": 500.0},
        {"owner_id": "u1", "start_date": date(2026, 11, 1), "amount": 500.0},
        {"owner_id": "u2", "start_date": date(2026, 10, 1), "amount": 700.0},
        {"owner_id": "u2", "start_date": date(2026, 7, 1), "amount": 999.0},  # Q3: not this quarter's plan
    ]
    with store.transaction():
        store.insert(
            "accounts", pa.Table.from_pylist([{c: a.get(c) for c in ACCOUNTS.names} for a in accounts], schema=ACCOUNTS)
        )
        store.insert("quotas", pa.Table.from_pylist(quotas, schema=QUOTAS))
    store.close()
    return path


def _seat(path: Path) -> Seat:
    seat = open_seat(path)
    seat.clock = lambda: D
    return seat


def test_handoff_id_is_a_stable_hash_of_engagement_role_boundary_and_key() -> None:
    a = handoff_id("default", "account-executive", "deal-execution", "O1")
    assert a == handoff_id("default", "account-executive", "deal-execution", "O1")
    assert a.startswith("ho-")
    assert len(a) == 19
    assert a != handoff_id("other", "account-executive", "deal-execution", "O1")
    assert a != handoff_id("default", "account-executive", "deal-execution", "O2")


def test_working_a_deal_is_handed_to_the_account_executive_with_the_deal(store_path: Path) -> None:
    with _seat(store_path) as seat:
        result = seat.ask(AskRequest(text="Can you work the Acme Analytics deal to close?"))
    assert result.route.verdict == "out_of_lane"
    [h] = result.handoffs
    assert (h.to_role, h.boundary, h.relation, h.from_role) == (
        "account-executive",
        "deal-execution",
        "owns",
        "sales-lead",
    )
    [deal] = h.payload["deals"]
    assert deal["opportunity_id"] == "O1"  # "Acme Analytics" named without its "Inc"
    assert (deal["stage"], deal["amount"], deal["days_in_stage"], deal["pushes"]) == ("Qualify", 100.0, 10, 0)
    assert h.sequence == 1
    assert h.status == "open"
    assert h.as_of == D


def test_prospect_list_hands_over_the_creation_by_segment(store_path: Path) -> None:
    with _seat(store_path) as seat:
        [h] = seat.ask(AskRequest(text="Build a prospect list for the SMB team")).handoffs
    assert h.to_role == "sales-development-rep"
    creation = h.payload["creation"]
    assert creation["weeks"] == 13
    by_segment = {s["segment"]: s for s in creation["segments"]}
    # SMB: O1 100 (10 days ago) + O2 300 (50 days ago) over 13 weeks; last 4 weeks: only O1
    assert by_segment["SMB"]["weekly_run_rate"] == round(400 / 13, 2)
    assert by_segment["SMB"]["weekly_last_4"] == 25.0
    assert by_segment["Enterprise"]["weekly_run_rate"] == round(1000 / 13, 2)
    assert by_segment["Enterprise"]["weekly_last_4"] == 250.0


def test_reconciling_quotas_feeds_finance_the_quarter_plan(store_path: Path) -> None:
    with _seat(store_path) as seat:
        [h] = seat.ask(AskRequest(text="Reconcile the Q4 quotas to the books")).handoffs
    assert (h.to_role, h.relation) == ("finance-analyst", "feeds")
    plan = h.payload["quota_plan"]
    assert plan["period"] == "2026-Q4"
    assert plan["total_quota"] == 1700.0  # 500 + 500 + 700; the Q3 quota stays out
    assert plan["quotas"] == [{"owner_id": "u1", "quota": 1000.0}, {"owner_id": "u2", "quota": 700.0}]


def test_outbox_is_idempotent_and_survives_restart(store_path: Path) -> None:
    with _seat(store_path) as seat:
        first = seat.ask(AskRequest(text="Reconcile the Q4 quotas to the books")).handoffs[0]
        again = seat.ask(AskRequest(text="reconcile the Q4 quotas to the books!")).handoffs[0]
        assert again.id == first.id
        second = seat.ask(AskRequest(text="Book meetings with fintech CFOs")).handoffs[0]
        assert second.sequence == 2
    with _seat(store_path) as seat:
        listed = seat.handoffs().handoffs
        assert [(h.id, h.sequence, h.status) for h in listed] == [(first.id, 1, "open"), (second.id, 2, "open")]
        assert seat.update_handoff(HandoffUpdate(id=first.id, by="finance-analyst")).status == "acknowledged"
    with _seat(store_path) as seat:
        assert seat.handoffs(HandoffsRequest(status="acknowledged")).handoffs[0].id == first.id
        assert seat.update_handoff(HandoffUpdate(id=first.id, status="done")).status == "done"
        with pytest.raises(InputError, match="forward"):
            seat.update_handoff(HandoffUpdate(id=first.id, status="open"))
        lines = seat.handoffs_jsonl().splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["done", "open"]
    assert json.loads(lines[0])["payload"]["quota_plan"]["total_quota"] == 1700.0


def test_mixed_request_answers_and_hands_off(store_path: Path) -> None:
    with _seat(store_path) as seat:
        result = seat.ask(AskRequest(text="Where does the funnel leak, and please close the Initech deal"))
    assert result.route.verdict == "mixed"
    [answer] = result.answers
    assert answer.action == "pipeline"
    assert answer.available
    assert answer.data["status"]["open_count"] == 3
    assert [d["opportunity_id"] for d in result.handoffs[0].payload["deals"]] == ["O3"]


def test_cli_ask_list_ack_export(store_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SALESLEAD_STORE": str(store_path)}
    asked = runner.invoke(app, ["ask", "Negotiate the Globex discount", "--as-of", "2026-11-24", "--json"], env=env)
    assert asked.exit_code == 0, asked.output
    handoff = json.loads(asked.output)["handoffs"][0]
    assert handoff["to_role"] == "account-executive"
    assert handoff["payload"]["deals"][0]["opportunity_id"] == "O2"
    listed = runner.invoke(app, ["handoffs", "list", "--json"], env=env)
    assert [h["id"] for h in json.loads(listed.output)["handoffs"]] == [handoff["id"]]
    acked = runner.invoke(app, ["handoffs", "ack", handoff["id"], "--json"], env=env)
    assert json.loads(acked.output)["status"] == "acknowledged"
    out = tmp_path / "outbox.jsonl"
    assert runner.invoke(app, ["handoffs", "export", "--out", str(out)], env=env).exit_code == 0
    assert json.loads(out.read_text().splitlines()[0])["status"] == "acknowledged"
    missing = runner.invoke(app, ["handoffs", "ack", "ho-nope", "--json"], env=env)
    assert missing.exit_code == 2
    assert json.loads(missing.output)["error"]["type"] == "NotFoundError"
