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
        return self.raise_many([(kind, key, severity, message, evidence)], as_of)[0]

    def raise_many(
        self, drafts: list[tuple[str, str, Severity, str, dict[str, Any]]], as_of: date
    ) -> list[tuple[Flag, bool]]:
        """:meth:`raise_flag` for many (kind, key, severity, message, evidence) at once: one read, one write."""
        current = {r.key: r for r in self.records.current(KIND)}
        at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        out: list[tuple[Flag, bool]] = []
        fresh: dict[str, Flag] = {}
        for kind, key, severity, message, evidence in drafts:
            fid = f"{kind}/{key}"
            if fid in fresh:
                out.append((fresh[fid], False))
                continue
            record = current.get(fid)
            if record is not None and record.status == "open":
                out.append((_from_record(record), False))
                continue
            flag = Flag(
                id=fid,
                kind=kind,
                severity=severity,
                message=message,
                evidence=evidence,
                raised_as_of=as_of,
                raised_at=at,
                status="open",
            )
            fresh[fid] = flag
            out.append((flag, True))
        self.records.put_many(
            KIND, [(f.id, f.model_dump(mode="json"), "open") for f in fresh.values()], author=self.author, at=at
        )
        return out

    def resolve_many(self, flags: list[Flag], as_of: date) -> list[Flag]:
        """Resolve these open flags at once."""
        done = [
            f.model_copy(update={"status": "resolved", "resolved_as_of": as_of}) for f in flags if f.status == "open"
        ]
        self.records.put_many(KIND, [(f.id, f.model_dump(mode="json"), "resolved") for f in done], author=self.author)
        return done

    def sweep_kinds(self, kinds: set[str], seen: set[str], as_of: date) -> list[Flag]:
        """:meth:`sweep` for several kinds at once."""
        return self.resolve_many([f for f in self.open() if f.kind in kinds and f.id not in seen], as_of)

    def resolve(self, flag_id: str, as_of: date) -> Flag:
        current = _from_record(self.records.get(KIND, flag_id))
        if current.status == "resolved":
            return current
        payload = {**current.model_dump(mode="json"), "status": "resolved", "resolved_as_of": as_of.isoformat()}
        return _from_record(self.records.put(KIND, flag_id, payload, author=self.author, status="resolved"))

    def sweep(self, kind: str, seen: set[str], as_of: date) -> list[Flag]:
        """Resolve the open flags of ``kind`` not seen this run (the condition has cleared)."""
        return self.resolve_many([f for f in self.open() if f.kind == kind and f.id not in seen], as_of)

    def open(self) -> list[Flag]:
        flags = [_from_record(r) for r in self.records.current(KIND) if r.status == "open"]
        return sorted(flags, key=lambda f: (f.raised_as_of, f.id))
