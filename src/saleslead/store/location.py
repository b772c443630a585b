"""Where a store is and which schema it has: what can be known of a store without loading its engine."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_STORE", "RENAMED_KINDS", "SCHEMA_VERSION", "resolve_location"]

DEFAULT_STORE = "saleslead.duckdb"

#: The store's schema version: the number of migrations in :data:`saleslead.store.schema.MIGRATIONS`
#: (a test holds the two together).
SCHEMA_VERSION = 2

#: Record kinds as earlier versions spelt them -> as they are spelt now. A kind is ``owner.thing`` in lower case
#: (``targets.plan``, ``forecast.seat-call``), or one word where the owner is the thing (``handoff``,
#: ``settings``); a writable store is migrated on open, and a read-only one is read under both spellings.
RENAMED_KINDS: dict[str, str] = {
    "roster_plan": "roster.plan",
    "roster_rebalance": "roster.rebalance",
    "forecast-call": "forecast.call",
    "forecast-flag": "forecast.flag",
    "forecast-seat-call": "forecast.seat-call",
    "strategy-flag": "strategy.flag",
    "web-token": "web.token",
}


def resolve_location(location: str | Path | None) -> str:
    """The store location: the argument, else ``$SALESLEAD_STORE``, else ``./saleslead.duckdb``."""
    if location is None or str(location) == "":
        location = os.environ.get("SALESLEAD_STORE") or DEFAULT_STORE
    return str(location)
