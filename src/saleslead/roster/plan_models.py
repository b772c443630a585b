"""The roster plan's request and result models (built by :mod:`saleslead.roster.plan`, worded by
:mod:`saleslead.roster.plan_text`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from saleslead.roster.capacity import MonthCapacity
from saleslead.roster.config import RosterConfig
from saleslead.roster.pipeline import OutlookCheck, PipelineYield
from saleslead.roster.productivity import Attainment, Productivity
from saleslead.roster.quotas import QuotaCheck
from saleslead.roster.ramp import RampProfile
from saleslead.roster.sdr import SdrPlan
from saleslead.roster.seasonality import Seasonality

__all__ = [
    "METHOD",
    "SCENARIOS",
    "HireMonth",
    "HiringTiming",
    "PipelineCheck",
    "PlanMonth",
    "RosterPlan",
    "RosterPlanRequest",
    "SegmentStaffing",
    "SolverReport",
    "StartYield",
    "stored_plan",
]

#: scenario -> (win rate Δ points, attrition Δ, ramp Δ months)
SCENARIOS: dict[str, tuple[float, float, float]] = {
    "base": (0.0, 0.0, 0.0),
    "best": (5.0, -0.05, -1.0),
    "worst": (-5.0, 0.05, 1.0),
}

METHOD = (
    "fewest hires: the largest per-hire period bookings first (earliest starts), at most max_hires_per_month "
    "a month — exact for one goal row with one cost per hire; out of reach: the seats the goal's run rate needs"
)


class RosterPlanRequest(BaseModel):
    """Plan the AE and SDR seats that reach a goal in a period with a buffer."""

    model_config = ConfigDict(frozen=True)

    period: str
    goal: float | None = Field(
        None, gt=0, description="bookings goal of the period (all segments); default: the period's target"
    )
    goal_by_segment: dict[str, float] | None = None
    buffer: float = Field(0.1, ge=0, le=2, description="capacity must reach goal × (1 + buffer)")
    as_of: date | None = None
    scenario: str = Field("base", pattern="^(base|best|worst)$")
    win_rate_delta_pts: float = Field(0.0, ge=-50, le=50)
    attrition_delta: float = Field(0.0, ge=-0.5, le=0.5)
    ramp_delta_months: float = Field(0.0, ge=-6, le=12)
    pipeline_creation_per_week: dict[str, float] | None = Field(
        None, description="required creation by segment (the targets' creation target); measured when absent"
    )
    config: RosterConfig = RosterConfig()
    save: bool = Field(True, description="store the plan as a new version of kind roster.plan")
    name: str | None = Field(None, description="version key (default: <period>/<scenario>)")
    time_limit: float = Field(30.0, gt=0, le=600)


class HireMonth(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    hires: int


class StartYield(BaseModel):
    """What one hire starting in a month books in the period."""

    model_config = ConfigDict(frozen=True)

    month: str
    bookings: float
    share_of_ramped: float  # ÷ what a ramped seller books in the period


class HiringTiming(BaseModel):
    """When hires can start, when they are ramped, and the seats the goal's run rate needs."""

    model_config = ConfigDict(frozen=True)

    earliest_start: str  # YYYY-MM: as_of's month + lead time + 1
    ramped_by: str  # YYYY-MM: when a hire starting then reaches 95% of ramped productivity
    lead_time_months: int
    ramped_at_month: int
    yield_by_start: list[StartYield]
    run_rate_sellers: float | None  # ramped sellers the goal needs on average over the period
    heads_at_period_end: float  # AE heads the roster as it stands has in the period's last month
    run_rate_hires: int  # the seats beyond them


class PlanMonth(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    segment: str
    goal: float  # goal × (1 + buffer) spread by seasonality
    base_capacity: float
    capacity: float
    inputs: MonthCapacity


class PipelineCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    required_creation_per_week: float | None
    source: str  # request | targets | measured yield
    created_per_week_now: float
    expected_creation_per_week: float
    pipeline_gap_per_week: float
    pipeline_limited: bool
    yield_used: float | None
    measured: PipelineYield | None
    #: the forecast's outlook of the period for the segment (when the plan's period holds the as-of date)
    outlook: OutlookCheck | None = None


class SegmentStaffing(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    goal: float
    goal_with_buffer: float
    base_capacity: float
    capacity: float
    capacity_vs_goal: float | None  # capacity ÷ goal (the buffer not counted)
    shortfall: float  # goal × (1 + buffer) − capacity, when positive
    most_reachable: float  # capacity with max_hires_per_month hires in every start month
    hires: list[HireMonth]
    total_hires: int
    reachable: bool
    reach_limit: str | None  # time | hiring_rate | no_productivity when out of reach
    binding_constraint: str  # seller_capacity | pipeline | unknown | none
    hiring: HiringTiming
    productivity: Productivity
    ramp: RampProfile
    attainment: Attainment
    pipeline: PipelineCheck
    sdr: SdrPlan
    quota: QuotaCheck


class SolverReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    objective: float | None
    gap: float | None
    seconds: float
    method: str = METHOD


class RosterPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    data_through: date  # the last day the store has data for (its last snapshot when as_of is later)
    period: str
    scenario: str
    win_rate_delta_pts: float
    attrition_delta: float
    ramp_delta_months: float
    buffer: float
    goal: float
    goal_source: str
    segments: list[SegmentStaffing]
    months: list[PlanMonth]
    total_hires: int
    binding_constraint: str
    verdict: str
    seasonality: Seasonality
    solver: SolverReport
    assumptions: RosterConfig
    key: str | None = None
    version: int | None = None
    request: RosterPlanRequest


def stored_plan(payload: Any) -> RosterPlan | None:
    """A stored plan version, or None when it was stored in an earlier shape (before the fields that say what
    is reachable and what binds): such a version is made again, not read half."""
    try:
        return RosterPlan.model_validate(payload)
    except ValidationError:
        return None
