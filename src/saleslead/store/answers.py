"""Materialised answers: what the seat computed, kept beside the store and keyed by everything it depends on.

A read of the seat (the forecast, coverage, stalls, a call's check, …) is a function of the store's
contents, the as-of date, some of the settings, the request and — for some — the seat's own records
(a targets plan, the calls). :class:`Answers` keys each computed result by exactly those:

* ``state`` — a digest of the ingests that changed the store (an ingest that added nothing is left out);
* ``as_of`` — the date the answer is computed as of;
* ``settings`` — the digest of only the settings fields the kind reads (a new guard threshold does not
  make stalls stale; a new stall floor does not make the forecast stale; every field but the stage overrides
  and segment rules, which only the next ingest reads, when the kind does not say);
* ``records`` — the digest of only the record kinds the kind reads (a new targets plan makes coverage stale,
  not the forecast);
* ``request`` — the rest of the request, and the shape of the result (its JSON schema) and the format.

A read answers from a stored result with the same key, else computes, stores and returns it, so a new
ingest or a changed setting makes exactly the answers that depend on it stale: their key no longer
matches, and the next read computes them afresh. Fitted artifacts (a forecast's deal model and
calibration) are kept the same way, as pickles, and reused across scenario counts, calls and checks.

Where: a folder beside a DuckDB file (``saleslead.duckdb.answers/``), for other engines a folder in the
user's cache, or ``$SALESLEAD_ANSWERS``; in memory for an in-memory store. Each answer is one file written
to a temporary name and renamed into place, so a reader never sees half an answer and readers in other
processes never need the store's write lock. The folder is the store's: only the store's owner writes it
(it is created private), as pickles are trusted like the store itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from saleslead.settings import INGEST_FIELDS, Settings
from saleslead.store.ibis_store import Store
from saleslead.store.records import spellings
from saleslead.version import __version__

__all__ = ["ANSWER_FORMAT", "AnswerKey", "Answers", "Shelf", "shelf_root"]

#: Bumped when the layout of a stored answer changes: older answers are then never matched.
ANSWER_FORMAT = 1

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@functools.cache
def _shape(model: type[BaseModel]) -> str:
    """A digest of a result model's JSON schema: a result whose shape changed is never served from an old one."""
    return _digest(model.model_json_schema())


@dataclass(frozen=True)
class AnswerKey:
    """Everything one answer depends on; :attr:`digest` names it on the shelf."""

    kind: str
    state: str
    as_of: date | None
    settings: tuple[str, ...]
    settings_digest: str
    records: tuple[str, ...]
    records_digest: str
    request: str
    shape: str

    @property
    def digest(self) -> str:
        return _digest(
            ANSWER_FORMAT,
            __version__,
            self.kind,
            self.state,
            self.as_of,
            self.settings_digest,
            self.records_digest,
            self.request,
            self.shape,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": self.state,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "settings": list(self.settings),
            "settings_digest": self.settings_digest,
            "records": list(self.records),
            "records_digest": self.records_digest,
            "request": self.request,
            "shape": self.shape,
        }


def shelf_root(store: Store) -> Path | None:
    """Where a store's answers live: ``$SALESLEAD_ANSWERS``, a folder beside a DuckDB file, or the user's cache.

    None (kept in memory only) for an in-memory store or when ``$SALESLEAD_ANSWERS`` is ``off``.
    """
    chosen = os.environ.get("SALESLEAD_ANSWERS")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen) / _digest(store.location)[:16]
    where = store.location
    if where in (":memory:", "") or where.startswith("duckdb://:memory:") or where == "duckdb://":
        return None
    if "://" not in where:
        return Path(where + ".answers")
    if where.startswith("spark://"):  # beside the Spark store's writer file
        from saleslead.store.spark import parse_spark_url

        return Path(str(parse_spark_url(where).writer) + ".answers")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "saleslead" / "answers" / _digest(where)[:16]


