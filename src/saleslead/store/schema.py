"""The store's tables and their migrations.

The schema is versioned: ``MIGRATIONS[i]`` takes a store from version ``i`` to ``i + 1``.
Each migration is a list of ``(table, ibis schema)`` to create; later migrations may add
tables. Tables are created through Ibis so the same definitions serve DuckDB and Postgres.
"""

from __future__ import annotations

import ibis
import ibis.expr.schema as sch

from saleslead.store.location import RENAMED_KINDS, SCHEMA_VERSION

__all__ = ["MIGRATIONS", "RENAMED_KINDS", "SCHEMA_VERSION", "TABLES"]

_V1: dict[str, sch.Schema] = {
    "meta": ibis.schema({"key": "string", "value": "string"}),
    "ingests": ibis.schema(
        {
            "ingest_id": "int64",
            "source": "string",
            "snapshot_at": "timestamp",
            "ingested_at": "timestamp",
            "fingerprint": "string",
            "report": "string",
        }
    ),
    "opportunities": ibis.schema(
        {
            "opportunity_id": "string",
            "name": "string",
            "account_id": "string",
            "owner_id": "string",
            "created_at": "timestamp",
            "first_seen_at": "timestamp",
            "segment": "string",
            "motion": "string",
            "channel": "string",
            "product": "string",
            "extra": "string",
        }
    ),
    # Every known state change of every opportunity: the point-in-time backbone.
    "history": ibis.schema(
        {
            "seq": "int64",
            "opportunity_id": "string",
            "changed_at": "timestamp",
            "stage": "string",
            "amount": "float64",
            "close_date": "date",
            "probability": "float64",
            "forecast_category": "string",
            "owner_id": "string",
            "last_activity_date": "date",
            "source": "string",
            "ingest_id": "int64",
            "pushes": "int64",  # close-date moves later up to and including this event
            "stage_entered_at": "timestamp",  # when the stage of this event was entered
            "valid_to": "timestamp",  # when the next event replaced this one (null: newest)
            "prev_stage": "string",  # stage of the event before (null: first)
            "first_amount": "float64",  # amount at the deal's first event
            "first_seen": "timestamp",  # time of the deal's first event
            "activity_so_far": "date",  # latest activity date known up to this event
        }
    ),
    "stages": ibis.schema(
        {
            "name": "string",
            "stage_order": "int64",
            "is_closed": "boolean",
            "is_won": "boolean",
            "probability": "float64",
        }
    ),
    "users": ibis.schema(
        {
            "user_id": "string",
            "name": "string",
            "title": "string",
            "manager_id": "string",
            "is_active": "boolean",
            "start_date": "date",
            "end_date": "date",
            "role": "string",
            "segment": "string",
            "extra": "string",
        }
    ),
    "accounts": ibis.schema(
        {
            "account_id": "string",
            "name": "string",
            "industry": "string",
            "employees": "int64",
            "country": "string",
            "segment": "string",
            "owner_id": "string",
            "extra": "string",
        }
    ),
    "quotas": ibis.schema({"owner_id": "string", "start_date": "date", "amount": "float64"}),
    "activities": ibis.schema({"opportunity_id": "string", "activity_date": "date"}),
    # The seat's own records: plans, calls, flags, handoffs, decisions, roster plans.
    "records": ibis.schema(
        {
            "record_id": "string",
            "engagement": "string",
            "kind": "string",
            "key": "string",
            "version": "int64",
            "status": "string",
            "author": "string",
            "created_at": "timestamp",
            "payload": "string",
        }
    ),
}

# What the store last took in for each deal, as one hash (``saleslead.store.evidence``): an ingest rewrites only
# the deals whose hash differs. A store migrated from version 1 starts empty: its next ingest treats every deal
# as changed once.
_V2: dict[str, sch.Schema] = {"deal_evidence": ibis.schema({"opportunity_id": "string", "evidence": "int64"})}

MIGRATIONS: list[dict[str, sch.Schema]] = [_V1, _V2]
TABLES: dict[str, sch.Schema] = {name: s for step in MIGRATIONS for name, s in step.items()}
