"""A tiny hand-made org for the funnel and targets tests: nine deals whose every number is worked out by hand.

Stages (tests/builders.py): Qualify(0) → Propose(1) → Won(2, closed won) | Lost(3, closed lost). All SMB.

=====  =========  ====================================  =============================================
deal   created    path (date: stage amount close)       role
=====  =========  ====================================  =============================================
A      2025-01-02 Q 100 →15 Mar; Won 10 Mar, 120         open at Q1 snapshot (10 Jan), dated Q1, won Q1
B      2025-01-03 Q 200 →20 Feb; P 1 Feb; Lost 20 Feb    open at snapshot, dated Q1, lost after Propose
C      2025-01-05 Q 100 →15 May; Won 20 Mar, 100         open at snapshot dated Q2: pulled in
D      2025-02-01 Q 80 →1 Mar; P 11 Feb; Won 1 Mar       created after the snapshot
E      2024-12-20 Q 50; Won 5 Jan                         booked before the snapshot
J      2025-01-15 Q 40; Lost 25 Jan                       lost at Qualify
F      2025-04-01 Q 500 →30 May; P 3 Apr (open)           Q2 pipeline
G      2025-04-02 Q 100; Won 5 Apr                         Q2 closed won
H      2025-03-25 Q 200 →15 Jul (open)                     pipeline dated outside Q2
=====  =========  ====================================  =============================================

``LATER`` holds what happens after 10 Apr 2025 (F won, a new deal): nothing as of 10 Apr may change.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from saleslead.store import Store

from .builders import export

AS_OF = date(2025, 4, 10)


def _event(deal: str, day: date, stage: str, amount: float, close: date) -> dict[str, Any]:
    return {
        "opportunity_id": deal,
        "changed_at": datetime(day.year, day.month, day.day),
        "stage": stage,
        "amount": amount,
        "close_date": close,
    }


EVENTS = [
    _event("A", date(2025, 1, 2), "Qualify", 100, date(2025, 3, 15)),
    _event("A", date(2025, 3, 10), "Won", 120, date(2025, 3, 10)),
    _event("B", date(2025, 1, 3), "Qualify", 200, date(2025, 2, 20)),
    _event("B", date(2025, 2, 1), "Propose", 200, date(2025, 2, 20)),
    _event("B", date(2025, 2, 20), "Lost", 200, date(2025, 2, 20)),
    _event("C", date(2025, 1, 5), "Qualify", 100, date(2025, 5, 15)),
    _event("C", date(2025, 3, 20), "Won", 100, date(2025, 3, 20)),
    _event("D", date(2025, 2, 1), "Qualify", 80, date(2025, 3, 1)),
    _event("D", date(2025, 2, 11), "Propose", 80, date(2025, 3, 1)),
    _event("D", date(2025, 3, 1), "Won", 80, date(2025, 3, 1)),
    _event("E", date(2024, 12, 20), "Qualify", 50, date(2025, 1, 5)),
    _event("E", date(2025, 1, 5), "Won", 50, date(2025, 1, 5)),
    _event("J", date(2025, 1, 15), "Qualify", 40, date(2025, 1, 25)),
    _event("J", date(2025, 1, 25), "Lost", 40, date(2025, 1, 25)),
    _event("F", date(2025, 4, 1), "Qualify", 500, date(2025, 5, 30)),
    _event("F", date(2025, 4, 3), "Propose", 500, date(2025, 5, 30)),
    _event("G", date(2025, 4, 2), "Qualify", 100, date(2025, 4, 5)),
    _event("G", date(2025, 4, 5), "Won", 100, date(2025, 4, 5)),
    _event("H", date(2025, 3, 25), "Qualify", 200, date(2025, 7, 15)),
]
LATER = [
    _event("F", date(2025, 5, 1), "Won", 450, date(2025, 5, 1)),
    _event("K", date(2025, 4, 20), "Qualify", 300, date(2025, 6, 1)),
]
_WON = {"Won"}
_CLOSED = {"Won", "Lost"}


def _opportunities(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    first: dict[str, datetime] = {}
    for e in sorted(events, key=lambda e: e["changed_at"]):
        last[e["opportunity_id"]] = e
        first.setdefault(e["opportunity_id"], e["changed_at"])
    return [
        {
            "opportunity_id": deal,
            "owner_id": "u1",
            "created_at": first[deal],
            "segment": "SMB",
            "motion": "New Business",
            "channel": "Inbound",
            "stage": e["stage"],
            "amount": e["amount"],
            "close_date": e["close_date"],
            "is_closed": e["stage"] in _CLOSED,
            "is_won": e["stage"] in _WON,
        }
        for deal, e in last.items()
    ]


USERS = [{"user_id": "u1", "name": "Ada", "segment": "SMB", "role": "AE", "is_active": True}]
QUOTAS = [
    {"owner_id": "u1", "start_date": date(2025, 4, 1), "amount": 600.0},
    {"owner_id": "u1", "start_date": date(2025, 5, 1), "amount": 500.0},
    {"owner_id": "u1", "start_date": date(2025, 7, 1), "amount": 999.0},  # next quarter: not counted
]


def build(path: Path, *, later: bool = False) -> Store:
    """The fixture store; ``later=True`` adds what happened after :data:`AS_OF`."""
    events = EVENTS + (LATER if later else [])
    snapshot = datetime(2025, 6, 1) if later else datetime(2025, 4, 10, 23)
    store = Store.open(path)
    store.ingest(export(snapshot, _opportunities(events), events, users=USERS, quotas=QUOTAS))
    return store
