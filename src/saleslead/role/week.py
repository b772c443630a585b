"""What the weekly cadence passes around: the week, its steps, and what each step returns.

A :class:`Step` is one action's part of the week: the action's spec (:mod:`saleslead.role.specs`; the
section's id, mandate and title are the spec's) and the function that briefs on it, called with the mandate
desks (:class:`Mandates`, each typed by the Protocol of what the cadence needs of it). :class:`StepResult` is
its briefing section, the call (from the forecast), the flags it raises, the flag kinds it checked (open flags
of those kinds it no longer sees are resolved) and the handoffs it issues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from saleslead.forecast.schemas import (
    CallCheck,
    CallCheckRequest,
    CallListRequest,
    CallListResult,
    CallRecord,
    ForecastRequest,
    ForecastResult,
    SeatCallRequest,
    StallsRequest,
    StallsResult,
)
from saleslead.periods import Period
from saleslead.role.flags import Severity
from saleslead.role.report import CallLine, Section
from saleslead.role.schema import RoleDefinition
from saleslead.role.specs import ActionSpec
from saleslead.roster.desk import FinanceTable, RosterFinanceRequest
from saleslead.roster.plan import RosterPlan, RosterPlanRequest
from saleslead.settings import Settings
from saleslead.status import StatusReport
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.scorecard import Scorecard, ScoreRequest
from saleslead.targets.coverage import Coverage
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsShown, TargetsShowRequest

__all__ = [
    "FlagDraft",
    "ForecastActions",
    "HandoffDraft",
    "Mandates",
    "RosterActions",
    "Step",
    "StepResult",
    "StrategyActions",
    "TargetsActions",
    "Week",
    "section",
]


class StrategyActions(Protocol):
    """What the cadence needs of the strategy desk."""

    def strategy_score(self, request: ScoreRequest) -> Scorecard: ...
    def strategy_check(self, request: CheckRequest) -> StrategyCheck: ...


class TargetsActions(Protocol):
    """What the cadence needs of the targets desk."""

    def defend_targets(self, request: DefendRequest) -> Defense: ...
    def coverage(self, request: CoverageRequest) -> Coverage: ...
    def targets(self, request: TargetsShowRequest | None = None) -> TargetsShown: ...


class RosterActions(Protocol):
    """What the cadence (and the finance handoff) needs of the roster desk."""

    def roster_plan(self, request: RosterPlanRequest) -> RosterPlan: ...
    def roster_finance(self, request: RosterFinanceRequest) -> FinanceTable: ...


class ForecastActions(Protocol):
    """What the cadence needs of the forecast desk."""

    def forecast(self, request: ForecastRequest) -> ForecastResult: ...
    def seat_call(self, request: SeatCallRequest) -> CallRecord: ...
    def call_list(self, request: CallListRequest) -> CallListResult: ...
    def call_check(self, request: CallCheckRequest) -> CallListResult: ...
    def forecast_flags(self) -> list[CallCheck]: ...
    def stalls(self, request: StallsRequest) -> StallsResult: ...


@dataclass(frozen=True)
class Mandates:
    """The four mandate desks, as the fleet desk and the cadence see them."""

    strategy: StrategyActions
    targets: TargetsActions
    roster: RosterActions
    forecast: ForecastActions


@dataclass(frozen=True)
class Week:
    """What every step gets: the store, the as-of date, the quarter it sits in, the pipeline.

    ``writes`` is True in the weekly cadence (the seat's call, the roster plan are stored) and False
    when ``ask`` borrows a step to answer a question (nothing is stored).
    """

    store: Store
    settings: Settings
    records: Records
    role: RoleDefinition
    engagement: str
    as_of: date
    period: Period
    status: StatusReport
    writes: bool = True
    ingested: bool = False


@dataclass(frozen=True)
class FlagDraft:
    kind: str
    key: str
    severity: Severity
    message: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class HandoffDraft:
    boundary: str
    request: str
    key: str
    payload: dict[str, Any]


@dataclass
class StepResult:
    section: Section
    call: CallLine | None = None
    flags: list[FlagDraft] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)  # flag kinds this step evaluated (cleared if not raised)
    handoffs: list[HandoffDraft] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """An action's part of the week: its spec gives the section's id, mandate and title; ``brief`` writes it."""

    spec: ActionSpec[Any, Any]
    brief: Callable[[Mandates, Week], StepResult]

    def __post_init__(self) -> None:
        if self.spec.section is None:
            raise ValueError(f"the action {self.spec.id!r} has no briefing section in the action table")

    @property
    def action(self) -> str:
        return self.spec.id

    @property
    def mandate(self) -> str:
        return self.spec.mandate

    @property
    def title(self) -> str:
        return self.spec.section or self.spec.id


def section(
    spec: ActionSpec[Any, Any], text: str, data: dict[str, Any] | None = None, *, available: bool = True
) -> Section:
    """The briefing section of an action: its id and title are the action table's."""
    return Section(id=spec.id, title=spec.section or spec.id, available=available, text=text, data=data or {})
