"""The roster as of a date: who holds which seat (AE, SDR, manager), in which segment, since when.

Read from ``users`` plus :class:`RosterConfig` overrides. Nothing recorded after ``as_of`` is used: a
start after ``as_of`` is not on the roster, an end after ``as_of`` is not yet known. A seller without a
start date gets the first day they owned a deal (``start_inferred``), and is left out of ramp learning.
"""

from __future__ import annotations

import re
from datetime import date

import ibis
from pydantic import BaseModel, ConfigDict

from saleslead.funnel.state import history_until
from saleslead.roster.config import RosterConfig
from saleslead.store import Store

__all__ = ["ROLES", "RosterSeat", "load_seats", "month_index", "month_start", "normalize_role"]

ROLES = ("AE", "SDR", "manager", "other")

_ROLE_WORDS = {
    "ae": "AE",
    "account executive": "AE",
    "sales agent": "AE",
    "sales rep": "AE",
    "sdr": "SDR",
    "bdr": "SDR",
    "sales development": "SDR",
    "business development": "SDR",
    "manager": "manager",
    "vp": "manager",
    "director": "manager",
    "head": "manager",
    "chief": "manager",
}


def month_index(day: date) -> int:
    """Months since year 0: consecutive calendar months have consecutive indexes."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def normalize_role(role: str | None, title: str | None) -> str:
    """AE, SDR, manager or other, from the role field, else from words of the title."""
    for text in (role, title):
        if not text:
            continue
        low = text.strip().lower()
        if low in _ROLE_WORDS:
            return _ROLE_WORDS[low]
        if low in ("other", "ae", "sdr"):
            return low.upper() if low != "other" else "other"
        for word, value in _ROLE_WORDS.items():
            if len(word) > 3 and re.search(rf"\b{word}\b", low):
                return value
    return "other"


class RosterSeat(BaseModel):
    """One person on the roster as of a date."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str | None
    title: str | None
    role: str
    segment: str
    manager_id: str | None
    start_date: date
    end_date: date | None  # only when it falls on or before as_of
    start_inferred: bool
    active: bool
    tenure_months: int  # the as-of month's tenure month (the start month is 1)
    quota: float | None  # the latest quarterly quota starting on or before as_of


def load_seats(store: Store, as_of: date, config: RosterConfig) -> list[RosterSeat]:
    """Everyone who started on or before ``as_of`` (including leavers), oldest start first."""
    users = store.table("users").to_pyarrow().to_pylist()
    h = history_until(store, as_of)
    h = h.filter(h.owner_id.notnull())
    first = h.group_by("owner_id").aggregate(first_seen=h.changed_at.min()).to_pyarrow().to_pylist()
    first_seen = {r["owner_id"]: r["first_seen"].date() for r in first}
    q = store.table("quotas")
    q = q.filter(q.start_date <= ibis.literal(as_of))
    quota: dict[str, tuple[date, float]] = {}
    for r in q.to_pyarrow().to_pylist():
        known = quota.get(r["owner_id"])
        if r["amount"] is not None and (known is None or r["start_date"] >= known[0]):
            quota[r["owner_id"]] = (r["start_date"], float(r["amount"]))
    seats: list[RosterSeat] = []
    for u in users:
        uid = u["user_id"]
        role = config.role_overrides.get(uid) or normalize_role(u["role"], u["title"])
        start = u["start_date"]
        inferred = start is None
        if start is None:
            start = first_seen.get(uid)
        if start is None or start > as_of:
            continue
        end = u["end_date"] if u["end_date"] is not None and u["end_date"] <= as_of else None
        segment = config.segment_overrides.get(uid) or u["segment"] or "Unassigned"
        seats.append(
            RosterSeat(
                user_id=uid,
                name=u["name"],
                title=u["title"],
                role=role,
                segment=segment,
                manager_id=u["manager_id"],
                start_date=start,
                end_date=end,
                start_inferred=inferred,
                active=end is None,
                tenure_months=month_index(as_of) - month_index(start) + 1,
                quota=quota[uid][1] if uid in quota else None,
            )
        )
    seats.sort(key=lambda s: (s.start_date, s.user_id))
    return seats
