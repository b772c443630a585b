"""The action table is the one list of what the seat does: every face and the role file are checked against it."""

from __future__ import annotations

from typing import get_type_hints

import anyio
import pytest
import typer
from mcp import Client

from saleslead.actions import ACTIONS
from saleslead.cli.app import app as cli
from saleslead.delegate import Delegated
from saleslead.mcp_server import build_server
from saleslead.role.cadence import ASK_ONLY, WEEK
from saleslead.role.desk import AskRequest
from saleslead.role.router import route
from saleslead.role.schema import load_role
from saleslead.role.specs import SPECS
from saleslead.seat import Seat
from saleslead.web.context import PAGES

from .conftest import DEMO_TODAY

BY_ID = {a.id: a for a in ACTIONS}

#: commands that are faces themselves, show the role file, or drive the A2A transport (which is the face's)
FACE_ONLY = {"mcp", "serve", "a2a", "role show", "role export", "handoffs peers", "handoffs deliver"}


def _leaf_commands() -> set[str]:
    found: set[str] = set()

    def walk(command: object, path: str) -> None:
        children = getattr(command, "commands", {})
        # a group that runs by itself (``forecast``, beside ``forecast grid``) is a command too
        if path and (not children or getattr(command, "invoke_without_command", False)):
            found.add(path)
        for name, child in children.items():
            walk(child, f"{path} {name}".strip())

    walk(typer.main.get_command(cli), "")
    return found


def test_ids_and_tool_names_are_unique() -> None:
    assert len(BY_ID) == len(ACTIONS)
    tools = [a.tool for a in ACTIONS if a.tool]
    assert len(tools) == len(set(tools))
    assert BY_ID["targets"].tool != BY_ID["set_targets"].tool
    assert (BY_ID["targets"].writes, BY_ID["set_targets"].writes) == (False, True)


def test_each_action_is_bound_to_a_method_taking_its_request() -> None:
    for a in ACTIONS:
        hints = get_type_hints(a.method)
        taken = hints["request"]
        assert a.request is taken or a.request in getattr(taken, "__args__", ()), a.id
        assert hints["return"] is a.result, a.id


def test_the_role_files_actions_are_ids_of_the_table_and_ask_answers_each() -> None:
    role = load_role()
    answered = {step.action for step in (*WEEK, *ASK_ONLY)}
    for item in role.mandate:
        for act in item.actions:
            assert act.id in BY_ID, act.id
            assert act.id in answered, act.id
            assert BY_ID[act.id].mandate in (item.id, "data"), act.id
            assert BY_ID[act.id].examples, f"{act.id} needs example questions"


def test_every_example_question_routes_to_its_action() -> None:
    role = load_role()
    for a in ACTIONS:
        for question in a.examples:
            assert a.id in route(role, question).actions, (a.id, question)


def test_the_table_is_its_specs_each_bound_once() -> None:
    assert [a.id for a in ACTIONS] == [s.id for s in SPECS]
    for a, spec in zip(ACTIONS, SPECS, strict=True):
        assert (a.mandate, a.request, a.result, a.writes, a.section) == (
            spec.mandate, spec.request, spec.result, spec.writes, spec.section
        ), a.id  # fmt: skip


def test_the_briefings_sections_are_the_tables_actions_with_a_section() -> None:
    """Each cadence step is an action of the table (its section's id, title and mandate are the row's), and every
    action the table gives a section is a step: of the week, or of ``ask`` alone."""
    steps = [*WEEK, *ASK_ONLY]
    assert len({s.action for s in steps}) == len(steps)
    for step in steps:
        assert step.spec in SPECS, step.action
        assert (step.mandate, step.title) == (BY_ID[step.action].mandate, BY_ID[step.action].section)
    assert {s.action for s in steps} == {a.id for a in ACTIONS if a.section is not None}


def test_cli_commands_are_the_tables() -> None:
    commands = _leaf_commands()
    claimed = {c for a in ACTIONS for c in a.cli}
    assert claimed <= commands, claimed - commands
    assert commands - claimed <= FACE_ONLY, commands - claimed - FACE_ONLY


def test_web_pages_show_actions_of_the_table() -> None:
    for page in PAGES:
        assert page.action in BY_ID, page.slug
        assert not BY_ID[page.action].writes, page.slug


def test_mcp_tools_are_derived_from_the_table(tmp_path: object) -> None:
    server = build_server(":memory:")

    async def listed() -> dict[str, object]:
        async with Client(server) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    tools = anyio.run(listed)
    assert set(tools) == {a.tool for a in ACTIONS if a.tool}
    for a in ACTIONS:
        if a.tool is None:
            continue
        tool = tools[a.tool]
        assert tool.annotations.read_only_hint is (not a.writes), a.id  # type: ignore[attr-defined]
        assert set(tool.input_schema["properties"]) == set(a.request.model_fields), a.id  # type: ignore[attr-defined]
        assert tool.description.startswith(a.description), a.id  # type: ignore[attr-defined]
    forecast = tools["forecast"].input_schema["properties"]  # type: ignore[attr-defined]
    assert forecast["as_of"]["anyOf"][0]["format"] == "date"
    assert forecast["period"]["examples"] == ["2026-Q4"]


@pytest.mark.slow
def test_ask_answers_how_much_pipeline_we_need(demo_seat: Seat) -> None:
    result = demo_seat.ask(AskRequest(text="How much pipeline do we need to hit plan?", as_of=DEMO_TODAY))
    [answer] = result.answers
    assert answer.action == "targets"
    assert answer.available, answer.text
    assert "pipeline" in answer.text
    assert answer.data["coverage"]["required_pipeline"] is not None or "too thin" in answer.text


def test_the_seats_methods_are_the_actions_desk_methods() -> None:
    """A seat method named like an action is that action's desk method, reached the same way (not a copy)."""
    delegated = {name: value for name, value in vars(Seat).items() if isinstance(value, Delegated)}
    assert len(delegated) >= 40
    paired = 0
    for a in ACTIONS:
        found = delegated.get(a.id)
        if found is None:
            continue
        paired += 1
        assert found.method is a.method, a.id
        assert found.desk is a.desk, a.id
        assert found.__doc__ == a.method.__doc__, a.id
    assert paired >= 30
    for name, found in delegated.items():  # every delegation runs its own desk's method of the same name
        assert found.method.__name__ == name, name
