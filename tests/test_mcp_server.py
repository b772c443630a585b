"""The MCP server: tools, hints, data from a tool, a handoff as a structured result, resources, prompt, stdio."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from saleslead.funnel.state import state_as_of
from saleslead.mcp_server import build_server
from saleslead.seat import Seat

from .conftest import DEMO_TODAY


def _run(fn: Any) -> Any:
    return anyio.run(fn)


def test_tools_data_and_handoff_in_process(demo_seat: Seat) -> None:
    path = demo_seat.store.location
    state = state_as_of(demo_seat.store, DEMO_TODAY)
    accounts = demo_seat.store.table("accounts")
    open_deals = state.filter(~state.is_closed)
    named = open_deals.join(accounts, open_deals.account_id == accounts.account_id)
    account = named.order_by(named.opportunity_id).select(accounts.name).limit(1).to_pyarrow().to_pylist()[0]["name"]
    demo_seat.close()
    server = build_server(path, clock=lambda: DEMO_TODAY)

    async def scenario() -> dict[str, Any]:
        async with Client(server) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            status = await client.call_tool("pipeline_status", {"as_of": "2026-11-24"})
            handoff = await client.call_tool("route_request", {"text": f"Please work the {account} deal"})
            mixed = await client.call_tool(
                "route_request", {"text": "Where does the funnel leak? And reconcile the quotas to the books"}
            )
            bad = await client.call_tool("pipeline_status", {"as_of": "1999-01-01"})
            listed = await client.call_tool("handoffs_list", {})
            unknown_ack = await client.call_tool("handoff_update", {"id": "ho-missing"})
            return {
                "tools": tools,
                "status": status,
                "handoff": handoff,
                "mixed": mixed,
                "bad": bad,
                "listed": listed,
                "unknown_ack": unknown_ack,
            }

    got = _run(scenario)
    tools = got["tools"]
    assert {"route_request", "pipeline_status", "weekly_briefing", "handoffs_list", "handoff_update"} <= set(tools)
    assert tools["pipeline_status"].annotations.read_only_hint is True
    assert tools["route_request"].annotations.read_only_hint is False
    if "strategy_score" in tools:  # a mandate tool, made from the seat's request model
        assert tools["strategy_score"].annotations.read_only_hint is True
        assert "lookback_months" in tools["strategy_score"].input_schema["properties"]

    status = got["status"].structured_content
    assert got["status"].is_error is False
    assert status["open_count"] > 0
    assert sum(s["count"] for s in status["open_by_segment"]) == status["open_count"]

    routed = got["handoff"]
    assert routed.is_error is False  # out of lane is a result, not an error
    body = routed.structured_content
    assert body["route"]["verdict"] == "out_of_lane"
    [h] = body["handoffs"]
    assert (h["to_role"], h["boundary"], h["status"]) == ("account-executive", "deal-execution", "open")
    assert h["payload"]["deals"], "the named account's open deals travel with the handoff"
    assert all("days_in_stage" in d for d in h["payload"]["deals"])

    mixed = got["mixed"].structured_content
    assert mixed["route"]["verdict"] == "mixed"
    assert [a["action"] for a in mixed["answers"]] == ["pipeline"]
    assert mixed["handoffs"][0]["to_role"] == "finance-analyst"

    assert [x["id"] for x in got["listed"].structured_content["handoffs"]] == [h["id"], mixed["handoffs"][0]["id"]]
    assert got["unknown_ack"].is_error is True
    assert got["unknown_ack"].structured_content["error"]["type"] == "NotFoundError"
    assert got["bad"].is_error is False  # before any history: an empty pipeline, honestly zero
    assert got["bad"].structured_content["open_count"] == 0


def test_resources_and_persona_prompt(tmp_path: Path) -> None:
    server = build_server(tmp_path / "empty.duckdb")

    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with Client(server) as client:
            resources = await client.list_resources()
            role = await client.read_resource("saleslead://role.json")
            state = await client.read_resource("saleslead://state")
            prompt = await client.get_prompt("persona", {"question": "Will we hit Q4?"})
            return resources, role, state, prompt

    resources, role, state, prompt = _run(scenario)
    assert {str(r.uri) for r in resources.resources} == {
        "saleslead://role",
        "saleslead://role.json",
        "saleslead://state",
    }
    assert json.loads(role.contents[0].text)["class"] == "sales-lead"
    # no store yet: the state resource says so in the one error shape
    assert json.loads(state.contents[0].text)["error"]["type"] == "StoreError"
    text = prompt.messages[0].content.text
    assert "coverage multiples" in text
    assert text.rstrip().endswith("Will we hit Q4?")


def test_stdio_smoke(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "saleslead.mcp_server"],
        env={**os.environ, "SALESLEAD_STORE": str(tmp_path / "stdio.duckdb")},
    )

    async def scenario() -> tuple[list[str], Any]:
        async with Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            routed = await client.call_tool("route_request", {"text": "Build a prospect list for fintech"})
            return names, routed

    names, routed = _run(scenario)
    assert "route_request" in names
    assert routed.structured_content["handoffs"][0]["to_role"] == "sales-development-rep"


def test_mandate_tools_forecast_stalls_and_the_guard(demo_seat: Seat) -> None:
    """Each tool call opens the seat afresh, so every forecasting call fits its own outlook: two here."""
    path = demo_seat.store.location
    demo_seat.close()
    server = build_server(path, clock=lambda: DEMO_TODAY)

    async def scenario() -> dict[str, Any]:
        async with Client(server) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            forecast = await client.call_tool(
                "forecast", {"period": "2026-Q4", "as_of": "2026-11-24", "scenarios": 500}
            )
            stalls = await client.call_tool("stalls", {"as_of": "2026-11-24"})
            p90 = forecast.structured_content["total"]["p90"]
            bold = await client.call_tool(
                "call_submit",
                {"node": "total", "period": "2026-Q4", "amount": 3 * p90, "as_of": "2026-11-24", "author": "vp"},
            )
            waterfall = await client.call_tool(
                "waterfall", {"period": "2026-Q4", "start": "2026-10-01", "end": "2026-11-24"}
            )
            grid = await client.call_tool("forecast_grid", {"period": "2026-Q4", "scenarios": 500})
            deals = await client.call_tool("deals", {"measure": "commit", "period": "2026-Q4", "limit": 0})
            return {
                "tools": tools,
                "forecast": forecast,
                "stalls": stalls,
                "bold": bold,
                "grid": grid,
                "deals": deals,
                "waterfall": waterfall,
            }

    got = _run(scenario)
    tools = got["tools"]
    hints = {name: tools[name].annotations.read_only_hint for name in tools}
    assert {k: hints[k] for k in ("forecast", "stalls", "waterfall", "roster_show")} == dict.fromkeys(
        ("forecast", "stalls", "waterfall", "roster_show"), True
    )
    for writes in ("call_submit", "call_check", "seat_call", "roster_plan"):
        assert hints[writes] is False, writes
    assert tools["call_check"].annotations.idempotent_hint is True
    assert tools["call_submit"].annotations.idempotent_hint is None
    assert set(tools["call_submit"].input_schema["properties"]) >= {"node", "period", "amount", "author", "reason"}
    assert "goal_by_segment" in tools["roster_plan"].input_schema["properties"]

    total = got["forecast"].structured_content["total"]
    assert got["forecast"].is_error is False
    assert total["p10"] <= total["p50"] <= total["p90"]
    assert got["forecast"].structured_content["scenarios"] == 500

    stalls = got["stalls"].structured_content
    assert stalls["items"]
    assert all(i["to_role"] == "account-executive" and i["reasons"] for i in stalls["items"])

    bold = got["bold"].structured_content
    assert got["bold"].is_error is False
    assert bold["check"]["verdict"] == "outruns-pipeline"
    assert bold["check"]["flagged"] is True
    assert bold["check"]["amount"] > bold["check"]["node_p90"]

    grid = got["grid"].structured_content
    assert got["grid"].is_error is False
    assert grid["rows"][0]["node"] == "total"
    assert hints["forecast_grid"] is True
    assert grid["rows"][0]["p50"] == pytest.approx(total["p50"])  # the same forecast, one call later
    deals = got["deals"].structured_content
    assert deals["amount"] == pytest.approx(grid["rows"][0]["commit"])  # the deals behind the grid's commit
    assert all(d["owner_name"] for d in deals["deals"])

    w = got["waterfall"].structured_content
    assert w["reconciles"] is True
    assert w["starting_pipeline"] + w["created"] + w["pulled_in"] - w["pushed_out"] + w["amount_up"] - w[
        "amount_down"
    ] - w["won"] - w["lost"] == pytest.approx(w["ending_pipeline"])
