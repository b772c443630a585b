"""The waterfall reconciles exactly, by hand on a tiny export and on the demo across many date pairs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from saleslead.forecast.panel import load_book
from saleslead.forecast.schemas import WaterfallRequest
from saleslead.forecast.waterfall import pipeline_waterfall
from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.store import Store

from .builders import export


def ev(deal: str, day: date, stage: str, amount: float, close: date) -> dict[str, object]:
    return {"opportunity_id": deal, "changed_at": datetime.combine(day, datetime.min.time()).replace(hour=9),
            "stage": stage, "amount": amount, "close_date": close}  # fmt: skip


Q2 = Period.parse("2025-Q2")
HISTORY = [
    ev("stay", date(2025, 3, 1), "Qualify", 100.0, date(2025, 5, 1)),
    ev("stay", date(2025, 4, 10), "Propose", 130.0, date(2025, 5, 1)),  # amount up 30
    ev("shrink", date(2025, 3, 1), "Qualify", 50.0, date(2025, 6, 1)),
    ev("shrink", date(2025, 4, 12), "Qualify", 40.0, date(2025, 6, 1)),  # amount down 10
    ev("slip", date(2025, 3, 2), "Propose", 70.0, date(2025, 6, 20)),
    ev("slip", date(2025, 4, 15), "Propose", 75.0, date(2025, 7, 20)),  # pushed out at 70
    ev("win", date(2025, 3, 3), "Propose", 200.0, date(2025, 4, 30)),
    ev("win", date(2025, 4, 20), "Won", 220.0, date(2025, 4, 20)),  # won at 200
    ev("lose", date(2025, 3, 3), "Qualify", 20.0, date(2025, 5, 30)),
    ev("lose", date(2025, 4, 21), "Lost", 20.0, date(2025, 4, 21)),  # lost 20
    ev("new", date(2025, 4, 5), "Qualify", 60.0, date(2025, 6, 5)),  # created 60
    ev("pull", date(2025, 3, 5), "Qualify", 80.0, date(2025, 8, 1)),
    ev("pull", date(2025, 4, 6), "Qualify", 80.0, date(2025, 6, 15)),  # pulled in 80
    ev("late", date(2025, 5, 5), "Qualify", 999.0, date(2025, 6, 5)),  # after the window: not seen
]


def test_waterfall_by_hand(tmp_path: Path) -> None:
    opps = [{"opportunity_id": d} for d in ("stay", "shrink", "slip", "win", "lose", "new", "pull", "late")]
    with Store.open(tmp_path / "w.duckdb") as store:
        store.ingest(export(datetime(2025, 6, 1), opps, HISTORY))
        w = pipeline_waterfall(store, Q2, date(2025, 3, 31), date(2025, 4, 30))
    assert w.starting_pipeline == 100 + 50 + 70 + 200 + 20  # pull's close date was outside Q2
    assert (w.created, w.pulled_in, w.pushed_out) == (60.0, 80.0, 70.0)
    assert (w.amount_up, w.amount_down, w.won, w.lost) == (30.0, 10.0, 200.0, 20.0)
    assert w.ending_pipeline == 130 + 40 + 60 + 80
    assert w.reconciles


def test_waterfall_reconciles_on_the_demo(demo_seat: Seat) -> None:
    book = load_book(demo_seat.store, date(2026, 11, 24))
    pairs = 0
    for period in ("2025-Q2", "2025-Q4", "2026-Q1", "2026-Q3"):
        p = Period.parse(period)
        for start_offset in (-60, -20, 5, 30):
            for length in (7, 26, 61):
                start = p.start + timedelta(days=start_offset)
                w = pipeline_waterfall(demo_seat.store, p, start, start + timedelta(days=length), book)
                flow = (w.starting_pipeline + w.created + w.pulled_in - w.pushed_out + w.amount_up - w.amount_down
                        - w.won - w.lost)  # fmt: skip
                assert flow == pytest.approx(w.ending_pipeline, abs=1e-6)
                assert w.reconciles
                pairs += 1
    assert pairs == 48
    moved = demo_seat.waterfall(WaterfallRequest(period="2026-Q1", start=date(2026, 1, 15), end=date(2026, 4, 15)))
    assert moved.pushed_out > 0
    assert moved.won > 0
    # the quarter is over: what is still "in" it are stale open deals whose close date was never moved
    assert moved.deals["ending_pipeline"] < moved.deals["starting_pipeline"] / 5
