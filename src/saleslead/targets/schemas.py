"""The targets mandate's requests and the coverage result: models only, importable without the engines.

The desk (:mod:`saleslead.targets.desk`) and coverage (:mod:`saleslead.targets.coverage`) compute them; the
CLI and :mod:`saleslead.stored` read them without loading either.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from saleslead.evidence import Rate
from saleslead.store.shelf import AnswerSpec

__all__ = [
    "ALL",
    "COVERAGE_ANSWER",
    "PLAN",
    "Coverage",
    "CoverageEvidence",
    "CoverageLine",
    "CoverageRequest",
    "DefendRequest",
    "PeriodSample",
    "SamePointCheck",
    "TargetsRequest",
    "TargetsShowRequest",
    "coverage_answer_request",
]

#: The record kind of a saved targets plan.
PLAN = "targets.plan"

#: Coverage reads every setting and the saved plans (its targets)
COVERAGE_ANSWER = AnswerSpec("coverage", None, (PLAN,))

#: The name of the whole-company line.
ALL = "All"


class PeriodSample(BaseModel):
    """One earlier period's pipeline at the same point and what became of it."""

    model_config = ConfigDict(frozen=True)

    period: str
    snapshot: date
    open_deals: int
    open_value: float
    won_from_open_deals: int
    won_from_open_value: float
    conversion: float | None
    bookings_after: float
    outside_pipeline: float


class CoverageEvidence(BaseModel):
    """What a coverage line rests on."""

    model_config = ConfigDict(frozen=True)

    method: str
    periods_used: list[str]
    sample_size: int
    won_deals: int
    conversion: Rate
    outside_share: Rate
    thin: bool
    samples: list[PeriodSample]
    note: str = ""


class SamePointCheck(BaseModel):
    """The same-point historical conversion, kept beside the outlook as a cross-check (labelled, not the number)."""

    model_config = ConfigDict(frozen=True)

    method: str
    conversion: float | None
    outside_share: float | None
    expected_from_pipeline: float | None
    expected_from_outside: float | None
    expected_bookings: float | None
    difference: float | None = None  # the line's expected bookings (the outlook's) − the same point's


class CoverageLine(BaseModel):
    """Coverage of one segment (or the whole company, ``segment == "All"``)."""

    model_config = ConfigDict(frozen=True)

    segment: str
    target: float
    closed_won: float
    closed_won_deals: int
    remaining: float
    open_pipeline: float
    open_deals: int
    reported_coverage: float | None
    required_coverage: float | None
    required_coverage_low: float | None
    required_coverage_high: float | None
    required_pipeline: float | None
    expected_from_pipeline: float | None
    expected_from_new: float | None
    expected_bookings: float | None
    real_coverage: float | None
    real_coverage_low: float | None
    real_coverage_high: float | None
    gap: float | None
    gap_deals: float | None
    typical_deal: float | None
    bookings_gap: float | None
    evidence: CoverageEvidence
    source: str = "same-point"  # "outlook": the numbers are the forecast's; "same-point": measured conversion
    expected_from_pull_ins: float | None = None  # open deals dated outside the period, won inside it (outlook)
    pipeline_yield: float | None = None  # expected_from_pipeline / open_pipeline
    bookings_p10: float | None = None  # the outlook's P10/P50/P90 of the period's bookings
    bookings_p50: float | None = None
    bookings_p90: float | None = None
    same_point: SamePointCheck | None = None


class Coverage(CoverageLine):
    """The ``saleslead coverage`` result: the whole company's line, then one per segment."""

    period: str
    as_of: date
    target_source: str
    segments: list[CoverageLine]


class CoverageRequest(BaseModel):
    """Coverage of a period as of a date; the target is the saved plan's, else Σ quota, unless given here."""

    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date | None = None
    goal: float | None = None
    segments: dict[str, float] | None = None
    periods: int = Field(4, ge=1, le=12, description="earlier periods the conversion is measured on")


class TargetsRequest(BaseModel):
    """Set the targets of a period: a goal (or Σ quota) split by segment, saved as a versioned plan."""

    model_config = ConfigDict(frozen=True)

    period: str
    goal: float | None = None
    segments: dict[str, float] | None = None
    as_of: date | None = None
    author: str = "saleslead"
    periods: int = Field(4, ge=1, le=12)
    horizon_weeks: int = Field(52, ge=4, le=156, description="created→won horizon of the creation yield")


class TargetsShowRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str | None = None


class DefendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date | None = None
    weeks: int = Field(6, ge=1, le=26, description="weeks of coverage and creation to look back on")
    drop: float = Field(0.2, gt=0, lt=1, description="fall below trend that raises a 'dropping' flag")
    tolerance: float = Field(0.15, ge=0, lt=1, description="creation shortfall ignored as noise")
    author: str = "saleslead"


def coverage_answer_request(request: CoverageRequest, period: str) -> dict[str, object]:
    """The request part of a coverage answer's key: the request with its period resolved."""
    return request.model_dump(mode="json") | {"period": period}
