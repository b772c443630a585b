"""Stored reads: the seat's answers read from the shelf without the seat — the same key, the same answer.

:class:`saleslead.stored.StoredReads` computes an answer's key with SQL where the seat uses Ibis; these tests
hold the two equal on a real store after the week is materialised, show that exactly what makes the seat
compute again makes a stored read decline (a setting, a plan, an ingest, a new call version, a verdict not
yet kept), and that the CLI serves a stored answer without importing the engines.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pytest
from pydantic import BaseModel

from saleslead.config import ConfigSetRequest
from saleslead.forecast.calls import CALL, FLAG
from saleslead.forecast.schemas import (
    FORECAST_ANSWER,
    MEETING_CALL_CHECK_ANSWER,
    CallCheckRequest,
    CallSubmitRequest,
    ForecastRequest,
    ForecastResult,
    StallsRequest,
    forecast_answer_request,
)
from saleslead.seat import Seat, open_seat
from saleslead.settings import Settings
from saleslead.store.shelf import Shelf, shape
from saleslead.stored import StoredReads, stored_answer
from saleslead.targets.schemas import PLAN, CoverageRequest

from .conftest import DEMO_MAY, DEMO_TODAY

pytestmark = [pytest.mark.slow, DEMO_MAY]  # fits the forecast and runs the week on the demo company

M = TypeVar("M", bound=BaseModel)
Read = Callable[[Callable[[StoredReads], M | None]], M | None]

AS_OF = date(2026, 5, 20)


@pytest.fixture(scope="module")
def demo_shelf(demo_may_shelf: Shelf) -> Shelf:
    """The demo's answers as of AS_OF on their own shelf (see ``demo_may_shelf``)."""
    return demo_may_shelf


PERIOD = "2026-Q2"

READS: list[tuple[str, Callable[[Seat], BaseModel | None], Callable[[StoredReads], BaseModel | None]]] = [
    (
        "forecast",
        lambda s: s.forecast(ForecastRequest(as_of=AS_OF)),
        lambda r: r.forecast(ForecastRequest(as_of=AS_OF)),
    ),
    (
        "deals",
        lambda s: s.forecast(ForecastRequest(period=PERIOD, as_of=AS_OF, deals=True)),
        lambda r: r.forecast(ForecastRequest(period=PERIOD, as_of=AS_OF, deals=True)),
    ),
    (
        "coverage",
        lambda s: s.coverage(CoverageRequest(period=PERIOD, as_of=AS_OF)),
        lambda r: r.coverage(CoverageRequest(period=PERIOD, as_of=AS_OF)),
    ),
    (
        "stalls",
        lambda s: s.stalls(StallsRequest(as_of=AS_OF)),
        lambda r: r.stalls(StallsRequest(as_of=AS_OF)),
    ),
    (
        "SMB's stalls by amount",
        lambda s: s.stalls(StallsRequest(as_of=AS_OF, segment="SMB", sort="amount", limit=5)),
        lambda r: r.stalls(StallsRequest(as_of=AS_OF, segment="SMB", sort="amount", limit=5)),
    ),
]


def _seat(path: Path, shelf: Shelf) -> Seat:
    seat = open_seat(path)
    seat.context.shelf = shelf
    seat.clock = lambda: DEMO_TODAY
    return seat


