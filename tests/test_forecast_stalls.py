"""Stalls: P90 of completed stage stays by hand; on the demo, every flag carries evidence for the AE."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from saleslead.forecast.panel import day_number, load_book
from saleslead.forecast.schemas import StallsRequest
from saleslead.forecast.stalls import stage_p90
from saleslead.seat import Seat
from saleslead.store import Store

from .builders import export

DEMO_AS_OF = date(2026, 6, 15)


def test_stage_p90_by_hand(tmp_path: Path) -> None:
    # ten deals stay 1..10 days in Qualify, then move on; one is still in Qualify (not a completed stay)
    history = []
    for i in range(1, 11):
        history.append({"opportunity_id": f"d{i}", "changed_at": datetime(2025, 1, 1, 9), "stage": "Qualify"})
        history.append({"opportunity_id": f"d{i}", "changed_at": datetime(2025, 1, 1 + i, 9), "stage": "Propose"})
    history.append({"opportunity_id": "open", "changed_at": datetime(2025, 1, 1, 9), "stage": "Qualify"})
    opps = [{"opportunity_id": f"d{i}"} for i in range(1, 11)] + [{"opportunity_id": "open"}]
    with Store.open(tmp_path / "s.duckdb") as store:
        store.ingest(export(datetime(2025, 3, 1), opps, history))
        book = load_book(store, date(2025, 3, 1))
        p90 = stage_p90(book, day_number(date(2025, 3, 1)), min_sample=30)
        qualify = book.stage_names.index("Qualify")
        # numpy's linear P90 of 1..10 = 1 + 0.9 * 9 = 9.1; ten stays (the open one is censored, not counted)
        assert p90[(qualify, -1)] == (9.1, 10)
        # fewer than min_sample stays in the segment: no segment-specific limit
        assert all(key[1] == -1 for key in p90)
        # as of the end of 5 Jan only the stays that ended by then count: 1, 2, 3, 4 days
        early = stage_p90(book, day_number(date(2025, 1, 5)), min_sample=1)
        assert early[(qualify, -1)] == (3.7, 4)  # 1 + 0.9 * 3


def test_demo_stalls_name_deal_owner_and_evidence(demo_seat: Seat) -> None:
    result = demo_seat.stalls(StallsRequest(as_of=DEMO_AS_OF))
    assert len(result.items) > 20
    for item in result.items:
        assert item.to_role == "account-executive"
        assert item.reasons
        assert item.owner_id
        stuck = item.stage_p90_days is not None and item.days_in_stage > item.stage_p90_days
        quiet = item.quiet_span_days is not None and (
            item.days_since_activity is None or item.days_since_activity > item.quiet_span_days
        )
        assert stuck or item.pushes >= 2 or quiet
        assert stuck == any("beyond the P90" in r for r in item.reasons)
        assert (item.pushes >= 2) == any("pushed" in r for r in item.reasons)
    json = result.model_dump(mode="json")
    assert set(json["items"][0]) >= {
        "opportunity_id",
        "owner_id",
        "stage",
        "days_in_stage",
        "pushes",
        "reasons",
        "to_role",
    }
    assert result.evidence.sample_size > 1000
