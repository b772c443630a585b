"""The store: the org's history, snapshots and the seat's own records, behind Ibis."""

from saleslead.store.ibis_store import DEFAULT_STORE, IngestOutcome, Store, resolve_location

__all__ = ["DEFAULT_STORE", "IngestOutcome", "Store", "resolve_location"]
