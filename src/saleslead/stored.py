"""Stored reads: the seat's answers read straight from the store's answers shelf, without loading the seat.

After ``saleslead run`` (or ``ingest --materialise``) the week's answers are on the shelf. Loading the seat
to serve one means importing Ibis, the models and their numerical stack — seconds — when the answer only
needs its key: the store's state (a few SQL queries of the DuckDB file, opened read-only), the engagement's
settings and records, the as-of date and the request. :class:`StoredReads` computes that key as the seat's
desks do — the same :class:`~saleslead.store.shelf.AnswerSpec`, request parts and digests (tests hold the
keys and the answers equal) — and returns the stored answer, or None: no answer for this key (absent or
stale), a store other than a local DuckDB file, no shelf, or anything unexpected. On None the caller asks
the seat, which computes the answer and keeps it.

Served here: the forecast, coverage, and the stalls and call checks as the meeting desk serves them (people
named, filters applied). A call check keeps each verdict as the call's flag; its answer is kept under the flags
as they stand after it, so the one found here has nothing left to write (a verdict still to keep: not found).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from saleslead.config import KEY as SETTINGS_KEY
from saleslead.config import KIND as SETTINGS_KIND
from saleslead.errors import InputError
from saleslead.forecast.schemas import (
    FORECAST_ANSWER,
    MEETING_CALL_CHECK_ANSWER,
    MEETING_STALLS_ANSWER,
    CallCheckRequest,
    CallListResult,
    ForecastRequest,
    ForecastResult,
    StallsRequest,
    StallsResult,
    forecast_answer_request,
)
from saleslead.format import use_currency
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store.gate import open_with_retry
from saleslead.store.location import SCHEMA_VERSION, resolve_location
from saleslead.store.records import spellings
from saleslead.store.shelf import (
    AnswerKey,
    AnswerSpec,
    Shelf,
    answer_key,
    records_digest,
    settings_digest,
    shape,
    shelf_root,
    state_digest,
)
from saleslead.targets.schemas import COVERAGE_ANSWER, Coverage, CoverageRequest, coverage_answer_request

if TYPE_CHECKING:
    import duckdb

__all__ = ["READS", "StoredReads", "stored_answer"]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _text(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled; DuckDB reads no other escape in a literal)."""
    return "'" + value.replace("'", "''") + "'"


def _utc_today() -> date:
    return datetime.now(UTC).date()


