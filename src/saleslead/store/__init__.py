"""The store: the org's history, snapshots and the seat's own records, behind Ibis.

``Store``, ``IngestOutcome`` and ``SparkStore`` load the engine on first use (PEP 562), so the package's light
modules (``location``, ``shelf``, ``gate``) can be imported without it. Asking for any of them also imports
:mod:`saleslead.store.spark`, which registers ``spark://`` with ``Store.open`` (pyspark imported on use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from saleslead.store.location import DEFAULT_STORE, resolve_location

if TYPE_CHECKING:
    from saleslead.store.ibis_store import IngestOutcome, Store
    from saleslead.store.spark import SparkStore

__all__ = ["DEFAULT_STORE", "IngestOutcome", "SparkStore", "Store", "resolve_location"]


def __getattr__(name: str) -> Any:
    """``Store``, ``IngestOutcome`` and ``SparkStore``, imported when first asked for."""
    if name in ("Store", "IngestOutcome", "SparkStore"):
        from saleslead.store import ibis_store, spark

        return {"Store": ibis_store.Store, "IngestOutcome": ibis_store.IngestOutcome, "SparkStore": spark.SparkStore}[
            name
        ]
    raise AttributeError(f"module 'saleslead.store' has no attribute {name!r}")
