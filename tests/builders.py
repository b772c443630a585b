"""Small hand-made exports for tests: canonical tables built row by row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa

from saleslead.ingest.canonical import (
    ACCOUNTS,
    ACTIVITIES,
    HISTORY,
    OPPORTUNITIES,
    QUOTAS,
    USERS,
    CanonicalExport,
    StageInfo,
)

STAGES = (
    StageInfo("Qualify", 0, False, False, 10.0),
    StageInfo("Propose", 1, False, False, 50.0),
    StageInfo("Won", 2, True, True, 100.0),
    StageInfo("Lost", 3, True, False, 0.0),
)


def table(schema: pa.Schema, rows: Iterable[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)


def export(
    snapshot: datetime,
    opportunities: Iterable[dict[str, Any]],
    history: Iterable[dict[str, Any]] = (),
    activities: Iterable[dict[str, Any]] = (),
    users: Iterable[dict[str, Any]] = (),
    quotas: Iterable[dict[str, Any]] = (),
) -> CanonicalExport:
    hist = table(HISTORY, history)
    return CanonicalExport(
        source="test",
        snapshot_at=snapshot,
        opportunities=table(OPPORTUNITIES, opportunities),
        history=hist,
        users=table(USERS, users),
        accounts=ACCOUNTS.empty_table(),
        quotas=table(QUOTAS, quotas),
        activities=table(ACTIVITIES, activities),
        stages=STAGES,
        has_history=hist.num_rows > 0,
    )
