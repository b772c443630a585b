"""The store: the org's history, snapshots and the seat's own records, behind Ibis."""

from saleslead.store.ibis_store import DEFAULT_STORE, IngestOutcome, Store, resolve_location
from saleslead.store.spark import SparkStore  # registers spark:// with Store.open (pyspark imported on use)

__all__ = ["DEFAULT_STORE", "IngestOutcome", "SparkStore", "Store", "resolve_location"]
