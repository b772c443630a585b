"""The seat as an A2A agent: an agent card whose skills are the seat's actions, and tasks answered by ``ask``.

A fleet peer sends a message — free text, or a data part ``{"intent": "<action or boundary id>",
"text": ..., "as_of": "YYYY-MM-DD"}`` — and gets back one message with two parts: the answer in
words, and the whole :class:`~saleslead.role.desk.AskResult` as data (the route, the in-lane
answers, the hand-offs issued). It is the same call as ``saleslead ask`` and the MCP ``ask`` tool,
so a peer gets the same answer or hand-off as any other face.

The face only parses, calls the seat once, and formats; the seat runs in a worker thread so the
event loop stays free. Built on ``a2a-sdk`` (JSON-RPC binding, served by FastAPI/uvicorn).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

import httpx
from a2a.client import ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import get_data_parts, get_message_text, new_data_part, new_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import add_a2a_routes_to_fastapi, create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    Message,
    Role,
    SendMessageRequest,
    TaskState,
)
from a2a.utils import TransportProtocol
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT
from fastapi import FastAPI

from saleslead import __version__
from saleslead.actions import action
from saleslead.errors import InputError, SalesLeadError, error_payload
from saleslead.role.delivery import PeerReply
from saleslead.role.desk import AskRequest, AskResult
from saleslead.role.handoffs import Handoff
from saleslead.role.schema import RoleDefinition
from saleslead.seat import Seat

__all__ = ["SeatExecutor", "a2a_send", "agent_card", "ask_text", "build_app"]

RPC_PATH = "/a2a"


def agent_card(role: RoleDefinition, url: str) -> AgentCard:
    """The seat's card: one skill per action of the role, described by its row of the action table (what it does,
    its example questions, then the role file's)."""
    skills = [
        AgentSkill(
            id=act.id,
            name=act.id.replace("_", " "),
            description=action(act.id).description,
            tags=[item.id, "in-lane"],
            examples=list(dict.fromkeys([*action(act.id).examples, *act.examples]))[:5],
            input_modes=["text/plain", "application/json"],
            output_modes=["text/plain", "application/json"],
        )
        for item in role.mandate
        for act in item.actions
    ]
    handoff = AgentSkill(
        id="handoff",
        name="hand off out-of-lane work",
        description="Requests that belong to another role are handed to it as a structured hand-off: "
        + "; ".join(f"{b.excludes} → {b.owner}" for b in role.boundaries),
        tags=["out-of-lane", *sorted({b.owner for b in role.boundaries})],
        examples=[e for b in role.boundaries for e in b.examples[:2]],
        input_modes=["text/plain", "application/json"],
        output_modes=["text/plain", "application/json"],
    )
    return AgentCard(
        name=role.title,
        description=role.summary,
        version=__version__,
        provider=AgentProvider(organization="saleslead", url=url),
        supported_interfaces=[
            AgentInterface(
                url=url.rstrip("/") + RPC_PATH,
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain", "application/json"],
        skills=[*skills, handoff],
    )


def ask_text(result: AskResult) -> str:
    """The answer in words: each in-lane answer, then each hand-off, then the seat's question if unclear."""
    lines = [a.text for a in result.answers]
    for handoff in result.handoffs:
        deals = handoff.payload.get("deals")
        named = f" ({len(deals)} deals named)" if isinstance(deals, list) else ""
        lines.append(f"Handed to {handoff.to_role}{named}: {handoff.reason} [handoff {handoff.id}]")
    if result.question:
        lines.append(result.question)
    return "\n".join(lines) or "Nothing to answer."


def _request(context: RequestContext) -> AskRequest:
    text = context.get_user_input().strip()
    fields: dict[str, Any] = {}
    message = context.message
    for part in get_data_parts(list(message.parts)) if message is not None else []:
        if isinstance(part, dict):
            fields.update(part)
    try:
        as_of = date.fromisoformat(str(fields["as_of"])) if fields.get("as_of") else None
    except ValueError as error:
        raise InputError(f"as_of {fields['as_of']!r} is not a date", hint="YYYY-MM-DD") from error
    intent = fields.get("intent")
    return AskRequest(text=str(fields.get("text") or text), intent=str(intent) if intent else None, as_of=as_of)


class SeatExecutor(AgentExecutor):
    """Answers each A2A message with ``Seat.ask`` (one call per message, serialised on the seat)."""

    def __init__(self, open_seat: Callable[[], AbstractContextManager[Seat]]) -> None:
        self._open_seat = open_seat
        self._lock = threading.Lock()

    def _ask(self, request: AskRequest) -> AskResult:
        with self._lock, self._open_seat() as seat:
            return seat.ask(request)

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        try:
            request = _request(context)
            result = await asyncio.to_thread(self._ask, request)
            parts = [new_text_part(ask_text(result)), new_data_part(json.loads(result.model_dump_json()))]
        except SalesLeadError as error:
            parts = [new_text_part(str(error)), new_data_part(error_payload(error))]
        await event_queue.enqueue_event(
            new_message(parts, role=Role.ROLE_AGENT, context_id=context.context_id, task_id=context.task_id)
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise InputError("a seat answer cannot be cancelled: it is one short call")


def build_app(open_seat: Callable[[], AbstractContextManager[Seat]], role: RoleDefinition, url: str) -> FastAPI:
    """The A2A server as a FastAPI app: the card at the well-known path, JSON-RPC at ``/a2a``."""
    card = agent_card(role, url)
    handler = DefaultRequestHandlerV2(
        agent_executor=SeatExecutor(open_seat), task_store=InMemoryTaskStore(), agent_card=card
    )
    app = FastAPI(title="saleslead A2A", docs_url=None, redoc_url=None)
    add_a2a_routes_to_fastapi(
        app,
        agent_card_routes=create_agent_card_routes(card),
        jsonrpc_routes=create_jsonrpc_routes(handler, rpc_url=RPC_PATH),
    )
    return app


def _reply(message: Message) -> PeerReply:
    data = [d for d in get_data_parts(list(message.parts)) if isinstance(d, dict)]
    return PeerReply(
        reply_id=message.message_id,
        text=get_message_text(message),
        acknowledged=any(d.get("acknowledged") is True for d in data),
    )


async def _send(url: str, handoff: Handoff, timeout: float, transport: httpx.AsyncBaseTransport | None) -> PeerReply:
    text = f"{handoff.request}\n\n{handoff.reason}".strip()
    body = json.loads(handoff.model_dump_json())
    message = new_message([new_text_part(text), new_data_part({"handoff": body})], role=Role.ROLE_USER)
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as http:
        client = await ClientFactory(ClientConfig(httpx_client=http)).create_from_url(url)
        try:
            async for event in client.send_message(SendMessageRequest(message=message)):
                if event.HasField("message"):
                    return _reply(event.message)
                if event.HasField("task"):
                    task = event.task
                    said = _reply(task.status.message) if task.status.HasField("message") else None
                    done = task.status.state == TaskState.TASK_STATE_COMPLETED
                    return PeerReply(
                        reply_id=task.id,
                        text=said.text if said else TaskState.Name(task.status.state),
                        acknowledged=done or bool(said and said.acknowledged),
                    )
        finally:
            await client.close()
    raise InputError(f"the peer at {url} sent no reply", hint="check the peer's A2A endpoint")


def a2a_send(
    timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
) -> Callable[[str, Handoff], PeerReply]:
    """A :data:`~saleslead.role.delivery.Send` over A2A: one message per hand-off, the reply read back."""

    def send(url: str, handoff: Handoff) -> PeerReply:
        return asyncio.run(_send(url, handoff, timeout, transport))

    return send
