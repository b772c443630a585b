"""The store: an Ibis connection (DuckDB file by default) holding the org's history and the seat's records.

Every ingest runs in one transaction: it is written whole or not at all, and re-ingesting the
same export adds nothing. Analytics read the tables through :meth:`Store.table` as Ibis
expressions, so aggregation runs in the engine.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, ClassVar

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import StoreError
from saleslead.ingest.canonical import CanonicalExport
from saleslead.store.connect import connect, nothing
from saleslead.store.evidence import Change, changed_deals, deal_evidence, not_older, restricted
from saleslead.store.exports import IngestOutcome, decoded, fingerprint_of, give_back_memory
from saleslead.store.faults import raise_write_fault
from saleslead.store.gate import Lease
from saleslead.store.history import candidate_events
from saleslead.store.known import known_candidates
from saleslead.store.location import DEFAULT_STORE, SCHEMA_VERSION, resolve_location
from saleslead.store.merge import merge_events
from saleslead.store.schema import MIGRATIONS, RENAMED_KINDS, TABLES

__all__ = ["DEFAULT_STORE", "IngestOutcome", "Store", "resolve_location"]


#: URL schemes served by a module of their own, imported when such a store is first opened (it registers
#: itself in :attr:`Store.openers`), so importing the store never imports them
PLUGINS: dict[str, str] = {"spark://": "saleslead.store.spark"}


class Store:
    """One store: tables of the org and the seat's own records."""

    #: URL schemes opened by a store of their own (``spark://``: registered by :mod:`saleslead.store.spark`)
    openers: ClassVar[dict[str, Callable[[str, bool], Store]]] = {}

    def __init__(self, backend: Any, location: str) -> None:
        self._con = backend
        self.location = location
        self._in_transaction = False
        self._lease: Lease | None = None

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, location: str | Path | None = None, *, read_only: bool = False) -> Store:
        """Open (and migrate) a store: a DuckDB file path, ``duckdb://…``, an Ibis URL such as ``postgres://…``,
        or ``spark://MASTER?writer=PATH`` (facts served by Spark: :mod:`saleslead.store.spark`).

        A DuckDB file is opened as :mod:`saleslead.store.gate` says: a reader opens the file as it is, a writer
        queues at the gate and works on a copy that its close publishes.
        """
        where = resolve_location(location)
        opener = cls._opener_for(where)
        if opener is not None:
            return opener(where, read_only)
        backend, lease = connect(where, read_only)
        store = cls(backend, where)
        store._lease = lease
        try:
            store._check_kind(lease.read_only if lease is not None else read_only)
            if lease is None or not lease.read_only:
                store.migrate()
        except BaseException:
            store.close(publish=False)
            raise
        return store

    @classmethod
    def _opener_for(cls, where: str) -> Callable[[str, bool], Store] | None:
        """The opener registered for the location's URL scheme (importing its module the first time), if any."""
        for scheme, module in PLUGINS.items():  # a scheme's module registers its opener when first imported
            if where.startswith(scheme) and scheme not in cls.openers:
                importlib.import_module(module)
        for scheme, opener in cls.openers.items():  # e.g. spark:// (saleslead.store.spark)
            if where.startswith(scheme):
                return opener
        return None

    def _check_kind(self, read_only: bool) -> None:
        """Refuse a database that is not a saleslead store, or one written by a newer saleslead."""
        tables = set(self._con.list_tables())
        if "meta" not in tables and (tables or read_only):
            what = f"tables {', '.join(sorted(tables)[:5])}" if tables else "no tables at all"
            raise StoreError(
                f"the database at {self.location} is not a saleslead store (it holds {what})",
                hint="point --store (or SALESLEAD_STORE) at a saleslead store, or run `saleslead ingest` or "
                "`saleslead demo` with a new path to make one; this file was left as it is",
            )
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store at {self.location} has schema version {current}, newer than this saleslead "
                f"({SCHEMA_VERSION})",
                hint="upgrade saleslead (pip install -U saleslead); the store was left as it is",
            )
        missing = [name for name in TABLES if name not in tables] if current == SCHEMA_VERSION else []
        if missing:
            raise StoreError(
                f"the store at {self.location} lacks the table(s) {', '.join(missing)}",
                hint="the file is damaged or was changed by hand; restore it from a backup or ingest into a new store",
            )

    def close(self, *, publish: bool = True) -> None:
        """Close; a writer's outermost close publishes its changes (``publish=False`` discards them)."""
        # Tables cached with ``.cache()`` are temporary and go with the connection: their finalizers would
        # otherwise try to drop them later through the closed connection.
        entries = getattr(self._con, "_cache_name_to_entry", None)
        if isinstance(entries, dict):
            for entry in list(entries.values()):
                entry.finalizer.detach()
            entries.clear()
            getattr(self._con, "_cache_op_to_entry", {}).clear()
        disconnect = getattr(self._con, "disconnect", None) or nothing
        lease, self._lease = self._lease, None
        if lease is None:
            disconnect()
            return
        lease.close(lambda: self._sql("FORCE CHECKPOINT"), disconnect, publish)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.close()
            return
        with suppress(StoreError):  # the error already under way is the news
            self.close()

    @property
    def backend(self) -> Any:
        """The Ibis backend (for engine-side analytics)."""
        return self._con

    @property
    def read_only(self) -> bool:
        """Opened to read only (a read that would record something, such as a new flag, leaves it to a writer)."""
        return self._lease is not None and self._lease.read_only

    @property
    def engine(self) -> str:
        """The engine analytics run on (``duckdb``, ``postgres``, ``pyspark``)."""
        return str(self._con.name)

    @property
    def _duck(self) -> bool:
        """Writes go to DuckDB (its fast paths apply): a DuckDB store, or a Spark store's writer."""
        return str(self._con.name) == "duckdb"

    def schema_version(self) -> int:
        if "meta" not in self._con.list_tables():
            return 0
        rows = self._con.table("meta").filter(lambda t: t.key == "schema_version").execute()
        return int(rows["value"].iloc[0]) if len(rows) else 0

    def migrate(self) -> None:
        """Bring the schema to :data:`SCHEMA_VERSION`, one migration at a time."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store at {self.location} has schema version {current}, newer than this saleslead "
                f"({SCHEMA_VERSION})",
                hint="upgrade saleslead",
            )
        for version in range(current, SCHEMA_VERSION):
            with self.transaction():
                existing = set(self._con.list_tables())
                for name, schema in MIGRATIONS[version].items():
                    if name not in existing:
                        self._con.create_table(name, schema=schema)
                self._sql("DELETE FROM meta WHERE key = 'schema_version'")
                self._con.insert("meta", pa.table({"key": ["schema_version"], "value": [str(version + 1)]}))
        self.rename_kinds()

    def rename_kinds(self) -> int:
        """Respell the records of kinds an earlier version spelt otherwise (:data:`RENAMED_KINDS`); how many.

        Only the kind changes: every version, key, payload and status is kept."""
        t = self._con.table("records")
        found = int(t.filter(t.kind.isin(list(RENAMED_KINDS))).count().execute())
        if found:
            with self.transaction():
                for old, new in RENAMED_KINDS.items():
                    self._sql(f"UPDATE records SET kind = '{new}' WHERE kind = '{old}'")
        return found

    # --- plumbing --------------------------------------------------------------------------
    def _sql(self, statement: str) -> None:
        result = self._con.raw_sql(statement)
        # DuckDB hands back its connection itself; other engines a cursor to release.
        if result is not getattr(self._con, "con", None):
            close = getattr(result, "close", None)
            if close is not None:
                close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. Nested use joins the outer transaction."""
        if self._in_transaction:
            yield
            return
        self._sql("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException as error:
            self._in_transaction = False
            with suppress(Exception):  # the engine may already have aborted it; the first error is the news
                self._sql("ROLLBACK")
            raise_write_fault(error, self.location)
            raise
        self._in_transaction = False
        try:
            self._sql("COMMIT")
        except Exception as error:
            with suppress(Exception):  # a failed commit leaves nothing to roll back on most engines
                self._sql("ROLLBACK")
            raise_write_fault(error, self.location)
            raise

    def table(self, name: str) -> ir.Table:
        if name not in TABLES:
            raise StoreError(f"unknown table {name!r}")
        return self._con.table(name)

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def _stage(self, name: str, table: pa.Table) -> ir.Table:
        return self._con.create_table(name, table, temp=True, overwrite=True)

    def _drop(self, *names: str) -> None:
        for name in names:
            self._sql(f"DROP TABLE IF EXISTS {name}")

    def insert(self, name: str, rows: pa.Table | ir.Table) -> None:
        """Append rows to a table (columns in the table's order); Arrow text may be dictionary-encoded."""
        columns = list(TABLES[name].names)
        if isinstance(rows, pa.Table):
            rows = rows.select(columns)
            if self._duck:
                with self._one_writer():
                    self._append_arrow(name, rows)
                return
            rows = decoded(rows)
        else:
            rows = rows.select(*columns)
        with self._one_writer():
            self._con.insert(name, rows)

    def insert_parts(self, name: str, parts: Iterable[pa.Table]) -> None:
        """Append tables of one schema, built in turn, as one insert (DuckDB: one stream; an insert per table would
        leave part-filled row groups that the commit rewrites, at 1 M deals costing more than the inserts)."""
        if not self._duck:
            for part in parts:
                self.insert(name, part)
            return
        selected = (part.select(list(TABLES[name].names)) for part in parts)
        if (first := next(selected, None)) is not None:
            batches = chain(first.to_batches(), (batch for part in selected for batch in part.to_batches()))
            with self._one_writer():
                self._append_arrow(name, pa.RecordBatchReader.from_batches(first.schema, batches))

    def _append_arrow(self, name: str, rows: pa.Table | pa.RecordBatchReader) -> None:
        """DuckDB: scan the Arrow table in place (dictionary-encoded text included) into the table."""
        with self._registered(rows):
            self._sql(f"INSERT INTO {name} SELECT * FROM _incoming_rows")

    @contextmanager
    def _registered(self, rows: pa.Table | pa.RecordBatchReader) -> Iterator[None]:
        """DuckDB: the Arrow rows visible to SQL as ``_incoming_rows`` (no copy) while the block runs."""
        con = self._con.con
        con.register("_incoming_rows", rows)
        try:
            yield
        finally:
            con.unregister("_incoming_rows")

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        """DuckDB: append without preserving insertion order.

        An order-preserving parallel append to a DuckDB file writes its row groups twice (once while
        inserting, again at commit); appended in any order, both cores insert and the commit is nearly
        free. No reader relies on the physical order of a table: every one that needs an order sorts.
        """
        if not self._duck:
            yield
            return
        con = self._con.con
        preserve = str(con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0])
        con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            con.execute(f"SET preserve_insertion_order = {preserve}")

    # --- ingest ------------------------------------------------------------------------------
    def ingest(self, export: CanonicalExport, report: dict[str, Any] | None = None) -> IngestOutcome:
        """Write one export: all or nothing; nothing changes when the same export comes again.

        Only what differs from the store is written: the deals whose evidence hash differs
        (:mod:`saleslead.store.evidence`) have their row replaced and their history merged; users, accounts
        and quotas not stored exactly as they are replaced; activities not stored yet added.
        """
        snapshot = export.snapshot_at.replace(tzinfo=None)
        fingerprint = fingerprint_of(export)
        try:
            with self.transaction():
                ingest_id = self._next_id("ingests", "ingest_id")
                before = self.count("opportunities")
                # The same source, moment and sizes as an earlier ingest: whether any value differs decides
                # ``unchanged`` (an account renamed is a change); otherwise it is a change by construction.
                seen = self._fingerprint_seen(fingerprint)
                change = changed_deals(deal_evidence(export), self._stored_evidence())
                # An export older than the store's newest may place events before known ones: all its deals merge.
                every = change.everything or not not_older(snapshot, self._newest_snapshot())
                part = export if every else restricted(export, change.differs, orphans=change.orphans)
                self._upsert_opportunities(part.opportunities, snapshot)
                added = self._add_history(part, ingest_id, whole=every)
                self._keep_evidence(change)
                drift = self._merge_stages(export)
                drift += self._upsert("users", export.users, "user_id")
                drift += self._upsert("accounts", export.accounts, "account_id")
                drift += self._merge_rows("quotas", export.quotas, ("owner_id", "start_date"))
                drift += self._merge_rows("activities", part.activities, ("opportunity_id", "activity_date"))
                # New: not stored before; changed: stored, but not as this export has it (or nothing tells).
                new = self.count("opportunities") - before
                updated = change.new + change.changed - new
                unchanged = seen and added == 0 and new == 0 and updated == 0 and drift == 0
                body = dict(report or {})
                body.update(
                    {
                        "history_added": added,
                        "opportunities_new": new,
                        "opportunities_changed": updated,
                        "opportunities_unchanged": change.unchanged,
                        "unchanged": unchanged,
                    }
                )
                outcome = IngestOutcome(ingest_id, snapshot, new, updated, added, unchanged, change.unchanged)
                if unchanged:  # the store already holds exactly this export: no new ingest is recorded
                    return replace(outcome, ingest_id=ingest_id - 1)
                self._record_ingest(ingest_id, export, snapshot, fingerprint, body)
        finally:
            self._drop("_stage_opps", "_stage_events", "_stage_rows", "_stage_deals")
        return outcome

    def _record_ingest(
        self, ingest_id: int, export: CanonicalExport, snapshot: datetime, fingerprint: str, body: dict[str, Any]
    ) -> None:
        self.insert(
            "ingests",
            pa.table(
                {
                    "ingest_id": [ingest_id],
                    "source": [export.source],
                    "snapshot_at": pa.array([snapshot], pa.timestamp("us")),
                    "ingested_at": pa.array([datetime.now(UTC).replace(tzinfo=None)], pa.timestamp("us")),
                    "fingerprint": [fingerprint],
                    "report": [json.dumps(body, default=str)],
                }
            ),
        )

    def _stored_evidence(self) -> pa.Table:
        return self.table("deal_evidence").select("opportunity_id", "evidence").to_pyarrow()

    def _newest_snapshot(self) -> datetime | None:
        value = self.table("ingests").snapshot_at.max().to_pyarrow().as_py()
        return value if isinstance(value, datetime) else None

    def _keep_evidence(self, change: Change) -> None:
        """Store the evidence of the deals that differed (new ones added, changed ones replaced)."""
        if change.new + change.changed == 0:
            return
        rows = change.evidence
        if change.new + change.changed < rows.num_rows:
            rows = rows.filter(pa.array(change.differs))
        if change.changed:
            self._stage("_stage_deals", rows.select(["opportunity_id"]))
            self._sql("DELETE FROM deal_evidence WHERE opportunity_id IN (SELECT opportunity_id FROM _stage_deals)")
            self._drop("_stage_deals")
        self.insert("deal_evidence", rows)

    def remove_opportunities(self, ids: list[str]) -> int:
        """Forget deleted deals: their row, history and activities (joins an open transaction). Returns rows gone."""
        if not ids:
            return 0
        with self.transaction():
            staged = self._stage("_stage_rows", pa.table({"opportunity_id": pa.array(ids, pa.string())}))
            gone = int(self.table("opportunities").semi_join(staged, "opportunity_id").count().execute())
            for name in ("opportunities", "history", "activities", "deal_evidence"):
                self._sql(f"DELETE FROM {name} WHERE opportunity_id IN (SELECT opportunity_id FROM _stage_rows)")
            self._drop("_stage_rows")
        return gone

    def _next_id(self, table: str, column: str) -> int:
        value = self.table(table)[column].max().execute()
        return 1 if value is None or value != value else int(value) + 1

    def _fingerprint_seen(self, fingerprint: str) -> bool:
        return bool(self.table("ingests").filter(lambda t: t.fingerprint == fingerprint).count().execute())

    def _upsert_opportunities(self, opps: pa.Table, snapshot: datetime) -> None:
        """Insert new deals, replace known ones; keep the earliest sighting and any known creation date."""
        if opps.num_rows == 0:
            return
        columns = list(TABLES["opportunities"].names)
        incoming = opps.append_column(
            "first_seen_at", pa.array(np.full(opps.num_rows, np.datetime64(snapshot, "us")), pa.timestamp("us"))
        ).select(columns)
        if self.count("opportunities") == 0:
            self.insert("opportunities", incoming)
            return
        staged = self._stage("_stage_opps", incoming.select(["opportunity_id"]))
        known = self.table("opportunities").semi_join(staged, "opportunity_id")
        known_rows = known.select("opportunity_id", "created_at", "first_seen_at").to_pyarrow()
        if known_rows.num_rows:
            position = pc.index_in(incoming.column("opportunity_id"), value_set=known_rows.column("opportunity_id"))
            old_created = pc.take(known_rows.column("created_at"), position)
            old_seen = pc.take(known_rows.column("first_seen_at"), position)
            created = pc.coalesce(incoming.column("created_at"), old_created)
            seen = pc.min_element_wise(incoming.column("first_seen_at"), old_seen)
            incoming = incoming.set_column(columns.index("created_at"), "created_at", created)
            incoming = incoming.set_column(columns.index("first_seen_at"), "first_seen_at", seen)
            self._sql("DELETE FROM opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM _stage_opps)")
        self.insert("opportunities", incoming)

    def _add_history(self, export: CanonicalExport, ingest_id: int, *, whole: bool) -> int:
        """Merge the export's events into the history of its deals (``whole``: the export may touch any deal;
        otherwise it holds only the deals that changed, and only their stored history is read)."""
        candidates = candidate_events(export)
        if candidates.num_rows == 0:
            return 0
        if self.count("history") == 0:
            touched = self.table("history").limit(0).to_pyarrow()  # a first ingest: nothing stored to merge with
        else:
            stored = self.table("history")
            if not whole:  # the stored events of the changed deals, matched against nothing else
                ids = self._stage("_stage_deals", export.opportunities.select(["opportunity_id"]))
                stored = self._stage("_stage_events", stored.semi_join(ids, "opportunity_id").to_pyarrow())
            # Only the events the store does not hold yet, and the stored events of the deals they touch.
            known = known_candidates(stored, candidates, hashed=self._duck)
            candidates = candidates.filter(pa.array(~known))
            if candidates.num_rows == 0:
                return 0
            staged = self._stage("_stage_rows", candidates.select(["opportunity_id"]))
            touched = stored.semi_join(staged.distinct(), "opportunity_id").to_pyarrow()
            self._drop("_stage_rows", "_stage_events", "_stage_deals")
        had_stored = touched.num_rows > 0
        merged = merge_events(touched, candidates, self._next_id("history", "seq"), ingest_id)
        del candidates, touched  # free them before the engine takes the rows
        if merged.added == 0:
            return 0
        if had_stored:
            self._stage("_stage_rows", pa.table({"opportunity_id": merged.rewritten}))
            self._sql("DELETE FROM history WHERE opportunity_id IN (SELECT opportunity_id FROM _stage_rows)")
            self._drop("_stage_rows")
        self.insert_parts("history", merged.slices())
        added = merged.added
        del merged
        give_back_memory()
        return added

    def _merge_stages(self, export: CanonicalExport) -> int:
        """Replace the stage ladder when the export's differs (returns 1), else leave it (0)."""
        if not export.stages:
            return 0
        rows = pa.table(
            {
                "name": [s.name for s in export.stages],
                "stage_order": [s.order for s in export.stages],
                "is_closed": [s.is_closed for s in export.stages],
                "is_won": [s.is_won for s in export.stages],
                "probability": pa.array([s.probability for s in export.stages], pa.float64()),
            }
        )
        stored = self.table("stages").to_pyarrow().select(rows.column_names)
        if stored.sort_by("stage_order").to_pylist() == rows.sort_by("stage_order").to_pylist():
            return 0
        self._sql("DELETE FROM stages")
        self.insert("stages", rows)
        return 1

    def _upsert(self, name: str, rows: pa.Table, key: str) -> int:
        """Replace the rows whose key is stored with other values, add the others; returns how many that was."""
        if rows.num_rows == 0:
            return 0
        rows = rows.select(list(TABLES[name].names))
        if self.count(name) == 0:
            self.insert(name, rows)
            return int(rows.num_rows)
        if self._duck:  # the Arrow rows scanned in place, only the differing ones staged
            with self._registered(rows):
                self._sql(f"CREATE TEMP TABLE _stage_rows AS SELECT * FROM _incoming_rows EXCEPT SELECT * FROM {name}")
        else:
            staged = self._stage("_stage_rows", decoded(rows))
            self._stage("_stage_rows", staged.cast(self.table(name).schema()).difference(self.table(name)).to_pyarrow())
        return self._replace_staged(name, (key,))

    def _replace_staged(self, name: str, key: tuple[str, ...]) -> int:
        """Write the rows of ``_stage_rows`` over the stored rows with the same key; returns how many.

        A key of every column (activities) has no other values to replace: the rows are only added."""
        size = int(self._con.table("_stage_rows").count().execute())
        if size and len(key) < len(TABLES[name].names):
            same = " AND ".join(f"{name}.{k} = s.{k}" for k in key)
            self._sql(f"DELETE FROM {name} WHERE EXISTS (SELECT 1 FROM _stage_rows s WHERE {same})")
        if size:
            with self._one_writer():
                self._sql(f"INSERT INTO {name} SELECT {', '.join(TABLES[name].names)} FROM _stage_rows")
        self._drop("_stage_rows")
        return size

    def _merge_rows(self, name: str, rows: pa.Table, key: tuple[str, ...]) -> int:
        """One row per key (the largest values): replaces a stored row with other values (quotas), adds rows of
        a new key (activities). Returns how many rows that was."""
        if rows.num_rows == 0:
            return 0
        columns = list(TABLES[name].names)
        values = [c for c in columns if c not in key]
        empty = self.count(name) == 0
        if self._duck:  # grouped in the engine straight into the table, never back through Python
            picked = ", ".join([*key, *(f"max({c}) AS {c}" for c in values)])
            grouped = f"SELECT {picked} FROM _incoming_rows GROUP BY {', '.join(key)}"
            with self._registered(rows.select(columns)), self._one_writer():
                if empty:
                    self._sql(f"INSERT INTO {name} {grouped}")
                    return self.count(name)
                self._sql(f"CREATE TEMP TABLE _stage_rows AS {grouped} EXCEPT SELECT {', '.join(columns)} FROM {name}")
            return self._replace_staged(name, key)
        grouped_rows = self._group(rows.select(columns), key, values)
        if empty:
            self.insert(name, grouped_rows)
            return int(grouped_rows.num_rows)
        staged = self._stage("_stage_rows", grouped_rows)
        self._stage("_stage_rows", staged.cast(self.table(name).schema()).difference(self.table(name)).to_pyarrow())
        return self._replace_staged(name, key)

    def _group(self, rows: pa.Table, key: tuple[str, ...], values: list[str]) -> pa.Table:
        """One row per key with the largest of each value (in Arrow, for engines other than DuckDB)."""
        grouped = rows.group_by(list(key)).aggregate([(c, "max") for c in values])
        grouped = grouped.rename_columns(
            [f"{c}_max" if f"{c}_max" in grouped.column_names else c for c in grouped.column_names]
        )
        return pa.table({c: grouped.column(f"{c}_max" if c in values else c) for c in rows.column_names})

    # --- reporting -------------------------------------------------------------------------------
    def ingests(self) -> list[dict[str, Any]]:
        frame: list[dict[str, Any]] = self.table("ingests").order_by("ingest_id").to_pyarrow().to_pylist()
        for row in frame:
            row["report"] = json.loads(row["report"]) if row["report"] else {}
        return frame
