"""The answers shelf and the keys of its answers: what reading a stored answer needs, without the engine.

:mod:`saleslead.store.answers` computes the parts of a key from the store through Ibis and keeps answers
here; :mod:`saleslead.stored` computes the same parts with a few SQL queries of a DuckDB file and reads
answers back without loading the seat. Both compose the key with :func:`answer_key` and the digests below,
so a key is the same whichever computed it (tests hold them equal).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from saleslead.version import __version__

if TYPE_CHECKING:
    from pydantic import BaseModel

    from saleslead.settings import Settings

__all__ = [
    "ANSWER_FORMAT",
    "AnswerKey",
    "AnswerSpec",
    "Shelf",
    "answer_key",
    "digest",
    "records_digest",
    "settings_digest",
    "shape",
    "shelf_root",
    "state_digest",
    "unchanged_report",
]

#: Bumped when the layout of a stored answer changes: older answers are then never matched.
ANSWER_FORMAT = 1

M = TypeVar("M", bound="BaseModel")


def digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@functools.cache
def shape(model: type[BaseModel]) -> str:
    """A digest of a result model's JSON schema: a result whose shape changed is never served from an old one."""
    return digest(model.model_json_schema())


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
        return digest(
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


@dataclass(frozen=True)
class AnswerSpec:
    """What one kind of answer reads besides the store and its request: which settings (None: all of them)
    and which kinds of the seat's records. The desk computing the answer and a stored read share it."""

    kind: str
    settings: tuple[str, ...] | None = None
    records: tuple[str, ...] = ()


# --- the parts of a key ------------------------------------------------------------------------------
def unchanged_report(report: str | None) -> bool:
    """Whether an ingest's stored report says it changed nothing (such an ingest is left out of the state)."""
    if not report:
        return False
    try:
        return bool(json.loads(report).get("unchanged"))
    except (ValueError, AttributeError):
        return False


def state_digest(
    ingests: Iterable[tuple[int, str | None, str | None]],
    opportunities: int,
    history_rows: int,
    history_top: int | None,
) -> str:
    """The store's state: the ingests that changed it — (id, fingerprint, report) — and its table sizes."""
    changed = sorted((int(i), f) for i, f, report in ingests if not unchanged_report(report))
    return digest(changed, int(opportunities), int(history_rows), None if history_top is None else int(history_top))


def settings_digest(settings: Settings, fields: Iterable[str] | None) -> tuple[tuple[str, ...], str]:
    """The names of the settings an answer reads (when None: all but those only the next ingest reads) and the
    digest of their values."""
    from saleslead.settings import INGEST_FIELDS

    body = settings.model_dump(mode="json")
    # every field an answer can read: those read by the next ingest change the store's state instead
    every = (n for n in body if n not in INGEST_FIELDS)
    names = tuple(sorted(every)) if fields is None else tuple(sorted(fields))
    unknown = [n for n in names if n not in body]
    if unknown:
        raise ValueError(f"unknown settings fields {unknown}")
    return names, digest({n: body[n] for n in names})


def records_digest(engagement: str, count: int, last: object, versions: int | None) -> str:
    """The digest of the records an answer reads: how many, the newest time, the sum of their versions."""
    return digest(engagement, int(count), last, None if versions is None else int(versions))


def answer_key(
    kind: str,
    state: str,
    as_of: date | None,
    request: BaseModel | Mapping[str, Any] | None,
    result_shape: str,
    settings: tuple[tuple[str, ...], str],
    records: tuple[tuple[str, ...], str],
) -> AnswerKey:
    """The key of one answer from its parts (``as_of`` is its own part, never the request's)."""
    if request is None:
        body: dict[str, Any] = {}
    elif isinstance(request, Mapping):
        body = {k: v for k, v in request.items() if k != "as_of"}
    else:
        body = request.model_dump(mode="json", exclude={"as_of"})
    return AnswerKey(
        kind=kind,
        state=state,
        as_of=as_of,
        settings=settings[0],
        settings_digest=settings[1],
        records=records[0],
        records_digest=records[1],
        request=digest(body),
        shape=result_shape,
    )


# --- the shelf ---------------------------------------------------------------------------------------
def shelf_root(location: str) -> Path | None:
    """Where a store's answers live: ``$SALESLEAD_ANSWERS``, a folder beside a DuckDB file, or the user's cache.

    None (kept in memory only) for an in-memory store or when ``$SALESLEAD_ANSWERS`` is ``off``.
    """
    chosen = os.environ.get("SALESLEAD_ANSWERS")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen) / digest(location)[:16]
    if location in (":memory:", "") or location.startswith("duckdb://:memory:") or location == "duckdb://":
        return None
    if "://" not in location:
        return Path(location + ".answers")
    if location.startswith("spark://"):  # beside the Spark store's writer file
        from saleslead.store.spark import parse_spark_url

        return Path(str(parse_spark_url(location).writer) + ".answers")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "saleslead" / "answers" / digest(location)[:16]


class Shelf:
    """Files of answers (JSON) and artifacts (pickles), each written whole under its key's digest."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._memory: dict[str, bytes] = {}
        #: reads through this shelf: answered from it, computed (and kept)
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, name: str, suffix: str) -> Path:
        assert self.root is not None
        return self.root / kind / f"{name}{suffix}"

    def read(self, kind: str, name: str, suffix: str) -> bytes | None:
        if self.root is None:
            return self._memory.get(f"{kind}/{name}{suffix}")
        try:
            return self._path(kind, name, suffix).read_bytes()
        except OSError:
            return None

    def answer(self, key: AnswerKey, result_type: type[M]) -> M | None:
        """The stored answer with this key, read back as ``result_type``; None when absent or unreadable."""
        from pydantic import ValidationError

        body = self.read(key.kind, key.digest, ".json")
        if body is None:
            return None
        try:
            stored = json.loads(body)
            return result_type.model_validate(stored["result"])
        except (ValueError, KeyError, TypeError, ValidationError):
            return None  # unreadable: computed again and replaced

    def write(self, kind: str, name: str, suffix: str, body: bytes) -> None:
        if self.root is None:
            self._memory[f"{kind}/{name}{suffix}"] = body
            return
        path = self._path(kind, name, suffix)
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

    def remove(self, kind: str, name: str) -> None:
        if self.root is None:
            for suffix in (".json", ".pkl"):
                self._memory.pop(f"{kind}/{name}{suffix}", None)
            return
        for suffix in (".json", ".pkl"):
            self._path(kind, name, suffix).unlink(missing_ok=True)
