"""One error path: a request that fails validation is the one JSON error shape on every face."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from pydantic import ValidationError
from typer.testing import CliRunner

from saleslead.cli.app import app as cli
from saleslead.errors import InputError, error_payload, exit_code, http_status
from saleslead.forecast.schemas import ForecastRequest
from saleslead.mcp_server import build_server
from saleslead.seat import open_seat
from saleslead.web import create_app

SHAPE = {"type", "message", "file", "line", "column", "hint"}


def _invalid() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        ForecastRequest(scenarios=5)
    return caught.value


def test_a_validation_error_is_an_input_error_everywhere() -> None:
    error = _invalid()
    body = error_payload(error)["error"]
    assert set(body) == SHAPE
    assert body["type"] == InputError.__name__
    assert body["column"] == "scenarios"
    assert "greater than or equal to 100" in body["message"]
    assert (exit_code(error), http_status(error)) == (2, 422)


def test_cli_exits_2_with_the_shape_not_a_traceback(tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    as_json = runner.invoke(cli, ["forecast", "--scenarios", "5", "--json", "--store", store])
    assert as_json.exit_code == 2, as_json.output
    body = json.loads(as_json.stdout)["error"]
    assert set(body) == SHAPE
    assert body["column"] == "scenarios"
    plain = runner.invoke(cli, ["forecast", "--scenarios", "5", "--store", store])
    assert plain.exit_code == 2
    assert "Traceback" not in plain.output
    assert "scenarios" in plain.output
    assert not isinstance(plain.exception, ValidationError)


def test_web_answers_422_in_the_shape(tmp_path: Path) -> None:
    app = create_app(tmp_path / "w.duckdb", token="t" * 32, clock=lambda: date(2026, 1, 5))

    @app.get("/api/probe-invalid")
    def probe() -> dict[str, Any]:
        ForecastRequest(scenarios=5)
        return {}

    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        response = client.get("/api/probe-invalid")
        query = client.get("/api/forecast", params={"as_of": "not-a-date"})
    assert response.status_code == 422
    assert response.json()["error"]["column"] == "scenarios"
    assert query.status_code == 422
    assert set(query.json()["error"]) == SHAPE


def test_mcp_tool_result_is_an_error_in_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    open_seat(path).close()
    server = build_server(path, clock=lambda: date(2026, 1, 5))

    async def scenario() -> list[Any]:
        async with Client(server) as client:
            return [await client.call_tool("forecast", {"scenarios": value}) for value in (5, "many")]

    for result in anyio.run(scenario):  # out of range, and of the wrong type: both in the shape
        assert result.is_error is True
        body = result.structured_content["error"]
        assert set(body) == SHAPE
        assert (body["type"], body["column"]) == ("InputError", "scenarios")
