"""Handoffs: work the seat passes to another role, kept in an outbox that survives restarts.

A handoff's id is a hash of (engagement, to_role, boundary, key): issuing the same handoff twice —
the same stalled deal, the same week's creation gap — gives the same record, not a second one. The
outbox is the seat's records of kind ``handoff`` (one key per handoff id, versioned on every change
of status), so it lives in the store with everything else the seat decides.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from saleslead.errors import InputError
from saleslead.role.schema import Boundary
from saleslead.store.records import Record, Records

__all__ = ["KIND", "Handoff", "HandoffStatus", "Outbox", "handoff_id"]

KIND = "handoff"
HandoffStatus = Literal["open", "acknowledged", "done"]
_ORDER: dict[str, int] = {"open": 0, "acknowledged": 1, "done": 2}


class Handoff(BaseModel):
    """One piece of work handed to another role, with what the seat knows about it."""

    model_config = ConfigDict(frozen=True)

    id: str
    from_role: str
    to_role: str
    relation: str
    boundary: str
    reason: str
    request: str
    payload_key: str
    payload: dict[str, Any]
    engagement: str
    sequence: int
    as_of: date | None
    created_at: datetime
    status: HandoffStatus


def handoff_id(engagement: str, to_role: str, boundary: str, key: str) -> str:
    """The stable id of a handoff: the same work to the same role gets the same id."""
    digest = hashlib.sha256("\x1f".join((engagement, to_role, boundary, key)).encode()).hexdigest()
    return f"ho-{digest[:16]}"


def _from_record(record: Record) -> Handoff:
    return Handoff.model_validate({**record.payload, "status": record.status})


class Outbox:
    """The handoffs of one engagement."""

    def __init__(self, records: Records, from_role: str = "sales-lead") -> None:
        self.records = records
        self.from_role = from_role

    def issue(
        self,
        boundary: Boundary,
        *,
        request: str,
        key: str,
        payload: dict[str, Any],
        as_of: date | None = None,
        at: datetime | None = None,
    ) -> tuple[Handoff, bool]:
        """Put a handoff in the outbox unless it is already there; returns (handoff, newly issued)."""
        return self.issue_many([(boundary, request, key, payload)], as_of=as_of, at=at)[0]

    def issue_many(
        self,
        drafts: list[tuple[Boundary, str, str, dict[str, Any]]],
        *,
        as_of: date | None = None,
        at: datetime | None = None,
    ) -> list[tuple[Handoff, bool]]:
        """:meth:`issue` for many (boundary, request, key, payload) at once: one read, one write."""
        existing = {r.key: _from_record(r) for r in self.records.current(KIND)}
        sequence = len(existing)
        at = (at or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
        out: list[tuple[Handoff, bool]] = []
        fresh: list[Handoff] = []
        for boundary, request, key, payload in drafts:
            hid = handoff_id(self.records.engagement, boundary.owner, boundary.id, key)
            if hid in existing:
                out.append((existing[hid], False))
                continue
            sequence += 1
            handoff = Handoff(
                id=hid,
                from_role=self.from_role,
                to_role=boundary.owner,
                relation=boundary.relation,
                boundary=boundary.id,
                reason=boundary.reason,
                request=request,
                payload_key=key,
                payload=json.loads(json.dumps(payload, default=str)),
                engagement=self.records.engagement,
                sequence=sequence,
                as_of=as_of,
                created_at=at,
                status="open",
            )
            existing[hid] = handoff
            fresh.append(handoff)
            out.append((handoff, True))
        self.records.put_many(
            KIND, [(h.id, h.model_dump(mode="json"), "open") for h in fresh], author=self.from_role, at=at
        )
        return out

    def get(self, handoff: str) -> Handoff:
        return _from_record(self.records.get(KIND, handoff))

    def list(self, status: HandoffStatus | None = None, to_role: str | None = None) -> list[Handoff]:
        """Handoffs in the order they were issued, optionally of one status or to one role."""
        found = [_from_record(r) for r in self.records.current(KIND)]
        found = [
            h for h in found if (status is None or h.status == status) and (to_role is None or h.to_role == to_role)
        ]
        return sorted(found, key=lambda h: h.sequence)

    def set_status(self, handoff: str, status: HandoffStatus, *, author: str) -> Handoff:
        """Move a handoff forward (open → acknowledged → done); moving back is refused."""
        current = self.get(handoff)
        if _ORDER[status] < _ORDER[current.status]:
            raise InputError(
                f"handoff {handoff} is {current.status}; it cannot go back to {status}",
                hint="statuses only move forward: open → acknowledged → done",
            )
        if status == current.status:
            return current
        record = self.records.set_status(KIND, handoff, status, author=author)
        return _from_record(record)

    def jsonl(self, status: HandoffStatus | None = None) -> str:
        """The outbox as JSON Lines, one handoff per line, in issue order."""
        return "".join(json.dumps(h.model_dump(mode="json"), sort_keys=True) + "\n" for h in self.list(status))
