"""Materialised answers: served from the store equal to freshly computed; exactly the affected ones go stale."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import BaseModel

from saleslead.forecast.fitted import FORECAST_SETTINGS, fitted_outlook
from saleslead.forecast.model import FITS
from saleslead.forecast.outlook import forecast_result, run_outlook
from saleslead.forecast.schemas import (
    CallCheckRequest,
    CallSubmitRequest,
    ForecastRequest,
    ForecastResult,
    StallsRequest,
    StallsResult,
)
from saleslead.forecast.stalls import find_stalls
from saleslead.periods import Period
from saleslead.roster.desk import RosterShowRequest
from saleslead.seat import IngestRequest, Seat
from saleslead.settings import GuardThresholds, Settings
from saleslead.status import StatusReport, compute_status
from saleslead.store import Store
from saleslead.store.answers import Answers, Shelf, shelf_root
from saleslead.strategy.scorecard import ScoreRequest
from saleslead.targets.desk import CoverageRequest, DefendRequest

from .conftest import DEMO_MAY

pytestmark = DEMO_MAY  # the week as of AS_OF: fitted once with tests/test_stored_reads.py's

AS_OF = date(2026, 5, 20)


@pytest.fixture(scope="module")
def demo_shelf(demo_may_shelf: Shelf) -> Shelf:
    """The demo's answers as of AS_OF on their own shelf (see ``demo_may_shelf``)."""
    return demo_may_shelf


SETTINGS = Settings(scenarios=1_000)


