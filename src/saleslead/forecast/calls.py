"""Calls on a period's number: submitted by people or agents, adjusted by managers, and the seat's own call.

Each call is a versioned record (kind ``forecast.call``, key ``PERIOD/NODE``): a new submission for the
same node and period is a new version, so the history of a call is kept. A call that changes someone
else's number is an *adjustment* and must say why. Every submission is checked by the honesty guard at
once; the verdict is stored as a ``forecast.flag`` record tied to that call version, and stays the flag
until the call changes. The seat's own call (kind ``forecast.seat-call``, key ``PERIOD``) is its P50 with
the P10–P90 range.
"""

from __future__ import annotations

from typing import Any

from saleslead.errors import InputError
from saleslead.forecast.schemas import CallCheck, CallRecord
from saleslead.store.records import Record, Records

__all__ = ["CALL", "FLAG", "SEAT_CALL", "call_key", "call_record", "flag_is_kept", "flag_status", "store_flag"]

CALL = "forecast.call"
FLAG = "forecast.flag"
SEAT_CALL = "forecast.seat-call"


def call_key(period: str, node: str) -> str:
    return f"{period}/{node}"


def call_record(record: Record) -> CallRecord:
    body: dict[str, Any] = dict(record.payload)
    body.update(version=record.version, recorded_at=record.created_at)
    return CallRecord.model_validate(body)


def check_adjustment(previous: Record | None, author: str, adjustment: bool, reason: str | None) -> None:
    """An adjustment of someone else's call needs a reason."""
    changes_other = previous is not None and previous.author != author
    if (adjustment or changes_other) and not (reason and reason.strip()):
        raise InputError(
            "an adjustment of another person's call needs a reason",
            hint="pass --reason 'why the number changes'",
        )


def flag_status(check: CallCheck) -> str:
    """A flag is open while the call is flagged, resolved when it is supported."""
    return "open" if check.flagged else "resolved"


def flag_is_kept(latest: Record | None, check: CallCheck) -> bool:
    """Whether ``latest`` (the call's newest flag) already says what ``check`` says."""
    return (
        latest is not None and latest.status == flag_status(check) and latest.payload == check.model_dump(mode="json")
    )


def store_flag(records: Records, check: CallCheck, author: str) -> Record:
    """Keep the guard's verdict on this call version: open while flagged, resolved when supported. A check
    that says what the newest flag says adds no version (a re-check of an unchanged call writes nothing)."""
    key = call_key(check.period, check.node)
    latest = records.latest(FLAG, key)
    if latest is not None and flag_is_kept(latest, check):
        return latest
    return records.put(FLAG, key, check.model_dump(mode="json"), author=author, status=flag_status(check))
