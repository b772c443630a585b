"""Flags: what the seat has raised and not yet seen resolved — coverage slips, stalls, calls that outrun pipeline.

A flag is raised once: raising an open flag again changes nothing, so the date it was first raised
is kept. The weekly cadence resolves the flags of a kind it checked this week and no longer sees.
Flags are the seat's records of kind ``flag``, keyed by the flag id (e.g. ``stall/OPP-000123``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from saleslead.store.records import Record, Records

__all__ = ["KIND", "Flag", "FlagBook", "Severity"]

KIND = "flag"
Severity = Literal["info", "warning", "critical"]


class Flag(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    severity: Severity
    message: str
    evidence: dict[str, Any]
    raised_as_of: date
    raised_at: datetime
    status: Literal["open", "resolved"]
    resolved_as_of: date | None = None


def _from_record(record: Record) -> Flag:
    return Flag.model_validate({**record.payload, "status": record.status})


class FlagBook:
    """The flags of one engagement."""

    def __init__(self, records: Records, author: str = "sales-lead") -> None:
        self.records = records
        self.author = author

    def raise_flag(
        self,
        kind: str,
        key: str,
        *,
        severity: Severity,
        message: str,
        evidence: dict[str, Any],
        as_of: date,
    ) -> tuple[Flag, bool]:
        """Raise a flag unless it is already open; returns (flag, newly raised)."""
        fid = f"{kind}/{key}"
        existing = self.records.latest(KIND, fid)
        if existing is not None and existing.status == "open":
            return _from_record(existing), False
        flag = Flag(
            id=fid,
            kind=kind,
            severity=severity,
            message=message,
            evidence=evidence,
            raised_as_of=as_of,
            raised_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            status="open",
        )
        self.records.put(KIND, fid, flag.model_dump(mode="json"), author=self.author, status="open")
        return flag, True

    def resolve(self, flag_id: str, as_of: date) -> Flag:
        current = _from_record(self.records.get(KIND, flag_id))
        if current.status == "resolved":
            return current
        payload = {**current.model_dump(mode="json"), "status": "resolved", "resolved_as_of": as_of.isoformat()}
        return _from_record(self.records.put(KIND, flag_id, payload, author=self.author, status="resolved"))

    def sweep(self, kind: str, seen: set[str], as_of: date) -> list[Flag]:
        """Resolve the open flags of ``kind`` not seen this run (the condition has cleared)."""
        return [self.resolve(f.id, as_of) for f in self.open() if f.kind == kind and f.id not in seen]

    def open(self) -> list[Flag]:
        flags = [_from_record(r) for r in self.records.current(KIND) if r.status == "open"]
        return sorted(flags, key=lambda f: (f.raised_as_of, f.id))
