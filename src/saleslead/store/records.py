"""The seat's own records: plans, calls, flags, handoffs, decisions — versioned, per engagement.

A record has a ``kind`` (``plan``, ``call``, ``flag``, ``handoff``, ``decision``, …) and a
``key`` (its natural identity, e.g. ``2026-Q1/Enterprise``). Writing the same kind and key
again adds a new version; nothing is overwritten, so the history of a call or a plan is kept.
Payloads are JSON made by the mandates' own typed models.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from saleslead.errors import NotFoundError
from saleslead.store.location import RENAMED_KINDS

if TYPE_CHECKING:
    from saleslead.store.ibis_store import Store

__all__ = ["Record", "Records", "spellings"]


@dataclass(frozen=True)
class Record:
    record_id: str
    engagement: str
    kind: str
    key: str
    version: int
    status: str
    author: str
    created_at: datetime
    payload: dict[str, Any]


class Records:
    """Records of one engagement in one store."""

    def __init__(self, store: Store, engagement: str) -> None:
        self.store = store
        self.engagement = engagement

    def put(
        self,
        kind: str,
        key: str,
        payload: dict[str, Any],
        *,
        author: str,
        status: str = "open",
        record_id: str | None = None,
        at: datetime | None = None,
    ) -> Record:
        """Add a new version of (kind, key)."""
        import pyarrow as pa  # here: reading a record (:class:`Record`) needs no engine

        previous = self.history(kind, key)
        version = previous[-1].version + 1 if previous else 1
        record = Record(
            record_id=record_id or uuid.uuid4().hex,
            engagement=self.engagement,
            kind=kind,
            key=key,
            version=version,
            status=status,
            author=author,
            created_at=(at or datetime.now(UTC)).replace(tzinfo=None),
            payload=payload,
        )
        row = {
            "record_id": [record.record_id],
            "engagement": [record.engagement],
            "kind": [kind],
            "key": [key],
            "version": [version],
            "status": [status],
            "author": [author],
            "created_at": pa.array([record.created_at], pa.timestamp("us")),
            "payload": [_dumps(payload)],
        }
        with self.store.transaction():
            self.store.insert("records", pa.table(row))
        return record

    def put_many(
        self,
        kind: str,
        items: list[tuple[str, dict[str, Any], str]],
        *,
        author: str,
        at: datetime | None = None,
    ) -> list[Record]:
        """Add a new version of many keys of ``kind`` at once: ``items`` are (key, payload, status); one insert."""
        if not items:
            return []
        import pyarrow as pa

        versions = {r.key: r.version for r in self._query(kind)}
        when = (at or datetime.now(UTC)).replace(tzinfo=None)
        records = []
        for key, payload, status in items:
            versions[key] = versions.get(key, 0) + 1
            records.append(
                Record(
                    record_id=uuid.uuid4().hex,
                    engagement=self.engagement,
                    kind=kind,
                    key=key,
                    version=versions[key],
                    status=status,
                    author=author,
                    created_at=when,
                    payload=payload,
                )
            )
        table = pa.table(
            {
                "record_id": [r.record_id for r in records],
                "engagement": [r.engagement for r in records],
                "kind": [kind] * len(records),
                "key": [r.key for r in records],
                "version": [r.version for r in records],
                "status": [r.status for r in records],
                "author": [author] * len(records),
                "created_at": pa.array([when] * len(records), pa.timestamp("us")),
                "payload": [_dumps(r.payload) for r in records],
            }
        )
        with self.store.transaction():
            self.store.insert("records", table)
        return records

    def _query(self, kind: str, key: str | None = None) -> list[Record]:
        t = self.store.table("records")
        t = t.filter((t.engagement == self.engagement) & t.kind.isin(spellings(kind)))
        if key is not None:
            t = t.filter(t.key == key)
        rows = t.order_by(["key", "version"]).to_pyarrow().to_pylist()
        return [
            Record(
                record_id=r["record_id"],
                engagement=r["engagement"],
                kind=kind,
                key=r["key"],
                version=int(r["version"]),
                status=r["status"],
                author=r["author"],
                created_at=r["created_at"],
                payload=json.loads(r["payload"]),
            )
            for r in rows
        ]

    def history(self, kind: str, key: str) -> list[Record]:
        """Every version of (kind, key), oldest first."""
        return self._query(kind, key)

    def latest(self, kind: str, key: str) -> Record | None:
        versions = self.history(kind, key)
        return versions[-1] if versions else None

    def get(self, kind: str, key: str) -> Record:
        record = self.latest(kind, key)
        if record is None:
            raise NotFoundError(f"no {kind} {key!r} in engagement {self.engagement!r}")
        return record

    def current(self, kind: str) -> list[Record]:
        """The latest version of every key of ``kind``."""
        latest: dict[str, Record] = {}
        for record in self._query(kind):
            latest[record.key] = record
        return list(latest.values())

    def set_status(self, kind: str, key: str, status: str, *, author: str) -> Record:
        """A new version with the same payload and a new status (e.g. acknowledged, resolved)."""
        record = self.get(kind, key)
        return self.put(kind, key, record.payload, author=author, status=status, record_id=record.record_id)


def _finite(value: Any) -> Any:
    """The value with every NaN or infinite float made null: stored JSON never carries NaN or Infinity."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dumps(payload: dict[str, Any]) -> str:
    try:
        return json.dumps(payload, default=str, sort_keys=True, allow_nan=False)
    except ValueError:  # a non-finite float somewhere: written as null (standard JSON), not as NaN
        return json.dumps(_finite(payload), default=str, sort_keys=True, allow_nan=False)


def spellings(kind: str) -> list[str]:
    """``kind`` and how earlier versions spelt it (a read-only store opened before its migration keeps those)."""
    return [kind, *(old for old, new in RENAMED_KINDS.items() if new == kind)]