@pytest.fixture(scope="module")
def week_file(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store with 1,000 scenarios set, the reads of the week as of :data:`AS_OF` kept and a call
    submitted and checked (answers on the session's shelf: the same keys as tests/test_answers.py's materialised
    week). Read-only: see ``week``."""
    path = tmp_path_factory.mktemp("week") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    with _seat(path, demo_shelf) as seat:
        seat.config_set(ConfigSetRequest(key="scenarios", value="1000"))
        for _, read, _ in READS:  # what the week's run keeps of these reads (its scorecard and roster aside)
            read(seat)
        seat.call_submit(CallSubmitRequest(node="total", period=PERIOD, amount=1.0, as_of=AS_OF, author="vp"))
        seat.call_check(CallCheckRequest(period=PERIOD, as_of=AS_OF))
    return path


@pytest.fixture
def week(week_file: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`week_file` (the same state: its answers are on the session's shelf)."""
    copy = tmp_path / "demo.duckdb"
    shutil.copy(week_file, copy)
    return copy


@pytest.fixture
def stored(week: Path, demo_shelf: Shelf) -> Read[Any]:
    """One stored read of the week's store (opened for it and closed: the seat may open the file next)."""

    def read(what: Callable[[StoredReads], M | None]) -> M | None:
        with StoredReads.open(week, clock=lambda: DEMO_TODAY, shelf=demo_shelf) as reads:  # type: ignore[union-attr]
            return what(reads)

    return read


def test_a_stored_read_is_the_seats_answer_under_the_seats_key(week: Path, demo_shelf: Shelf) -> None:
    with _seat(week, demo_shelf) as seat:
        answers = seat.context.answers
        served = {}
        for name, read, _ in READS:
            hits, misses = answers.hits, answers.misses
            served[name] = read(seat)
            assert (answers.hits - hits, answers.misses - misses) == (1, 0), name  # the seat read its shelf
        request = forecast_answer_request(ForecastRequest(as_of=AS_OF), PERIOD)
        seats_key = answers.key(FORECAST_ANSWER.kind, AS_OF, request, shape(ForecastResult),
                                settings=FORECAST_ANSWER.settings)  # fmt: skip
        settings = seat.settings
    with StoredReads.open(week, clock=lambda: DEMO_TODAY, shelf=demo_shelf) as reads:  # type: ignore[union-attr]
        assert reads.settings == settings == Settings(scenarios=1_000)
        assert reads.key(FORECAST_ANSWER, AS_OF, request, ForecastResult) == seats_key
        for name, _, read_stored in READS:
            answer = read_stored(reads)
            assert answer is not None, name
            assert answer == served[name], name
            assert answer.model_dump_json() == served[name].model_dump_json(), name  # type: ignore[union-attr]
    with _seat(week, Shelf(None)) as fresh:  # computed afresh, nothing read from a shelf
        assert fresh.stalls(StallsRequest(as_of=AS_OF)) == served["stalls"]
        assert fresh.context.answers.hits == 0


def test_a_stored_call_check_is_the_seats_and_leaves_nothing_to_write(
    week: Path, demo_shelf: Shelf, stored: Read[Any]
) -> None:
    assert MEETING_CALL_CHECK_ANSWER.records == tuple(sorted((CALL, FLAG)))
    check = CallCheckRequest(period=PERIOD, as_of=AS_OF)
    flag = f"{PERIOD}/total"
    found = stored(lambda r: r.call_check(check))
    assert found is not None
    assert [c.node for c in found.calls] == ["total"]
    assert found.calls[0].check is not None
    with _seat(week, demo_shelf) as seat:
        flags = len(seat.records.history(FLAG, flag))
        hits = seat.context.answers.hits
        assert seat.call_check(check) == found  # the seat finds the same answer, and writes nothing
        assert seat.context.answers.hits == hits + 1
        assert len(seat.records.history(FLAG, flag)) == flags
        seat.records.put(FLAG, flag, {"verdict": "other"}, author="test")
    assert stored(lambda r: r.call_check(check)) is None  # a verdict to keep again: the seat's
    with _seat(week, demo_shelf) as seat:
        again = seat.call_check(check)
        assert len(seat.records.history(FLAG, flag)) == flags + 2
    assert again == found
    assert stored(lambda r: r.call_check(check)) == again  # kept under the flags as they stand after it
    with _seat(week, demo_shelf) as seat:  # a new version of the call: checked again
        seat.call_submit(CallSubmitRequest(node="total", period=PERIOD, amount=2.0, as_of=AS_OF, author="vp"))
    assert stored(lambda r: r.call_check(check)) is None


def test_what_makes_the_seat_compute_again_makes_a_stored_read_decline(
    week: Path, demo_shelf: Shelf, stored: Read[Any]
) -> None:
    forecast = ForecastRequest(as_of=AS_OF)
    coverage = CoverageRequest(period=PERIOD, as_of=AS_OF)
    assert stored(lambda r: r.forecast(forecast)) is not None
    assert (
        stored(lambda r: r.forecast(ForecastRequest(as_of=date(2026, 5, 21)))) is None
    )  # another day: not materialised

    # a plan is read by coverage, not by the forecast
    with _seat(week, demo_shelf) as seat:
        seat.records.put(PLAN, PERIOD, {"goal": 1.0}, author="test")
    assert stored(lambda r: r.coverage(coverage)) is None
    assert stored(lambda r: r.forecast(forecast)) is not None

    # a setting the forecast reads
    with _seat(week, demo_shelf) as seat:
        seat.config_set(ConfigSetRequest(key="seed", value="7"))
    assert stored(lambda r: r.forecast(forecast)) is None
    with _seat(week, demo_shelf) as seat:  # set back: the same settings, the same answers
        seat.config_set(ConfigSetRequest(key="seed", value=str(Settings().seed)))
    assert stored(lambda r: r.forecast(forecast)) is not None

    # an ingest that changed the store
    with _seat(week, demo_shelf) as seat:
        seat.store.insert(
            "ingests",
            pa.table(
                {
                    "ingest_id": [99],
                    "source": ["test"],
                    "snapshot_at": pa.array([datetime(2026, 11, 25)], pa.timestamp("us")),
                    "ingested_at": pa.array([datetime(2026, 11, 25)], pa.timestamp("us")),
                    "fingerprint": ["changed"],
                    "report": [json.dumps({"unchanged": False})],
                }
            ),
        )
    assert stored(lambda r: r.forecast(forecast)) is None
    assert stored(lambda r: r.forecast(ForecastRequest(period=PERIOD, as_of=AS_OF, deals=True))) is None


def test_a_recheck_that_says_the_same_adds_no_flag_version(week: Path, demo_shelf: Shelf) -> None:
    check = CallCheckRequest(period=PERIOD, as_of=AS_OF)
    with _seat(week, demo_shelf) as seat:
        flags = len(seat.records.history(FLAG, f"{PERIOD}/total"))
        first = seat.call_check(check)
        again = seat.call_check(check)
        assert len(seat.records.history(FLAG, f"{PERIOD}/total")) == flags
        assert again == first
        assert first.calls[0].check is not None
        assert first.calls[0].check.verdict == "sandbag"
        seat.records.put(FLAG, f"{PERIOD}/total", {"verdict": "other"}, author="test")
        seat.call_check(check)  # the newest flag said something else: the verdict is kept again
        assert len(seat.records.history(FLAG, f"{PERIOD}/total")) == flags + 2


def test_stores_stored_reads_cannot_serve(tmp_path: Path, week: Path) -> None:
    assert StoredReads.open(":memory:") is None
    assert StoredReads.open("postgres://localhost/nothing") is None
    assert StoredReads.open(tmp_path / "absent.duckdb") is None
    assert StoredReads.open(week) is None  # no shelf beside it (the test's answers are on the session's shelf)
    assert stored_answer(lambda r: r.forecast(ForecastRequest(as_of=AS_OF)), week) is None
    with StoredReads.open(week, engagement="o'brien", shelf=Shelf(tmp_path)) as other:  # type: ignore[union-attr]
        assert other.settings == Settings()  # nothing stored for this engagement: the defaults
        assert other.forecast(ForecastRequest(as_of=AS_OF)) is None


def test_the_cli_serves_a_stored_answer_without_the_engines(week: Path, demo_shelf: Shelf) -> None:
    assert demo_shelf.root is not None
    shutil.copytree(demo_shelf.root, Path(f"{week}.answers"))  # the week's answers, beside the store
    with _seat(week, Shelf(Path(f"{week}.answers"))) as seat:
        expected = {
            "forecast": seat.forecast(ForecastRequest(as_of=AS_OF)),
            "coverage": seat.coverage(CoverageRequest(period=PERIOD, as_of=AS_OF)),
            "stalls": seat.stalls(StallsRequest(as_of=AS_OF)),
            "call check": seat.call_check(CallCheckRequest(period=PERIOD, as_of=AS_OF)),
        }
        assert seat.context.answers.misses == 0
    heavy = ("ibis", "sklearn", "scipy", "pandas", "numpy", "saleslead.seat")
    for command, result in expected.items():
        argv = [*command.split(), "--as-of", AS_OF.isoformat(), "--store", str(week), "--json"]
        if command in ("coverage", "call check"):
            argv += ["--period", PERIOD]
        code = (
            f"import sys\nfrom saleslead.cli.app import main\nsys.argv = ['saleslead', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
            f"sys.stderr.write(repr(sorted(m for m in sys.modules if m.startswith({heavy!r}))))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stderr == "[]", command  # nothing of the seat or its engines was imported
        assert json.loads(done.stdout) == json.loads(result.model_dump_json()), command


def test_an_mcp_tool_serves_the_stored_answer(week: Path, demo_shelf: Shelf, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio
    from mcp import Client

    from saleslead import mcp_server
    from saleslead.mcp_server import build_server

    assert demo_shelf.root is not None
    shutil.copytree(demo_shelf.root, Path(f"{week}.answers"))
    with _seat(week, Shelf(Path(f"{week}.answers"))) as seat:
        expected = seat.forecast(ForecastRequest(period=PERIOD, as_of=AS_OF))
        covered = seat.coverage(CoverageRequest(period=PERIOD, as_of=AS_OF))
        stalled = seat.stalls(StallsRequest(as_of=AS_OF))
        checked = seat.call_check(CallCheckRequest(period=PERIOD, as_of=AS_OF))
    opened: list[object] = []
    real = mcp_server.open_seat
    monkeypatch.setattr(mcp_server, "open_seat", lambda *a, **k: opened.append(a) or real(*a, **k))
    server = build_server(week, clock=lambda: DEMO_TODAY)

    async def calls() -> tuple[Any, Any, Any, Any, Any]:
        async with Client(server) as client:
            forecast = await client.call_tool("forecast", {"period": PERIOD, "as_of": AS_OF.isoformat()})
            coverage = await client.call_tool("coverage", {"period": PERIOD, "as_of": AS_OF.isoformat()})
            stalls = await client.call_tool("stalls", {"as_of": AS_OF.isoformat()})
            check = await client.call_tool("call_check", {"period": PERIOD, "as_of": AS_OF.isoformat()})
            bad = await client.call_tool("forecast", {"period": "2026-Q9", "as_of": AS_OF.isoformat()})
            return forecast, coverage, stalls, check, bad

    forecast, coverage, stalls, check, bad = anyio.run(calls)
    assert not forecast.is_error
    assert forecast.structured_content == json.loads(expected.model_dump_json())
    assert coverage.structured_content == json.loads(covered.model_dump_json())
    assert stalls.structured_content == json.loads(stalled.model_dump_json())
    assert check.structured_content == json.loads(checked.model_dump_json())
    assert opened == []  # all answered from the shelf: the seat was never opened
    assert bad.is_error  # a bad period is the one error shape, as from the seat
    assert bad.structured_content["error"]["type"] == "InputError"
