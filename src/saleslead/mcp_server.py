"""The seat over MCP (``saleslead mcp``): a tool per mandate action, ``route_request``, resources, a persona prompt.

Every tool opens the seat, calls one seat method and returns its JSON as structured content. Errors
come back as tool results in the one error shape (:func:`saleslead.errors.error_payload`) with
``isError`` set; an out-of-lane request is not an error at all — ``route_request`` returns the
handoff it issued. The mandate tools are made from the seat's own request models, so a tool's
arguments are the fields of that request; a mandate whose seat method is missing has no tool.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_type_hints

from mcp.server import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from saleslead.errors import SalesLeadError, error_payload
from saleslead.role.desk import AskRequest, HandoffsRequest, HandoffUpdate, RunRequest
from saleslead.role.exports import system_prompt
from saleslead.role.handoffs import HandoffStatus
from saleslead.role.schema import bundled_role_text, load_role
from saleslead.seat import Seat, StatusRequest, open_seat

__all__ = ["MANDATE_TOOLS", "MandateTool", "build_server", "serve"]


@dataclass(frozen=True)
class MandateTool:
    """A mandate action exposed as a tool: the seat method it calls, whether it only reads, whether it repeats."""

    name: str
    method: str
    read_only: bool
    title: str
    idempotent: bool = False


MANDATE_TOOLS: tuple[MandateTool, ...] = (
    MandateTool("forecast", "forecast", True, "The forecast: one number with its range"),
    MandateTool("seat_call", "seat_call", False, "The seat's own call: its P50 with the P10–P90, stored as a version"),
    MandateTool("call_submit", "call_submit", False, "Submit a call (or a manager's adjustment) and check it"),
    MandateTool(
        "call_check", "call_check", False, "Re-check the calls of a period against the pipeline", idempotent=True
    ),
    MandateTool("stalls", "stalls", True, "Stalled deals: gone quiet beyond won deals' norm (stuck, slipping listed)"),
    MandateTool("waterfall", "waterfall", True, "How a period's pipeline moved between two dates"),
    MandateTool("coverage", "coverage", True, "Coverage of the goal: reported, required and real"),
    MandateTool("targets", "set_targets", False, "Set the pipeline and creation targets for a goal"),
    MandateTool("defend_targets", "defend_targets", False, "Weekly coverage, slips and creation gaps"),
    MandateTool("roster_show", "roster_show", True, "The roster: seats, ramp, productivity, attainment"),
    MandateTool("roster_plan", "roster_plan", False, "Hires against a goal, and the binding constraint"),
    MandateTool("strategy_score", "strategy_score", True, "Strategy scorecard: where to compete"),
    MandateTool("strategy_check", "strategy_check", False, "Pipeline and effort in do-not-compete cells"),
)


def _result(value: BaseModel | dict[str, Any] | list[Any] | str) -> CallToolResult:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json", by_alias=True)
    elif isinstance(value, str):
        data = {"text": value}
    else:
        data = value
    structured = data if isinstance(data, dict) else {"items": data}
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(structured, default=str))], structured_content=structured
    )


def _error(error: BaseException) -> CallToolResult:
    payload = error_payload(error)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(payload))], structured_content=payload, is_error=True
    )


class _Seats:
    """Opens the seat for one call at a time, so the store is not held between calls."""

    def __init__(self, store: str | Path | None, engagement: str, clock: Callable[[], date] | None) -> None:
        self.store = store
        self.engagement = engagement
        self.clock = clock

    @contextmanager
    def open(self, read_only: bool = False) -> Iterator[Seat]:
        with open_seat(self.store, engagement=self.engagement, read_only=read_only) as seat:
            if self.clock is not None:
                seat.clock = self.clock
            yield seat

    def call(self, action: Callable[[Seat], Any], read_only: bool = False) -> CallToolResult:
        try:
            with self.open(read_only) as seat:
                return _result(action(seat))
        except (SalesLeadError, ValueError) as error:
            return _error(error)


def _mandate_tool(seats: _Seats, tool: MandateTool) -> Callable[..., CallToolResult] | None:
    """A tool function whose keyword arguments are the fields of the seat method's request model."""
    method = getattr(Seat, tool.method, None)
    if not callable(method):
        return None
    request_model = get_type_hints(method)["request"]
    if isinstance(request_model, type) and issubclass(request_model, BaseModel):
        model: type[BaseModel] = request_model
    else:  # an optional request: X | None
        model = next(a for a in request_model.__args__ if isinstance(a, type) and issubclass(a, BaseModel))

    def run(**arguments: Any) -> CallToolResult:
        def act(seat: Seat) -> Any:
            return getattr(seat, tool.method)(model.model_validate(arguments))

        return seats.call(act, read_only=tool.read_only)

    params = []
    for name, field in model.model_fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        params.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=field.annotation)
        )
    run.__signature__ = inspect.Signature(params, return_annotation=CallToolResult)  # type: ignore[attr-defined]
    run.__name__ = tool.name
    return run


