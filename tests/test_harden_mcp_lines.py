"""MCP over stdio with a real server process and raw lines: a line that is not JSON gets a JSON-RPC parse error
(-32700), a JSON value that is not a JSON-RPC message an invalid request (-32600), malformed parameters an invalid
params error (-32602); the server reads on after each, and a tool's bad arguments are the one error shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saleslead.seat import IngestRequest, open_seat

from .test_harden_input import GOOD, HEAD, folder

SRC = str(Path(__file__).resolve().parents[1] / "src")


class Wire:
    """The server process, spoken to one line at a time."""

    def __init__(self, store: Path, log: Path) -> None:
        self.log = log
        with log.open("wb") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "saleslead.mcp_server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env={**os.environ, "PYTHONPATH": SRC, "SALESLEAD_STORE": str(store)},
            )

    def send(self, line: bytes | str | dict[str, Any]) -> None:
        assert self.process.stdin is not None
        data = json.dumps(line).encode() if isinstance(line, dict) else line
        data = data.encode() if isinstance(data, str) else data
        self.process.stdin.write(data + b"\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, self.log.read_text(errors="replace")[-2000:]
        body: dict[str, Any] = json.loads(line)
        return body

    def ask(self, line: bytes | str | dict[str, Any]) -> dict[str, Any]:
        self.send(line)
        return self.answer()


@pytest.fixture
def wire(tmp_path: Path) -> Iterator[Wire]:
    store = tmp_path / "s.duckdb"
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=folder(tmp_path / "export", HEAD + GOOD)))
    opened = Wire(store, tmp_path / "server.log")
    try:
        yield opened
    finally:
        with opened.process as process:  # closes stdin (the client hangs up) and waits for the server to end
            assert process.stdin is not None
            process.stdin.close()
            assert process.wait(timeout=120) == 0, opened.log.read_text(errors="replace")[-2000:]


def initialize(wire: Wire) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    assert wire.ask(hello)["result"]["serverInfo"]["name"] == "saleslead"
    wire.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def test_lines_that_are_not_json_rpc_get_their_error_and_the_server_reads_on(wire: Wire) -> None:
    assert wire.ask("{not json") == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
    assert wire.ask(b"\x00\xff{")["error"]["code"] == -32700
    wire.send("   ")  # a blank line is no message and gets no answer: the next answer is the next line's
    invalid = wire.ask({"jsonrpc": "2.0", "id": 7, "method": 3})
    assert invalid["id"] == 7
    assert invalid["error"]["code"] == -32600
    assert wire.ask("[1, 2]")["error"]["code"] == -32600
    initialize(wire)
    listed = wire.ask({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert "pipeline_status" in {tool["name"] for tool in listed["result"]["tools"]}


def test_invalid_params_are_32602_and_a_tools_bad_arguments_the_one_error_shape(wire: Wire) -> None:
    initialize(wire)
    for params in ({"arguments": {}}, "not an object", {"name": 5}):
        refused = wire.ask({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params})
        assert refused["id"] == 3
        assert refused["error"]["code"] == -32602, refused
    call = {"name": "pipeline_status", "arguments": {"as_of": "9999-12-31"}}
    result = wire.ask({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": call})["result"]
    assert result["isError"] is True
    error = result["structuredContent"]["error"]
    assert error["type"] == "InputError"
    assert error["column"] == "as_of"
    assert "9999-12-31" in error["message"]
    fine = {"name": "pipeline_status", "arguments": {"as_of": "2024-06-30"}}
    status = wire.ask({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": fine})["result"]
    assert status.get("isError") is not True
    assert status["structuredContent"]["opportunities"] == 3
