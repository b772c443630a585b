"""The seat on A2A: the card's skills are the role's actions; a peer's task gets what `ask` gives;
hand-offs are delivered to configured peers as A2A messages, with their delivery state kept and retried.

Everything runs with the real a2a-sdk client and server: in process over an ASGI transport, and over
HTTP on localhost (uvicorn on a free port).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from a2a.client import ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import get_data_parts, new_data_part, new_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import add_a2a_routes_to_fastapi, create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentSkill, Role, SendMessageRequest
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT
from fastapi import FastAPI

from saleslead.a2a_face import a2a_send, agent_card, build_app
from saleslead.actions import action
from saleslead.role.delivery import DELIVERY, MAX_ATTEMPTS, PeerRequest
from saleslead.role.desk import AskRequest
from saleslead.role.schema import load_role
from saleslead.seat import Seat

from .conftest import DEMO_TODAY

BASE = "http://seat.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serving(make_app: Callable[[str], FastAPI]) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(make_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _ask(base: str, parts: list[Any], transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=transport, base_url=base, timeout=60) as http:
        client = await ClientFactory(ClientConfig(httpx_client=http)).create_from_url(base)
        message = new_message(parts, role=Role.ROLE_USER)
        async for event in client.send_message(SendMessageRequest(message=message)):
            assert event.HasField("message"), event
            [data] = [d for d in get_data_parts(list(event.message.parts)) if isinstance(d, dict)]
            return data
    raise AssertionError("no reply")


def _seat_app(seat: Seat, base: str) -> FastAPI:
    return build_app(lambda: contextlib.nullcontext(seat), load_role(), base)


def test_the_card_lists_every_action_as_a_skill_and_the_handoff() -> None:
    role = load_role()
    card = agent_card(role, BASE)
    actions = [a.id for item in role.mandate for a in item.actions]
    assert [s.id for s in card.skills] == [*actions, "handoff"]
    for skill in card.skills[:-1]:  # described by the action table's row
        assert skill.description == action(skill.id).description
        assert set(action(skill.id).examples) <= set(skill.examples or ())
    assert all(s.examples for s in card.skills)
    assert card.supported_interfaces[0].url == f"{BASE}/a2a"


def test_a_peer_question_in_process_gets_the_same_handoff_as_ask(demo_seat: Seat) -> None:
    text = "can you work the Acme deal?"
    expected = demo_seat.ask(AskRequest(text=text, as_of=DEMO_TODAY))
    transport = httpx.ASGITransport(app=_seat_app(demo_seat, BASE))
    got = asyncio.run(_ask(BASE, [new_text_part(text), new_data_part({"as_of": DEMO_TODAY.isoformat()})], transport))
    assert got["route"]["verdict"] == expected.route.verdict == "out_of_lane"
    assert [h["id"] for h in got["handoffs"]] == [h.id for h in expected.handoffs]
    assert got["handoffs"][0]["to_role"] == "account-executive"


def test_a_typed_intent_over_http_gets_the_same_answer_as_ask(demo_seat: Seat) -> None:
    expected = demo_seat.ask(AskRequest(intent="pipeline", as_of=DEMO_TODAY))
    with _serving(lambda url: _seat_app(demo_seat, url)) as url:
        card = httpx.get(f"{url}/.well-known/agent-card.json", timeout=30).json()
        assert {s["id"] for s in card["skills"]} >= {"forecast", "coverage", "stalls", "handoff"}
        got = asyncio.run(_ask(url, [new_data_part({"intent": "pipeline", "as_of": DEMO_TODAY.isoformat()})]))
    [answer] = got["answers"]
    assert answer["action"] == "pipeline"
    assert answer["text"] == expected.answers[0].text


def test_a_bad_date_is_the_one_error_shape(demo_seat: Seat) -> None:
    transport = httpx.ASGITransport(app=_seat_app(demo_seat, BASE))
    got = asyncio.run(_ask(BASE, [new_data_part({"intent": "pipeline", "as_of": "2026-02-30"})], transport))
    assert got["error"]["type"] == "InputError"
    assert "as_of" in got["error"]["message"]


class _Peer(AgentExecutor):
    """A fleet peer that acknowledges every hand-off it is sent, and remembers them."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        assert message is not None
        self.received += [d["handoff"] for d in get_data_parts(list(message.parts)) if isinstance(d, dict)]
        reply = [new_text_part("on it"), new_data_part({"acknowledged": True})]
        await event_queue.enqueue_event(new_message(reply, context_id=context.context_id, task_id=context.task_id))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def _peer_app(executor: _Peer, url: str) -> FastAPI:
    card = AgentCard(
        name="account-executive",
        description="test peer",
        version="1",
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="deal", name="deal", description="works deals", tags=["deal"])],
    )
    card.supported_interfaces.add(url=f"{url}/", protocol_binding="JSONRPC", protocol_version=PROTOCOL_VERSION_CURRENT)
    handler = DefaultRequestHandlerV2(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card)
    app = FastAPI()
    add_a2a_routes_to_fastapi(
        app, agent_card_routes=create_agent_card_routes(card), jsonrpc_routes=create_jsonrpc_routes(handler, "/")
    )
    return app


def test_handoffs_reach_a_configured_peer_once_and_are_acknowledged(demo_seat: Seat) -> None:
    [handoff] = demo_seat.ask(AskRequest(text="please negotiate the Initech renewal", as_of=DEMO_TODAY)).handoffs
    [waiting] = demo_seat.ask(AskRequest(text="build me a list of fintech prospects", as_of=DEMO_TODAY)).handoffs
    peer = _Peer()
    with _serving(lambda url: _peer_app(peer, url)) as url:
        demo_seat.set_peer(PeerRequest(role="account-executive", url=url))
        report = demo_seat.deliver_handoffs(a2a_send(timeout=30))
        again = demo_seat.deliver_handoffs(a2a_send(timeout=30))
    mine = [d for d in report.deliveries if d.handoff == handoff.id]
    assert [d.state for d in mine] == ["delivered"]
    assert handoff.id in {h["id"] for h in peer.received}
    assert handoff.id not in {d.handoff for d in again.deliveries}
    assert demo_seat.fleet_desk.outbox.get(handoff.id).status == "acknowledged"
    assert report.no_peer == [waiting.id], "a hand-off to a role with no peer stays in the outbox"


def test_a_peer_that_is_down_is_retried_then_given_up(demo_seat: Seat) -> None:
    [handoff] = demo_seat.ask(AskRequest(text="reconcile the quota plan to the books", as_of=DEMO_TODAY)).handoffs
    demo_seat.set_peer(PeerRequest(role="finance-analyst", url=f"http://127.0.0.1:{_free_port()}"))
    states = []
    for _ in range(MAX_ATTEMPTS + 1):
        report = demo_seat.deliver_handoffs(a2a_send(timeout=2))
        states += [(d.state, d.attempts) for d in report.deliveries if d.handoff == handoff.id]
    assert states == [("pending", n) for n in range(1, MAX_ATTEMPTS)] + [("failed", MAX_ATTEMPTS)]
    history = demo_seat.records.history(DELIVERY, handoff.id)
    assert len(history) == MAX_ATTEMPTS
    assert history[-1].payload["error"]
    assert demo_seat.fleet_desk.outbox.get(handoff.id).status == "open"


def test_a_peer_url_must_be_http(demo_seat: Seat) -> None:
    from saleslead.errors import InputError

    with pytest.raises(InputError, match="not an http"):
        demo_seat.set_peer(PeerRequest(role="finance-analyst", url="ftp://nowhere"))