def build_server(
    store: str | Path | None = None, engagement: str = "default", clock: Callable[[], date] | None = None
) -> MCPServer:
    """The MCP server over one store and engagement (tools open the seat per call)."""
    role = load_role()
    seats = _Seats(store, engagement, clock)
    server = MCPServer(
        name="saleslead",
        title=role.title,
        instructions=system_prompt(role),
    )

    for tool in MANDATE_TOOLS:
        fn = _mandate_tool(seats, tool)
        if fn is not None:
            doc = (getattr(Seat, tool.method).__doc__ or tool.title).strip()
            server.add_tool(
                fn,
                name=tool.name,
                title=tool.title,
                description=doc,
                annotations=ToolAnnotations(
                    read_only_hint=tool.read_only,
                    idempotent_hint=True if tool.read_only or tool.idempotent else None,
                    open_world_hint=False,
                ),
            )

    @server.tool(
        title="Route a request through the seat's lanes",
        annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=False),
    )
    def route_request(text: str = "", intent: str | None = None, as_of: date | None = None) -> CallToolResult:
        """Answer the in-lane part of a request from the store; hand off the rest (the handoff is returned).

        The verdict is in_lane, out_of_lane, mixed or unclear. Out-of-lane work comes back as a
        handoff record (to_role, boundary, reason, payload) that is also kept in the outbox.
        """
        return seats.call(lambda seat: seat.ask(AskRequest(text=text, intent=intent, as_of=as_of)))

    @server.tool(title="Open pipeline", annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    def pipeline_status(as_of: date | None = None) -> CallToolResult:
        """What the store holds and the open pipeline by segment and stage, as of a date."""
        return seats.call(lambda seat: seat.status(StatusRequest(as_of=as_of)), read_only=True)

    @server.tool(title="Weekly briefing", annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True))
    def weekly_briefing(as_of: date) -> CallToolResult:
        """Run the weekly cadence as of a date: every mandate on the seat, flags, handoffs, the briefing."""
        return seats.call(lambda seat: seat.run(RunRequest(as_of=as_of)))

    @server.tool(title="The outbox", annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    def handoffs_list(status: HandoffStatus | None = None, to_role: str | None = None) -> CallToolResult:
        """Handoffs issued by the seat, in order, optionally by status or receiving role."""
        return seats.call(lambda seat: seat.handoffs(HandoffsRequest(status=status, to_role=to_role)), read_only=True)

    @server.tool(title="Acknowledge a handoff", annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True))
    def handoff_update(id: str, status: HandoffStatus = "acknowledged", by: str = "fleet") -> CallToolResult:
        """Move a handoff forward: acknowledged, or done."""
        return seats.call(lambda seat: seat.update_handoff(HandoffUpdate(id=id, status=status, by=by)))

    @server.resource("saleslead://role", name="role", title="The role definition", mime_type="text/markdown")
    def role_file() -> str:
        """The bundled role file: mandate, boundaries, persona."""
        return bundled_role_text()

    @server.resource(
        "saleslead://role.json", name="role-json", title="The role definition (JSON)", mime_type="application/json"
    )
    def role_json() -> str:
        return role.model_dump_json(by_alias=True, indent=2)

    @server.resource("saleslead://state", name="state", title="The seat's state", mime_type="application/json")
    def state() -> str:
        """The engagement's open flags, handoffs not yet done, and the latest briefings written."""
        try:
            with seats.open(read_only=True) as seat:
                briefings = [r.payload for r in seat.records.current("briefing")][-4:]
                data = {
                    "engagement": engagement,
                    "flags": [f.model_dump(mode="json") for f in seat.open_flags()],
                    "handoffs": [h.model_dump(mode="json") for h in seat.handoffs().handoffs if h.status != "done"],
                    "briefings": briefings,
                }
        except SalesLeadError as error:
            data = error_payload(error)
        return json.dumps(data, default=str, indent=2)

    @server.prompt(title="The sales-lead persona")
    def persona(question: str = "") -> str:
        """The persona and lanes of the seat, as a system prompt (optionally followed by a question)."""
        text = system_prompt(role)
        return text + (f"\nThe question: {question}\n" if question else "")

    return server


def serve(store: str | Path | None = None, engagement: str = "default") -> None:
    """Run the server on stdio until the client hangs up."""
    build_server(store, engagement).run("stdio")


if __name__ == "__main__":
    serve(os.environ.get("SALESLEAD_STORE"), os.environ.get("SALESLEAD_ENGAGEMENT", "default"))