class Shelf:
    """Files of answers (JSON) and artifacts (pickles), each written whole under its key's digest."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._memory: dict[str, bytes] = {}
        #: reads through this shelf: answered from it, computed (and kept)
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, digest: str, suffix: str) -> Path:
        assert self.root is not None
        return self.root / kind / f"{digest}{suffix}"

    def read(self, kind: str, digest: str, suffix: str) -> bytes | None:
        if self.root is None:
            return self._memory.get(f"{kind}/{digest}{suffix}")
        try:
            return self._path(kind, digest, suffix).read_bytes()
        except OSError:
            return None

    def write(self, kind: str, digest: str, suffix: str, body: bytes) -> None:
        if self.root is None:
            self._memory[f"{kind}/{digest}{suffix}"] = body
            return
        path = self._path(kind, digest, suffix)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temp, path)
        except OSError:
            # A shelf that cannot be written (read-only media, full disk) leaves the answer computed, not kept.
            return

    def entries(self) -> Iterator[tuple[str, str, bytes]]:
        """(kind, file name, body) of every stored answer's description (the ``.json`` files)."""
        if self.root is None:
            for name, body in self._memory.items():
                if name.endswith(".json"):
                    kind, _, file = name.partition("/")
                    yield kind, file, body
            return
        if not self.root.exists():
            return
        for path in sorted(self.root.glob("*/*.json")):
            try:
                yield path.parent.name, path.name, path.read_bytes()
            except OSError:
                continue

    def remove(self, kind: str, digest: str) -> None:
        if self.root is None:
            for suffix in (".json", ".pkl"):
                self._memory.pop(f"{kind}/{digest}{suffix}", None)
            return
        for suffix in (".json", ".pkl"):
            self._path(kind, digest, suffix).unlink(missing_ok=True)