def test_shelf_beside_a_duckdb_file_in_memory_otherwise(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        assert shelf_root(store.location) == tmp_path / "s.duckdb.answers"
    with Store.open(":memory:") as store:
        assert shelf_root(store.location) is None


@pytest.mark.slow
def test_fitted_forecast_served_from_the_shelf_equals_a_fresh_one(demo_seat: Seat) -> None:
    store = demo_seat.store
    period = Period.parse("2026-Q2")
    fresh_outlook = run_outlook(store, SETTINGS, period, AS_OF)
    fresh = forecast_result(fresh_outlook, SETTINGS, None, True)

    answers = Answers(store, SETTINGS)
    first = fitted_outlook(store, SETTINGS, answers, period, AS_OF)
    assert (answers.hits, answers.misses) == (0, 2)  # model and calibration fitted and kept
    assert forecast_result(first, SETTINGS, None, True) == fresh

    # another process (a new Answers on a new connection) reads the same fitted parts back
    reopened = Answers(store, SETTINGS)
    again = fitted_outlook(store, SETTINGS, reopened, period, AS_OF, scenarios=2_000)
    assert (reopened.hits, reopened.misses) == (2, 0)
    refit = run_outlook(store, SETTINGS, period, AS_OF, 2_000, model=fresh_outlook.model,
                        calibration=fresh_outlook.calibration)  # fmt: skip
    other = forecast_result(refit, SETTINGS, None, False)
    assert forecast_result(again, SETTINGS, None, False) == other

    # the stored answer, keyed by the request, equals the freshly computed one field for field
    def compute() -> ForecastResult:
        return forecast_result(fitted_outlook(store, SETTINGS, reopened, period, AS_OF), SETTINGS, None, True)

    kept = reopened.answer("forecast", AS_OF, {"period": "2026-Q2", "deals": True}, ForecastResult, compute,
                           settings=FORECAST_SETTINGS)  # fmt: skip
    hits = reopened.hits
    served = reopened.answer("forecast", AS_OF, {"period": "2026-Q2", "deals": True}, ForecastResult, compute,
                             settings=FORECAST_SETTINGS)  # fmt: skip
    assert reopened.hits == hits + 1
    assert kept == fresh
    assert served == fresh
    assert served.model_dump_json() == fresh.model_dump_json()


def test_exactly_the_affected_answers_go_stale(demo_seat: Seat, demo_export: Path) -> None:
    store = demo_seat.store
    answers = Answers(store, SETTINGS)

    def stalls() -> StallsResult:
        return answers.answer("stalls", AS_OF, None, StallsResult, lambda: find_stalls(store, AS_OF, 30),
                              settings=("min_sample",))  # fmt: skip

    def status() -> StatusReport:
        return answers.answer("status", AS_OF, None, StatusReport, lambda: compute_status(store, AS_OF, 1),
                              settings=("fiscal_start_month",), records=("plan",))  # fmt: skip

    first = stalls()
    status()
    assert answers.misses == 2
    assert answers.stale() == []

    # a new guard threshold reads nothing stalls read: still served
    answers.settings = Settings(scenarios=1_000, guard=GuardThresholds(supported=0.6))
    assert stalls() == first
    assert answers.hits == 1
    # a new minimum sample is read by stalls: computed again, and the old answer is reported stale
    answers.settings = Settings(scenarios=1_000, min_sample=31)
    stalls()
    assert answers.misses == 3
    assert [e["kind"] for e in answers.stale()] == ["stalls"]
    answers.settings = SETTINGS

    # a record of a kind one answer reads makes that one stale, not the other
    demo_seat.records.put("plan", "2026-Q2", {"goal": 1.0}, author="test")
    hits = answers.hits
    stalls()
    assert answers.hits == hits + 1
    status()
    assert answers.misses == 4

    # the same export again changes nothing: nothing goes stale
    state = answers.state()
    assert demo_seat.ingest(IngestRequest(path=demo_export)).unchanged
    assert answers.state() == state
    # an ingest that adds something makes every store-derived answer stale; prune removes them
    store.insert(
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
    assert answers.state() != state
    assert {e["kind"] for e in answers.stale()} == {"stalls", "status"}
    assert answers.prune() == 4  # stalls at both minimum samples, status before and after the plan
    assert answers.stale() == []
    misses = answers.misses
    stalls()
    assert answers.misses == misses + 1


def test_an_unwritable_shelf_still_answers(demo_seat: Seat, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    answers = Answers(demo_seat.store, SETTINGS, shelf=Shelf(blocked / "answers"))
    value = answers.answer("status", AS_OF, None, StatusReport, lambda: compute_status(demo_seat.store, AS_OF, 1))
    assert value == compute_status(demo_seat.store, AS_OF, 1)
    assert answers.misses == 1


@pytest.mark.slow
def test_every_read_of_the_week_is_served_from_the_store_equal_to_a_fresh_one(demo_seat: Seat) -> None:
    demo_seat.settings = SETTINGS
    kept = demo_seat.materialise(AS_OF)
    assert kept.computed + kept.already_kept >= 7  # every answer of the week (and the fits behind them)
    assert all(a.available for a in kept.answers), kept.answers
    call = CallSubmitRequest(node="total", period="2026-Q2", amount=1.0, as_of=AS_OF, author="vp")
    demo_seat.call_submit(call)
    checked = demo_seat.call_check(CallCheckRequest(period="2026-Q2", as_of=AS_OF))

    fresh = Seat(demo_seat.store, SETTINGS)  # the same store, its answers kept in memory only: computed afresh
    fresh.context.shelf = Shelf(None)
    fresh.clock = demo_seat.clock
    reads: list[tuple[str, Callable[[Seat], BaseModel]]] = [
        ("forecast", lambda s: s.forecast(ForecastRequest(period="2026-Q2", as_of=AS_OF))),
        ("next quarter", lambda s: s.forecast(ForecastRequest(period="2026-Q3", as_of=AS_OF))),
        ("deals", lambda s: s.forecast(ForecastRequest(period="2026-Q2", as_of=AS_OF, deals=True))),
        ("coverage", lambda s: s.coverage(CoverageRequest(period="2026-Q2", as_of=AS_OF))),
        ("stalls", lambda s: s.stalls(StallsRequest(as_of=AS_OF))),
        ("scorecard", lambda s: s.strategy_score(ScoreRequest(as_of=AS_OF))),
        ("roster", lambda s: s.roster_show(RosterShowRequest(as_of=AS_OF))),
        ("call check", lambda s: s.call_check(CallCheckRequest(period="2026-Q2", as_of=AS_OF))),
    ]
    answers = demo_seat.context.answers
    for name, read in reads:
        hits, misses = answers.hits, answers.misses
        served = read(demo_seat)
        assert (answers.hits - hits, answers.misses - misses) == (1, 0), name  # from the shelf, nothing computed
        assert served == read(fresh), name
    assert checked.calls[0].check is not None
    assert checked.calls[0].check.verdict == "sandbag"  # a $1 call is below any P10
    # coverage is kept as of every week the defence of the targets looks back on: that defence (the dashboard's
    # coverage page) then finds every week's fits instead of fitting them
    weeks = DefendRequest.model_fields["weeks"].default
    assert sum(a.kind == "coverage" for a in kept.answers) == weeks
    fits = FITS.fits
    defense = demo_seat.defend_targets(DefendRequest(period="2026-Q2", as_of=AS_OF))
    assert FITS.fits == fits
    assert len({w.as_of for w in defense.weekly}) == weeks


def test_an_in_memory_store_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open(":memory:") as store:
        store.migrate()
        assert store.schema_version() > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == []
