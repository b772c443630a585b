"""The MCP server on stdio, answering lines that are not JSON-RPC messages as JSON-RPC says.

The SDK's stdio transport turns a line it cannot read into an exception on its read stream, and the server
loop only logs it: the client never hears back. :func:`run_stdio` puts :class:`Answering` between the two, so
a line that is not JSON gets a ``-32700`` parse error and a JSON value that is not a JSON-RPC message a
``-32600`` invalid request (with the line's ``id`` when it has one; ``-32602`` when only its ``params`` is not
an object or array), and the server reads on. Invalid parameters of a well-formed request (``-32602``) are the
SDK's own answer.
"""

from __future__ import annotations

import contextvars
from typing import Any, Self

import anyio
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

__all__ = ["Answering", "refusal", "run_stdio"]


def refusal(error: Exception) -> JSONRPCError | None:
    """The JSON-RPC error answering a line the transport could not read (None: a blank line, no answer)."""
    details = error.errors() if isinstance(error, ValidationError) else []
    raw = next((d.get("input") for d in details if d.get("type") == "json_invalid"), None)
    if isinstance(raw, str | bytes) and not raw.strip():
        return None
    if raw is not None or not details:
        return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message="Parse error"))
    ident: Any = None
    for detail in details:
        body = detail.get("input")
        if isinstance(body, dict) and isinstance(body.get("id"), str | int) and not isinstance(body["id"], bool):
            ident = body["id"]
            if isinstance(body.get("method"), str) and not isinstance(body.get("params", {}), dict | list):
                message = "Invalid params: params must be an object"
                return JSONRPCError(jsonrpc="2.0", id=ident, error=ErrorData(code=INVALID_PARAMS, message=message))
            break
    return JSONRPCError(
        jsonrpc="2.0",
        id=ident,
        error=ErrorData(code=INVALID_REQUEST, message="Invalid Request: not a JSON-RPC 2.0 request or notification"),
    )


class Answering:
    """A read stream that answers unreadable lines on the write stream and passes only messages on."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], out: WriteStream[SessionMessage]) -> None:
        self._inner = inner
        self._out = out

    @property
    def last_context(self) -> contextvars.Context | None:
        context: contextvars.Context | None = getattr(self._inner, "last_context", None)
        return context

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            answer = refusal(item)
            if answer is not None:
                await self._out.send(SessionMessage(answer))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def run_stdio(server: MCPServer) -> None:
    """Serve ``server`` on stdin/stdout until the client hangs up, answering unreadable lines."""
    lowlevel = server._lowlevel_server
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(Answering(read_stream, write_stream), write_stream, lowlevel.create_initialization_options())
