"""Point-in-time state: hand-checked fields and leakage."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from saleslead.funnel import state_as_of
from saleslead.store import Store

from .builders import export

HISTORY = [
    {
        "opportunity_id": "A",
        "changed_at": datetime(2025, 1, 1, 9),
        "stage": "Qualify",
        "amount": 80.0,
        "close_date": date(2025, 3, 1),
        "forecast_category": "Pipeline",
    },
    {
        "opportunity_id": "A",
        "changed_at": datetime(2025, 1, 20, 9),
        "stage": "Qualify",
        "amount": 80.0,
        "close_date": date(2025, 3, 15),
        "forecast_category": "Pipeline",
    },
    {
        "opportunity_id": "A",
        "changed_at": datetime(2025, 2, 1, 9),
        "stage": "Propose",
        "amount": 100.0,
        "close_date": date(2025, 3, 31),
        "forecast_category": "Best Case",
    },
    {
        "opportunity_id": "A",
        "changed_at": datetime(2025, 3, 20, 9),
        "stage": "Propose",
        "amount": 100.0,
        "close_date": date(2025, 3, 10),
        "forecast_category": "Commit",
    },
    {
        "opportunity_id": "A",
        "changed_at": datetime(2025, 4, 2, 9),
        "stage": "Won",
        "amount": 110.0,
        "close_date": date(2025, 4, 2),
        "forecast_category": "Closed",
    },
]
FINAL_A = {
    "opportunity_id": "A",
    "created_at": datetime(2025, 1, 1, 9),
    "stage": "Won",
    "amount": 110.0,
    "close_date": date(2025, 4, 2),
    "is_closed": True,
    "is_won": True,
    "owner_id": "u1",
    "segment": "SMB",
    "forecast_category": "Closed",
}
LATER_B = {
    "opportunity_id": "B",
    "created_at": datetime(2025, 3, 1),
    "stage": "Qualify",
    "amount": 5.0,
    "close_date": date(2025, 6, 1),
    "is_closed": False,
    "is_won": False,
    "owner_id": "u2",
}
HISTORY_B = [
    {
        "opportunity_id": "B",
        "changed_at": datetime(2025, 3, 1),
        "stage": "Qualify",
        "amount": 5.0,
        "close_date": date(2025, 6, 1),
    }
]


def one(store: Store, day: date) -> dict[str, Any]:
    rows = state_as_of(store, day).filter(lambda t: t.opportunity_id == "A").to_pyarrow().to_pylist()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def store(any_store: Store) -> Store:
    s = any_store
    s.ingest(
        export(
            datetime(2025, 5, 1),
            [FINAL_A, LATER_B],
            HISTORY + HISTORY_B,
            activities=[
                {"opportunity_id": "A", "activity_date": date(2025, 2, 3)},
                {"opportunity_id": "A", "activity_date": date(2025, 3, 25)},
            ],
        )
    )
    return s


def test_state_fields_by_hand(store: Store) -> None:
    row = one(store, date(2025, 2, 14))
    assert row["stage"] == "Propose"
    assert row["amount"] == 100.0
    assert row["forecast_category"] == "Best Case"
    assert row["days_in_stage"] == 13  # entered 1 Feb, end of 14 Feb
    assert row["age_days"] == 44  # created 1 Jan
    assert row["pushes"] == 2  # 1 Mar -> 15 Mar -> 31 Mar
    assert row["last_activity_date"] == date(2025, 2, 3)
    assert row["is_closed"] is False
    assert row["segment"] == "SMB"


def test_pull_in_is_not_a_push_and_stage_time_keeps_counting(store: Store) -> None:
    row = one(store, date(2025, 3, 31))
    assert row["pushes"] == 2
    assert row["close_date"] == date(2025, 3, 10)
    assert row["days_in_stage"] == 58  # still in Propose since 1 Feb
    assert row["forecast_category"] == "Commit"
    assert row["last_activity_date"] == date(2025, 3, 25)


def test_closed_as_of_close(store: Store) -> None:
    row = one(store, date(2025, 4, 2))
    assert (row["stage"], row["is_closed"], row["is_won"], row["amount"]) == ("Won", True, True, 110.0)


def test_nothing_before_creation(store: Store) -> None:
    assert state_as_of(store, date(2024, 12, 31)).count().execute() == 0
    ids = state_as_of(store, date(2025, 2, 28)).opportunity_id.to_pyarrow().to_pylist()
    assert ids == ["A"]


def test_answer_as_of_d_ignores_later_data(tmp_path: Path, store: Store) -> None:
    """Leakage: a store cut at D answers exactly like the full store, as of D."""
    cut_day = date(2025, 2, 14)
    cut = Store.open(tmp_path / "cut.duckdb")
    known = [h for h in HISTORY if h["changed_at"].date() <= cut_day]
    state_then = dict(
        FINAL_A,
        stage="Propose",
        amount=100.0,
        close_date=date(2025, 3, 31),
        is_closed=False,
        is_won=False,
        forecast_category="Best Case",
    )
    cut.ingest(
        export(
            datetime(2025, 2, 14, 23),
            [state_then],
            known,
            activities=[{"opportunity_id": "A", "activity_date": date(2025, 2, 3)}],
        )
    )
    columns = [c for c in state_as_of(store, cut_day).columns if c != "probability"]
    full_rows = state_as_of(store, cut_day).select(columns).to_pyarrow().to_pylist()
    cut_rows = state_as_of(cut, cut_day).select(columns).to_pyarrow().to_pylist()
    cut.close()
    assert full_rows == cut_rows