class StoredReads:
    """Answers on the shelf of one DuckDB store, for one engagement, read without the seat."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, shelf: Shelf, engagement: str, clock: Callable[[], date]
    ) -> None:
        self._con = con
        self.shelf = shelf
        self.engagement = engagement
        self.clock = clock

    @classmethod
    def open(
        cls,
        store: str | Path | None = None,
        engagement: str = "default",
        clock: Callable[[], date] | None = None,
        shelf: Shelf | None = None,
    ) -> StoredReads | None:
        """Open a local DuckDB store read-only for stored reads; None when it cannot be read this way.

        ``shelf`` is where the answers are (default: the store's own, see
        :func:`~saleslead.store.shelf.shelf_root`), as a seat's ``context.shelf``.
        """
        where = resolve_location(store)
        if "://" in where or not Path(where).is_file():
            return None
        if shelf is None:
            root = shelf_root(where)
            if root is None or not root.is_dir():
                return None
            shelf = Shelf(root)
        import duckdb

        con = open_with_retry(lambda: duckdb.connect(where, read_only=True), where)
        reads = cls(con, shelf, engagement, clock or _utc_today)
        try:
            if reads._schema_version() != SCHEMA_VERSION:
                reads.close()
                return None
        except Exception:
            reads.close()
            raise
        return reads

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> StoredReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the parts of a key, as the seat computes them ---------------------------------------------
    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        # No bound parameters: binding one makes DuckDB's Python client import NumPy and pandas (~1 s).
        return self._con.execute(sql).fetchall()

    def _schema_version(self) -> int:
        rows = self._rows("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    @cached_property
    def settings(self) -> Settings:
        """The engagement's stored settings (the defaults when none were set), as ``open_seat`` reads them."""
        rows = self._rows(
            f"SELECT payload FROM records WHERE engagement = {_text(self.engagement)} "
            f"AND kind = {_text(SETTINGS_KIND)} AND key = {_text(SETTINGS_KEY)} ORDER BY version DESC LIMIT 1"
        )
        return Settings.model_validate(json.loads(rows[0][0])) if rows else Settings()

    @cached_property
    def state(self) -> str:
        """The store's state digest (see :meth:`saleslead.store.answers.Answers.state`)."""
        ingests = self._rows("SELECT ingest_id, fingerprint, report FROM ingests")
        opportunities = self._rows("SELECT count(*) FROM opportunities")[0][0]
        rows, top = self._rows("SELECT count(*), max(seq) FROM history")[0]
        return state_digest(ingests, opportunities, rows, top)

    def _records_digest(self, kinds: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        names = tuple(sorted(set(kinds)))
        if not names:
            return names, ""
        count, last, versions = self._rows(
            f"SELECT count(*), max(created_at), sum(version) FROM records WHERE engagement = {_text(self.engagement)} "
            f"AND kind IN ({', '.join(_text(s) for n in names for s in spellings(n))})"
        )[0]
        return names, records_digest(self.engagement, count, last, versions)

    def key(self, spec: AnswerSpec, as_of: date, request: BaseModel | dict[str, Any], result: type[M]) -> AnswerKey:
        return answer_key(
            spec.kind,
            self.state,
            as_of,
            request,
            shape(result),
            settings_digest(self.settings, spec.settings),
            self._records_digest(spec.records),
        )

    def _get(self, spec: AnswerSpec, as_of: date, request: BaseModel | dict[str, Any], result: type[M]) -> M | None:
        return self.shelf.answer(self.key(spec, as_of, request, result), result)

    def today(self) -> date:
        """The default as-of date, as the seat's: the end of the store's last snapshot, or the clock's today if
        that is earlier (see :meth:`saleslead.context.SeatContext.today`)."""
        clock = self.clock()
        through = self.data_through()
        return clock if through is None else min(clock, through)

    @cached_property
    def _through(self) -> date | None:
        through = self._rows("SELECT max(snapshot_at) FROM ingests")[0][0]
        return None if through is None else date.fromisoformat(str(through)[:10])

    def data_through(self) -> date | None:
        """The date of the store's latest snapshot, or None when nothing was ingested (as the seat's)."""
        return self._through

    # --- the reads ----------------------------------------------------------------------------------
    def forecast(self, request: ForecastRequest) -> ForecastResult | None:
        fiscal = self.settings.fiscal_start_month
        as_of = request.as_of or self.today()
        period = Period.parse(request.period, fiscal) if request.period else Period.quarter_of(as_of, fiscal)
        return self._get(FORECAST_ANSWER, as_of, forecast_answer_request(request, period.name), ForecastResult)

    def coverage(self, request: CoverageRequest) -> Coverage | None:
        period = Period.parse(request.period, self.settings.fiscal_start_month)
        as_of = request.as_of or self.today()
        return self._get(COVERAGE_ANSWER, as_of, coverage_answer_request(request, period.name), Coverage)

    def stalls(self, request: StallsRequest) -> StallsResult | None:
        return self._get(MEETING_STALLS_ANSWER, request.as_of or self.today(), request, StallsResult)

    def call_check(self, request: CallCheckRequest) -> CallListResult | None:
        if request.period:
            Period.parse(request.period, self.settings.fiscal_start_month)  # a bad period: the seat's error
        return self._get(MEETING_CALL_CHECK_ANSWER, request.as_of or self.today(), request, CallListResult)


#: the actions (by id) a stored read can answer, and the read that does
READS: dict[str, Callable[[StoredReads, Any], BaseModel | None]] = {
    "forecast": StoredReads.forecast,
    "coverage": StoredReads.coverage,
    "stalls": StoredReads.stalls,
    "call_check": StoredReads.call_check,
}


def stored_answer(
    read: Callable[[StoredReads], T | None],
    store: str | Path | None = None,
    engagement: str = "default",
    clock: Callable[[], date] | None = None,
) -> T | None:
    """``read`` of the stored answers, or None when the seat must answer (see the module's note).

    When it answers, amounts are written in the engagement's currency from then on, as after opening the seat.
    A bad request (an unknown period) raises its :class:`~saleslead.errors.InputError` as the seat would;
    any other failure only means the seat answers instead.
    """
    try:
        with _opened(store, engagement, clock) as reads:
            found = None if reads is None else read(reads)
            if found is not None and reads is not None:
                use_currency(reads.settings.currency)  # as opening the seat does: amounts in the seat's currency
            return found
    except InputError:
        raise
    except Exception:
        return None


@contextmanager
def _opened(
    store: str | Path | None, engagement: str, clock: Callable[[], date] | None
) -> Iterator[StoredReads | None]:
    reads = StoredReads.open(store, engagement, clock)
    try:
        yield reads
    finally:
        if reads is not None:
            reads.close()