class Answers:
    """The seat's materialised answers over one store, for one engagement and one set of settings."""

    def __init__(
        self, store: Store, settings: Settings, engagement: str = "default", shelf: Shelf | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.engagement = engagement
        self.shelf = shelf if shelf is not None else Shelf(shelf_root(store))

    @property
    def hits(self) -> int:
        """Reads answered from the shelf (by every Answers over this shelf)."""
        return self.shelf.hits

    @property
    def misses(self) -> int:
        """Reads computed and kept."""
        return self.shelf.misses

    # --- what answers depend on --------------------------------------------------------------------
    def state(self) -> str:
        """A digest of the store's contents: the ingests that changed it (ids and fingerprints) and the sizes of
        the deal and history tables (a deletion outside an ingest, such as a sync's, changes those)."""
        rows = self.store.table("ingests").select("ingest_id", "fingerprint", "report").to_pyarrow().to_pylist()
        changed = [(r["ingest_id"], r["fingerprint"]) for r in rows if not _unchanged(r["report"])]
        h = self.store.table("history")
        sizes = h.aggregate(n=h.count(), top=h.seq.max()).to_pyarrow().to_pylist()[0]
        return _digest(sorted(changed), self.store.count("opportunities"), sizes["n"], sizes["top"])

    def settings_digest(self, fields: Iterable[str] | None) -> tuple[tuple[str, ...], str]:
        body = self.settings.model_dump(mode="json")
        # every field an answer can read: those read by the next ingest change the store's state instead
        every = (n for n in body if n not in INGEST_FIELDS)
        names = tuple(sorted(every)) if fields is None else tuple(sorted(fields))
        unknown = [n for n in names if n not in body]
        if unknown:
            raise ValueError(f"unknown settings fields {unknown}")
        return names, _digest({n: body[n] for n in names})

    def records_digest(self, kinds: Iterable[str]) -> tuple[tuple[str, ...], str]:
        names = tuple(sorted(set(kinds)))
        if not names:
            return names, ""
        t = self.store.table("records")
        t = t.filter((t.engagement == self.engagement) & t.kind.isin([s for n in names for s in spellings(n)]))
        row = t.aggregate(n=t.count(), last=t.created_at.max(), top=t.version.sum()).to_pyarrow().to_pylist()[0]
        return names, _digest(self.engagement, row["n"], row["last"], row["top"])

    def key(
        self,
        kind: str,
        as_of: date | None,
        request: BaseModel | dict[str, Any] | None,
        shape: str,
        *,
        settings: Iterable[str] | None = None,
        records: Iterable[str] = (),
        state: str | None = None,
    ) -> AnswerKey:
        if isinstance(request, BaseModel):
            body = request.model_dump(mode="json", exclude={"as_of"})
        else:
            body = {k: v for k, v in (request or {}).items() if k != "as_of"}
        fields, settings_digest = self.settings_digest(settings)
        record_kinds, records_digest = self.records_digest(records)
        return AnswerKey(
            kind=kind,
            state=self.state() if state is None else state,
            as_of=as_of,
            settings=fields,
            settings_digest=settings_digest,
            records=record_kinds,
            records_digest=records_digest,
            request=_digest(body),
            shape=shape,
        )

    # --- answers ----------------------------------------------------------------------------------
    def answer(
        self,
        kind: str,
        as_of: date | None,
        request: BaseModel | dict[str, Any] | None,
        result_type: type[M],
        compute: Callable[[], M],
        *,
        settings: Iterable[str] | None = None,
        records: Iterable[str] = (),
    ) -> M:
        """The stored answer with this key, else ``compute()`` — stored, then returned."""
        key = self.key(kind, as_of, request, _shape(result_type), settings=settings, records=records)
        found = self.get(key, result_type)
        if found is not None:
            self.shelf.hits += 1
            return found
        self.shelf.misses += 1
        value = compute()
        self.put(key, value)
        return value

    def get(self, key: AnswerKey, result_type: type[M]) -> M | None:
        body = self.shelf.read(key.kind, key.digest, ".json")
        if body is None:
            return None
        try:
            stored = json.loads(body)
            return result_type.model_validate(stored["result"])
        except (ValueError, KeyError, TypeError, ValidationError):
            return None  # unreadable: computed again and replaced

    def put(self, key: AnswerKey, value: BaseModel) -> None:
        body = {
            "key": key.describe(),
            "format": ANSWER_FORMAT,
            "saleslead": __version__,
            "computed_at": datetime.now(UTC).isoformat(),
            "result": value.model_dump(mode="json"),
        }
        self.shelf.write(key.kind, key.digest, ".json", json.dumps(body, separators=(",", ":")).encode())

    def artifact(
        self,
        kind: str,
        as_of: date | None,
        parts: dict[str, Any],
        build: Callable[[], T],
        *,
        settings: Iterable[str] | None = None,
        state: str | None = None,
    ) -> T:
        """A fitted artifact (pickled) with this key, else ``build()`` — kept, then returned."""
        key = self.key(kind, as_of, parts, "artifact", settings=settings, state=state)
        body = self.shelf.read(kind, key.digest, ".pkl")
        if body is not None:
            try:
                value: T = pickle.loads(body)
                self.shelf.hits += 1
                return value
            except Exception:  # a pickle of another version: built again and replaced
                pass
        self.shelf.misses += 1
        value = build()
        self.shelf.write(kind, key.digest, ".pkl", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self.shelf.write(kind, key.digest, ".json", json.dumps({"key": key.describe()}).encode())
        return value

    # --- staleness --------------------------------------------------------------------------------
    def stale(self) -> list[dict[str, Any]]:
        """The stored answers whose store state, settings or records no longer hold (never served again)."""
        state = self.state()
        out = []
        for kind, name, body in self.shelf.entries():
            try:
                key = json.loads(body)["key"]
            except (ValueError, KeyError):
                continue
            if not self._current(key, state):
                out.append({"kind": kind, "digest": name.removesuffix(".json"), **key})
        return out

    def _current(self, key: dict[str, Any], state: str) -> bool:
        if key.get("state") != state:
            return False
        try:
            if self.settings_digest(key["settings"])[1] != key["settings_digest"]:
                return False
        except (KeyError, ValueError):
            return False
        return bool(self.records_digest(key.get("records", []))[1] == key.get("records_digest", ""))

    def prune(self) -> int:
        """Remove the answers of an older store state or older records (neither ever comes back); how many.

        Answers of other settings stay: a seat opened with those settings again still reads them.
        """
        state = self.state()
        gone = [
            e
            for e in self.stale()
            if e.get("state") != state or self.records_digest(e.get("records", []))[1] != e.get("records_digest", "")
        ]
        for entry in gone:
            self.shelf.remove(entry["kind"], entry["digest"])
        return len(gone)


def _unchanged(report: str | None) -> bool:
    if not report:
        return False
    try:
        return bool(json.loads(report).get("unchanged"))
    except (ValueError, AttributeError):
        return False
