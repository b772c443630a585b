"""The seat over MCP (``saleslead mcp``): a tool per action of the action table, resources, a persona prompt.

The tools are derived from :data:`saleslead.actions.ACTIONS`: each action with a tool name is a tool of
that name, described by the action, read-only when the action does not write, whose arguments (and input
schema) are the fields of the action's request model. Every tool opens the seat, runs the action and
returns its JSON as structured content — except a read whose answer the store's shelf already holds
(``forecast``, ``coverage``: :data:`saleslead.stored.READS`), answered from the
shelf without opening the seat. Errors — a request that fails validation included — come back
as tool results in the one error shape (:func:`saleslead.errors.error_payload`) with ``isError`` set;
an out-of-lane request is not an error at all — ``route_request`` returns the handoff it issued.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

import anyio
from mcp.server import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError, WithJsonSchema

from saleslead.actions import ACTIONS, Action
from saleslead.errors import SalesLeadError, error_payload
from saleslead.mcp_stdio import run_stdio
from saleslead.role.desk import BRIEFING
from saleslead.role.exports import system_prompt
from saleslead.role.schema import bundled_role_text, load_role
from saleslead.seat import Seat, open_seat
from saleslead.stored import READS, stored_answer

__all__ = ["build_server", "serve", "tools"]


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


def tools() -> tuple[Action[Any, Any, Any], ...]:
    """The actions offered as tools (those of the action table with a tool name)."""
    return tuple(a for a in ACTIONS if a.tool is not None)


#: what the common fields of the request models mean, and an example of each, for fields that do not say
_COMMON = {
    "period": ("a period: YYYY-Qn (fiscal quarter), YYYY-MM or FYYYYY", ["2026-Q4"]),
    "as_of": ("compute as of the end of this date, YYYY-MM-DD (default: today); nothing later is seen", ["2026-11-24"]),
}


def _parameters(model: type[BaseModel]) -> list[inspect.Parameter]:
    """The request model's fields as keyword parameters, each advertising the field's own JSON schema.

    The tool takes the values as they come and the request model validates them, so a value of the wrong
    type or out of range comes back in the one error shape, like every other face's. (A field holding a
    nested model keeps its type, so its schema's references resolve.)
    """
    properties = model.model_json_schema()["properties"]
    params = []
    for name, field in model.model_fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        described, example = _COMMON.get(name, (None, None))
        prop = {"description": described, "examples": example} if described else {}
        prop.update(properties[name])
        if "$ref" in json.dumps(prop):
            about = Field(description=field.description or described, examples=field.examples or example)
            annotation = cast(Any, Annotated)[(field.annotation, *field.metadata, about)]
        else:
            annotation = Annotated[Any, WithJsonSchema(prop)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return params


def _tool(seats: _Seats, action: Action[Any, Any, Any]) -> Callable[..., CallToolResult]:
    """A tool function whose keyword arguments are the fields of the action's request model."""

    stored = READS.get(action.id)

    def run(**arguments: Any) -> CallToolResult:
        if stored is not None:
            try:
                request = action.request.model_validate(arguments)
                found = stored_answer(lambda reads: stored(reads, request), seats.store, seats.engagement, seats.clock)
            except (SalesLeadError, ValidationError) as error:
                return _error(error)
            if found is not None:
                return _result(found)
        return seats.call(lambda seat: action.run_with(seat, arguments), read_only=not action.writes)

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        _parameters(action.request), return_annotation=CallToolResult
    )
    run.__name__ = action.tool or action.id
    return run


def _description(action: Action[Any, Any, Any]) -> str:
    if not action.examples:
        return action.description
    return action.description + " For example: " + "; ".join(f"“{e}”" for e in action.examples)


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

    for action in tools():
        server.add_tool(
            _tool(seats, action),
            name=action.tool,
            title=action.description.split(":")[0].rstrip("."),
            description=_description(action),
            annotations=ToolAnnotations(
                read_only_hint=not action.writes,
                idempotent_hint=True if not action.writes or action.idempotent else None,
                open_world_hint=False,
            ),
        )

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
                briefings = [r.payload for r in seat.records.current(BRIEFING)][-4:]
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
    """Run the server on stdio until the client hangs up (a line that is not JSON-RPC is answered with its error)."""
    anyio.run(run_stdio, build_server(store, engagement))


if __name__ == "__main__":
    serve(os.environ.get("SALESLEAD_STORE"), os.environ.get("SALESLEAD_ENGAGEMENT", "default"))
