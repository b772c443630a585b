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

import json
import pickle
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from saleslead.settings import Settings
from saleslead.store.ibis_store import Store
from saleslead.store.records import spellings
from saleslead.store.shelf import (
    ANSWER_FORMAT,
    AnswerKey,
    Shelf,
    answer_key,
    records_digest,
    settings_digest,
    shape,
    shelf_root,
    state_digest,
)
from saleslead.version import __version__

__all__ = ["ANSWER_FORMAT", "AnswerKey", "Answers", "Shelf", "shelf_root"]

M = TypeVar("M", bound=BaseModel)
#: The state of an artifact keyed by the data it saw as of its date, not by the store's state
VISIBLE = "visible:"
#: How far back (days before the newest) such fits are kept: a quarter's weekly looks back, and a margin
KEEP_FITS_DAYS = 120
T = TypeVar("T")


class Answers:
    """The seat's materialised answers over one store, for one engagement and one set of settings."""

    def __init__(
        self, store: Store, settings: Settings, engagement: str = "default", shelf: Shelf | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.engagement = engagement
        self.shelf = shelf if shelf is not None else Shelf(shelf_root(store.location))

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
        h = self.store.table("history")
        sizes = h.aggregate(n=h.count(), top=h.seq.max()).to_pyarrow().to_pylist()[0]
        ingests = [(r["ingest_id"], r["fingerprint"], r["report"]) for r in rows]
        return state_digest(ingests, self.store.count("opportunities"), sizes["n"], sizes["top"])

    def settings_digest(self, fields: Iterable[str] | None) -> tuple[tuple[str, ...], str]:
        return settings_digest(self.settings, fields)

    def records_digest(self, kinds: Iterable[str]) -> tuple[tuple[str, ...], str]:
        names = tuple(sorted(set(kinds)))
        if not names:
            return names, ""
        t = self.store.table("records")
        t = t.filter((t.engagement == self.engagement) & t.kind.isin([s for n in names for s in spellings(n)]))
        row = t.aggregate(n=t.count(), last=t.created_at.max(), top=t.version.sum()).to_pyarrow().to_pylist()[0]
        return names, records_digest(self.engagement, row["n"], row["last"], row["top"])

    def key(
        self,
        kind: str,
        as_of: date | None,
        request: BaseModel | dict[str, Any] | None,
        result_shape: str,
        *,
        settings: Iterable[str] | None = None,
        records: Iterable[str] = (),
        state: str | None = None,
    ) -> AnswerKey:
        return answer_key(
            kind,
            self.state() if state is None else state,
            as_of,
            request,
            result_shape,
            self.settings_digest(settings),
            self.records_digest(records),
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
        writes: bool = False,
    ) -> M:
        """The stored answer with this key, else ``compute()`` — stored, then returned.

        ``writes``: computing may write records of the kinds the answer reads (a call check keeps its verdicts
        as flags), so the answer is kept under the key as the records stand after it — the key a read finds
        once there is nothing left to write.
        """
        records = tuple(records)
        key = self.key(kind, as_of, request, shape(result_type), settings=settings, records=records)
        found = self.get(key, result_type)
        if found is not None:
            self.shelf.hits += 1
            return found
        self.shelf.misses += 1
        value = compute()
        if writes:
            key = self.key(kind, as_of, request, key.shape, settings=settings, records=records, state=key.state)
        self.put(key, value)
        return value

    def get(self, key: AnswerKey, result_type: type[M]) -> M | None:
        return self.shelf.answer(key, result_type)

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
        if key.get("state") != state and not str(key.get("state")).startswith(VISIBLE):
            return False
        try:
            if self.settings_digest(key["settings"])[1] != key["settings_digest"]:
                return False
        except (KeyError, ValueError):
            return False
        return bool(self.records_digest(key.get("records", []))[1] == key.get("records_digest", ""))

    def _outlived(self) -> list[dict[str, Any]]:
        """Fits keyed by what they saw (their state starts ``visible:``) never go stale, as their past does not
        change; those as of more than :data:`KEEP_FITS_DAYS` before the newest such fit are no longer read."""
        fits = []
        for kind, name, body in self.shelf.entries():
            try:
                key = json.loads(body)["key"]
            except (ValueError, KeyError):
                continue
            if str(key.get("state")).startswith(VISIBLE) and key.get("as_of"):
                fits.append({"kind": kind, "digest": name.removesuffix(".json"), **key})
        if not fits:
            return []
        newest = max(date.fromisoformat(f["as_of"]) for f in fits)
        return [f for f in fits if (newest - date.fromisoformat(f["as_of"])).days > KEEP_FITS_DAYS]

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
        gone += self._outlived()
        for entry in gone:
            self.shelf.remove(entry["kind"], entry["digest"])
        return len(gone)
