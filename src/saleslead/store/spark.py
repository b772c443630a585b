"""The store on Spark: the org's facts served by a Spark session, written through a local DuckDB file.

Plain Spark tables have no transactions and no ``DELETE``, and the store's write path needs both (an
ingest or a sync lands whole or not at all; deleted deals leave). So a Spark store has two parts:

* **the writer**: a DuckDB file holding every table, written exactly as a DuckDB store is (the same
  transactions, checks and merge); the seat's records, the ingest log and the schema version live only here;
* **the lake**: one Parquet file per fact table (``opportunities``, ``history``, ``stages``, ``users``,
  ``accounts``, ``quotas``, ``activities``) in a folder Spark reads. Analytics — the funnel measures, the
  forecast's deal book, coverage, the roster — read the facts from Spark (:meth:`SparkStore.table`).

A write republishes the fact tables it changed: inside the writer's transaction, before ``COMMIT``, each is
copied to a new Parquet file and the writer's ``meta`` points at it (``lake:<table>``), so the pointers
change in the same transaction as the data. After the commit the Spark views move to the new files and
the old files are removed; a failed write removes the new files and leaves the old ones in place.
Readers inside a write (the merge reading the stored history) read the writer, which sees its own
uncommitted rows.

Open one with a URL (``Store.open("spark://local[2]?writer=org.duckdb")``, the master may also be
``host:port`` of a standalone cluster or ``yarn``) or hand it a session (:meth:`SparkStore.attach`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import ibis.expr.types as ir
import pyarrow as pa

from saleslead.errors import StoreError
from saleslead.store.ibis_store import Store

__all__ = [
    "FACTS",
    "SESSION_DEFAULTS",
    "SPARK_SCHEME",
    "SparkLocation",
    "SparkStore",
    "parse_spark_url",
    "spark_session",
]

SPARK_SCHEME = "spark://"
#: the tables Spark serves; ``meta``, ``ingests`` and ``records`` stay on the writer only
FACTS = ("opportunities", "history", "stages", "users", "accounts", "quotas", "activities")
_WRITES = re.compile(r"^\s*(?:DELETE\s+FROM|INSERT\s+INTO)\s+(\w+)", re.IGNORECASE)
#: what a session the store starts is set to unless the URL says otherwise: timestamps in UTC (as the
#: writer keeps them), and results brought to Python through Arrow (column batches, not row by row: the
#: forecast's deal book at 100 k deals came back in 25 s instead of 49 s)
SESSION_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
_POINTER = "lake:"
_STAMP = "lake_stamp"


@dataclass(frozen=True)
class SparkLocation:
    """Where a Spark store lives: the Spark master, the writer file, the lake folder, and Spark settings."""

    master: str
    writer: Path
    lake: Path
    conf: dict[str, str] = field(default_factory=dict)


def parse_spark_url(url: str) -> SparkLocation:
    """``spark://MASTER?writer=PATH&lake=DIR&spark.some.setting=VALUE``.

    ``MASTER`` is ``local``, ``local[N]``, ``yarn`` or ``host:port`` (a standalone master, ``spark://host:port``);
    ``writer`` defaults to ``./saleslead.duckdb``, ``lake`` to ``<writer>.lake`` beside it; parameters named
    ``spark.*`` become the session's settings.
    """
    if not url.startswith(SPARK_SCHEME):
        raise StoreError(f"not a Spark store URL: {url!r}", hint="a Spark store URL starts with spark://")
    master, _, query = url[len(SPARK_SCHEME) :].partition("?")
    master = master or "local[*]"
    if not (master.startswith("local") or master == "yarn"):
        master = SPARK_SCHEME + master
    params: dict[str, str] = {}
    conf: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.startswith("spark."):
            conf[key] = value
        elif key in ("writer", "lake"):
            params[key] = value
        else:
            raise StoreError(
                f"unknown parameter {key!r} in the Spark store URL",
                hint="known: writer=PATH (the DuckDB file writes go to), lake=DIR (the Parquet files Spark reads), "
                "and spark.* settings",
            )
    writer = Path(params.get("writer") or "saleslead.duckdb")
    lake = Path(params["lake"]) if params.get("lake") else writer.with_name(writer.name + ".lake")
    return SparkLocation(master, writer, lake, conf)


def spark_session(location: SparkLocation) -> Any:
    """The Spark session for a location (an existing session in this process is reused, as Spark does)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise StoreError(
            "a spark:// store needs pyspark", hint="pip install 'saleslead[spark]' and a Java runtime (Java 17+)"
        ) from exc
    builder = SparkSession.builder.master(location.master).appName("saleslead")
    for key, value in {**SESSION_DEFAULTS, **location.conf}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM or the master refused: ours at the boundary
        raise StoreError(
            f"cannot start a Spark session on {location.master}: {str(exc).splitlines()[0]}",
            hint="check the master URL and that a Java runtime is installed",
        ) from exc


class SparkStore(Store):
    """A store whose facts Spark serves and whose writes go through a local DuckDB file (see the module)."""

    def __init__(self, writer: Any, location: str, spark: Any, lake: Path) -> None:
        super().__init__(writer, location)
        self._spark = spark
        self._lake = lake
        self._token = uuid.uuid4().hex[:10]
        self._views: dict[str, str] = {}  # fact table -> Spark view
        self._files: dict[str, str] = {}  # fact table -> its file in the lake
        self._dirty: set[str] = set()

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open_url(cls, url: str, *, read_only: bool = False) -> SparkStore:
        location = parse_spark_url(url)
        return cls.attach(spark_session(location), location.writer, location.lake, read_only=read_only, url=url)

    @classmethod
    def attach(
        cls,
        session: Any,
        writer: str | Path,
        lake: str | Path | None = None,
        *,
        read_only: bool = False,
        url: str | None = None,
    ) -> SparkStore:
        """A Spark store on an existing ``SparkSession``: writes to ``writer`` (a DuckDB file), facts in ``lake``."""
        import ibis

        writer = Path(writer)
        lake = Path(lake) if lake is not None else writer.with_name(writer.name + ".lake")
        plain = Store.open(writer, read_only=read_only)
        store = cls(plain.backend, url or f"{SPARK_SCHEME}?writer={writer}&lake={lake}", None, lake)
        store._lease, plain._lease = plain._lease, None
        try:
            store._spark = ibis.pyspark.connect(session)
            store._serve(read_only)
        except BaseException:
            store.close(publish=False)
            raise
        return store

    def _serve(self, read_only: bool) -> None:
        """Point Spark at the lake's files; publish the facts first when the lake is missing or stale."""
        pointers = self._pointers()
        fresh = all(name in pointers and (self._lake / pointers[name]).exists() for name in FACTS)
        if not (fresh and pointers.get(_STAMP) == self._stamp()):
            if read_only:
                raise StoreError(
                    f"the Spark lake {self._lake} does not hold the store's current facts",
                    hint="open the store once for writing (e.g. `saleslead status --store spark://…`) to publish them",
                )
            with self.transaction():
                self._dirty.update(FACTS)
            pointers = self._pointers()
        self._register({name: pointers[name] for name in FACTS})

    # --- reading ---------------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        """The Spark backend (Ibis) analytics run on; :attr:`writer` is the DuckDB file writes go to."""
        return self._spark

    @property
    def writer(self) -> Any:
        return self._con

    @property
    def engine(self) -> str:
        return "pyspark"

    @property
    def lake(self) -> Path:
        return self._lake

    def table(self, name: str) -> ir.Table:
        """Facts from Spark; inside a write, and for the writer's own tables, from the DuckDB file."""
        if name in FACTS and not self._in_transaction and name in self._views:
            return self._spark.table(self._views[name])
        return super().table(name)

    # --- writing ---------------------------------------------------------------------------------
    def _sql(self, statement: str) -> None:
        match = _WRITES.match(statement)
        if match:
            self._dirty.add(match.group(1).lower())
        super()._sql(statement)

    def insert(self, name: str, rows: pa.Table | ir.Table) -> None:
        self._dirty.add(name)
        super().insert(name, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self._dirty = set()
        fresh: dict[str, str] = {}
        try:
            with super().transaction():
                yield
                self._publish(sorted(self._dirty & set(FACTS)), fresh)
        except BaseException:
            for name in fresh.values():  # files written for a write that did not land
                (self._lake / name).unlink(missing_ok=True)
            raise
        finally:
            self._dirty = set()
        if fresh:
            old = {name: self._files.get(name) for name in fresh}
            self._register(fresh)
            for name, path in old.items():
                if path and path != fresh[name]:
                    (self._lake / path).unlink(missing_ok=True)

    def _publish(self, names: list[str], fresh: dict[str, str]) -> None:
        """Inside the writer's transaction: each changed fact table to a new Parquet file, pointed at by meta."""
        if not names:
            return
        self._lake.mkdir(parents=True, exist_ok=True)
        con = self._con.con
        for name in names:
            file = f"{name}-{uuid.uuid4().hex[:12]}.parquet"
            fresh[name] = file
            target = str((self._lake / file).resolve()).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {name}) TO '{target}' (FORMAT parquet)")
        keys = [_POINTER + name for name in fresh] + [_STAMP]
        values = [*fresh.values(), self._stamp()]
        quoted = ", ".join("'" + key + "'" for key in keys)
        super()._sql(f"DELETE FROM meta WHERE key IN ({quoted})")
        self._con.insert("meta", pa.table({"key": keys, "value": values}))

    def _stamp(self) -> str:
        """The facts' row counts and the last ingest: a lake written by another writer shows as stale."""
        con = self._con.con
        counts = [str(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in (*FACTS, "ingests")]
        last = con.execute("SELECT max(ingest_id) FROM ingests").fetchone()[0]
        return "|".join([*counts, str(last)])

    def _pointers(self) -> dict[str, str]:
        rows = self._con.con.execute("SELECT key, value FROM meta WHERE key LIKE 'lake%'").fetchall()
        return {str(key).removeprefix(_POINTER): str(value) for key, value in rows}

    def _register(self, files: dict[str, str]) -> None:
        """Spark temporary views (named per store, so stores can share a session) over the lake's files."""
        session = self._spark._session
        for name, file in files.items():
            view = f"saleslead_{self._token}_{name}"
            session.read.parquet(str((self._lake / file).resolve())).createOrReplaceTempView(view)
            self._views[name] = view
            self._files[name] = file

    def close(self, *, publish: bool = True) -> None:
        spark = getattr(self, "_spark", None)
        if spark is not None:
            with suppress(Exception):  # the session may be gone already; the views go with it
                for view in self._views.values():
                    spark._session.catalog.dropTempView(view)
        self._views = {}
        super().close(publish=publish)


Store.openers[SPARK_SCHEME] = lambda url, read_only: SparkStore.open_url(url, read_only=read_only)
