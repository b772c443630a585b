"""Materialise the week: compute once, and keep on the store's answers shelf, what every read of the week needs.

After the weekly ``run`` (and an ``ingest --materialise``) the seat computes the answers its faces read —
the forecast of the current and the next quarter, every open deal's probability, coverage, stalls, the
strategy scorecard and the roster — with the same requests the CLI, the dashboard and the MCP tools make
by default, so those reads are answered from the shelf. Answers of an older store state are pruned.

Coverage is also kept as of each earlier week that ``targets defend`` and the dashboard's coverage page look
back on: each week's outlook needs the forecast's fits as of that day, and keeping them here is what lets
that page answer in seconds on a fresh server (after the weekly ``run`` they are already kept, by its defence
of the targets: found, not fitted again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from saleslead.context import Progress, SeatContext
from saleslead.errors import InsufficientDataError, NotFoundError
from saleslead.forecast.schemas import ForecastRequest, ForecastResult, StallsRequest, StallsResult
from saleslead.periods import Period
from saleslead.roster.desk import RosterShowRequest, RosterView
from saleslead.strategy.scorecard import Scorecard, ScoreRequest
from saleslead.targets.coverage import Coverage
from saleslead.targets.desk import CoverageRequest, DefendRequest

__all__ = ["MaterialiseReport", "MaterialisedAnswer", "materialise_week"]


class MaterialisedAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    request: str
    seconds: float
    available: bool
    note: str | None = None


class WeekReads(Protocol):
    """What materialising the week needs of the seat: its context and the reads it keeps."""

    @property
    def context(self) -> SeatContext: ...

    def period(self, text: str | None = None, as_of: date | None = None) -> Period: ...

    def forecast(self, request: ForecastRequest, progress: Progress | None = None) -> ForecastResult: ...

    def coverage(self, request: CoverageRequest) -> Coverage: ...

    def stalls(self, request: StallsRequest) -> StallsResult: ...

    def strategy_score(self, request: ScoreRequest) -> Scorecard: ...

    def roster_show(self, request: RosterShowRequest | None = None) -> RosterView: ...


class MaterialiseReport(BaseModel):
    """What was computed (or found already kept) for the week, and how long each took."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    answers: list[MaterialisedAnswer]
    computed: int
    already_kept: int
    pruned: int


def _look_back(seat: WeekReads, period: Period, as_of: date) -> list[tuple[str, str, Callable[[], object]]]:
    """Coverage of the period as of each earlier week the defence of the targets looks back on (default weeks)."""
    weeks = DefendRequest.model_fields["weeks"].default
    days = [as_of - timedelta(days=7 * back) for back in range(1, weeks)]
    asked = [CoverageRequest(period=period.name, as_of=day) for day in days]
    return [("coverage", f"{period.name} as of {r.as_of}", partial(seat.coverage, r)) for r in asked]


def materialise_week(seat: WeekReads, as_of: date) -> MaterialiseReport:
    """Compute and keep the week's answers as of ``as_of``; a mandate without enough history is noted, not fatal."""
    current = seat.period(as_of=as_of)
    following = current.shift(1)
    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("forecast", current.name, lambda: seat.forecast(ForecastRequest(period=current.name, as_of=as_of))),
        ("forecast", following.name, lambda: seat.forecast(ForecastRequest(period=following.name, as_of=as_of))),
        (
            "deal probabilities",
            current.name,
            lambda: seat.forecast(ForecastRequest(period=current.name, as_of=as_of, deals=True)),
        ),
        ("coverage", current.name, lambda: seat.coverage(CoverageRequest(period=current.name, as_of=as_of))),
        *_look_back(seat, current, as_of),
        ("stalls", str(as_of), lambda: seat.stalls(StallsRequest(as_of=as_of))),
        ("strategy scorecard", str(as_of), lambda: seat.strategy_score(ScoreRequest(as_of=as_of))),
        ("roster", str(as_of), lambda: seat.roster_show(RosterShowRequest(as_of=as_of))),
    ]
    answers = seat.context.answers
    done: list[MaterialisedAnswer] = []
    hits = misses = 0
    for kind, what, step in steps:
        before = (answers.hits, answers.misses)
        start = time.perf_counter()
        try:
            step()
            note, available = None, True
        except (InsufficientDataError, NotFoundError) as error:
            note, available = str(error), False
        hits += answers.hits - before[0]
        misses += answers.misses - before[1]
        done.append(
            MaterialisedAnswer(
                kind=kind, request=what, seconds=round(time.perf_counter() - start, 3), available=available, note=note
            )
        )
    pruned = answers.prune()
    return MaterialiseReport(as_of=as_of, answers=done, computed=misses, already_kept=hits, pruned=pruned)
