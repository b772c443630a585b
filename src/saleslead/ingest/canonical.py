"""The canonical tables every input shape is turned into before it reaches the store.

Readers (Salesforce objects, mapping profiles) produce a :class:`CanonicalExport`; the store
derives history from it and keeps it. Column names here are saleslead's own, in the sales
leader's words; ``docs/data-contract.md`` maps each to its Salesforce field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

__all__ = [
    "ACCOUNTS",
    "ACTIVITIES",
    "HISTORY",
    "OPPORTUNITIES",
    "OWNER_CHANGES",
    "QUOTAS",
    "USERS",
    "CanonicalExport",
    "StageInfo",
]

#: One row per opportunity: its identity and slow-moving attributes, and its state at snapshot time.
OPPORTUNITIES = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("name", pa.string()),
        ("account_id", pa.string()),
        ("owner_id", pa.string()),
        ("created_at", pa.timestamp("us")),  # null: not known (first seen at snapshot)
        ("segment", pa.string()),
        ("motion", pa.string()),  # Type
        ("channel", pa.string()),  # LeadSource
        ("product", pa.string()),
        # state at the snapshot
        ("stage", pa.string()),
        ("amount", pa.float64()),
        ("close_date", pa.date32()),
        ("probability", pa.float64()),
        ("forecast_category", pa.string()),
        ("is_closed", pa.bool_()),
        ("is_won", pa.bool_()),
        ("last_activity_date", pa.date32()),
        ("extra", pa.string()),  # JSON object of columns the contract does not name
    ]
)

#: One row per recorded change of an opportunity (Salesforce OpportunityHistory).
HISTORY = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("changed_at", pa.timestamp("us")),
        ("stage", pa.string()),
        ("amount", pa.float64()),
        ("close_date", pa.date32()),
        ("probability", pa.float64()),
        ("forecast_category", pa.string()),
    ]
)

#: One row per change of an opportunity's owner (Salesforce OpportunityFieldHistory, Field = Owner).
OWNER_CHANGES = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("changed_at", pa.timestamp("us")),
        ("old_owner_id", pa.string()),  # null: not known
        ("new_owner_id", pa.string()),
    ]
)

USERS = pa.schema(
    [
        ("user_id", pa.string()),
        ("name", pa.string()),
        ("title", pa.string()),
        ("manager_id", pa.string()),
        ("is_active", pa.bool_()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("role", pa.string()),  # AE / SDR / manager / other, when known
        ("segment", pa.string()),
        ("extra", pa.string()),
    ]
)

ACCOUNTS = pa.schema(
    [
        ("account_id", pa.string()),
        ("name", pa.string()),
        ("industry", pa.string()),
        ("employees", pa.int64()),
        ("country", pa.string()),
        ("segment", pa.string()),
        ("owner_id", pa.string()),
        ("extra", pa.string()),
    ]
)

QUOTAS = pa.schema(
    [
        ("owner_id", pa.string()),
        ("start_date", pa.date32()),
        ("amount", pa.float64()),
    ]
)

#: Sales activity touching an opportunity (Salesforce Task/Event: WhatId, ActivityDate).
ACTIVITIES = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("activity_date", pa.date32()),
    ]
)


@dataclass(frozen=True)
class StageInfo:
    """What the data (or configuration) says a stage is."""

    name: str
    order: int
    is_closed: bool
    is_won: bool
    probability: float | None


@dataclass(frozen=True)
class CanonicalExport:
    """One export of one org, in canonical shape, ready for the store.

    ``snapshot_at`` is the moment the export describes; the opportunities' state columns are
    their state at that moment. ``history`` is empty when the source keeps no history;
    ``owner_changes`` is empty when it records no owner changes (the owner of every past event is
    then taken to be the owner at the snapshot).
    """

    source: str
    snapshot_at: datetime
    opportunities: pa.Table
    history: pa.Table
    users: pa.Table
    accounts: pa.Table
    quotas: pa.Table
    activities: pa.Table
    owner_changes: pa.Table = field(default_factory=OWNER_CHANGES.empty_table)
    stages: tuple[StageInfo, ...] = ()
    has_history: bool = False
    files: tuple[str, ...] = ()
    rejected: tuple[tuple[str, int | None, str | None, str], ...] = field(default=())
    """Quarantined rows: (file, line, column, reason)."""
    notes: tuple[str, ...] = ()
    """Report lines on what was read but not used (e.g. field-history rows for other fields)."""

    @staticmethod
    def empty(schema: pa.Schema) -> pa.Table:
        return schema.empty_table()
