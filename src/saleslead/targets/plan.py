"""The target plan: from a revenue goal to required bookings, pipeline now, creation per week and the funnel it assumes.

Where the goal comes from, by segment (``goal_source``):

* ``segments`` — the amounts given per segment (their sum is the goal);
* ``given`` — a goal without a split: split by the period's ForecastingQuota shares by segment, or,
  without quotas, by each segment's share of bookings in the last four finished periods;
* ``quota`` — no goal given: Σ ForecastingQuota starting in the period, by the owner's segment.

Per segment the plan keeps: ``required_bookings`` (what is left to book), ``pipeline_required_now``
(``required_coverage × required_bookings``, from measured coverage), the creation plan
(:mod:`saleslead.targets.creation`) and the stage conversion the plan assumes.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from saleslead.errors import InputError, InsufficientDataError
from saleslead.evidence import Rate
from saleslead.funnel import CreationYield, FunnelConversion, period_position
from saleslead.periods import Period
from saleslead.store import Store
from saleslead.targets.coverage import ALL, Coverage, CoverageLine, quota_targets
from saleslead.targets.creation import CreationPlan, back_solve_creation

__all__ = ["SegmentTargets", "StageExpectation", "TargetPlan", "build_target_plan", "resolve_targets"]


class StageExpectation(BaseModel):
    """The conversion out of a stage, and the win rate from it, that the plan assumes."""

    model_config = ConfigDict(frozen=True)

    stage: str
    stage_order: int
    conversion: Rate
    win_rate: Rate


class SegmentTargets(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    target: float
    closed_won: float
    required_bookings: float
    open_pipeline: float
    required_coverage: float | None
    pipeline_required_now: float | None
    pipeline_gap: float | None
    creation: CreationPlan
    stage_expectations: list[StageExpectation]


class TargetPlan(BaseModel):
    """The ``saleslead targets set`` result, saved as a versioned record (kind ``targets.plan``, key period)."""

    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date
    goal: float
    goal_source: str
    version: int
    author: str
    set_at: datetime
    inputs: dict[str, object]
    total: SegmentTargets
    segments: list[SegmentTargets]


def resolve_targets(
    store: Store,
    period: Period,
    as_of: date,
    goal: float | None,
    segments: dict[str, float] | None,
    span_table: ir.Table | None = None,
) -> tuple[dict[str, float], str]:
    """The target of each segment and where it came from (see the module doc)."""
    if goal is not None and goal <= 0:
        raise InputError(f"the goal must be positive, got {goal}")
    if segments:
        return _checked_segments(segments, goal), "segments"
    quotas = quota_targets(store, period)
    if goal is None:
        if not quotas:
            raise InsufficientDataError(
                f"no target for {period.name}: no plan and no ForecastingQuota in the period",
                hint="set one: saleslead targets set --period ... --goal ...",
            )
        return quotas, "quota"
    weights = quotas or _recent_bookings(store, period, as_of, span_table)
    whole = sum(weights.values())
    if whole <= 0:
        return {ALL: goal}, "given"
    return {name: goal * w / whole for name, w in weights.items()}, "given"


def _checked_segments(segments: dict[str, float], goal: float | None) -> dict[str, float]:
    """Targets given per segment, refused when negative or when they do not add up to the goal."""
    if any(v < 0 for v in segments.values()):
        raise InputError("segment targets must not be negative")
    total = sum(segments.values())
    if goal is not None and abs(total - goal) > 0.5:
        raise InputError(
            f"segment targets add up to {total:,.0f}, not the goal {goal:,.0f}",
            hint="give every segment, or leave --goal out",
        )
    return dict(segments)


def _recent_bookings(store: Store, period: Period, as_of: date, span_table: ir.Table | None) -> dict[str, float]:
    """Closed-won per segment over the (up to) four periods before ``period`` that ended by ``as_of``."""
    booked: dict[str, float] = {}
    for back in range(1, 5):
        earlier = period.shift(-back)
        if earlier.last_day > as_of:
            continue
        for p in period_position(store, earlier, as_of, ["segment"], span_table=span_table):
            name = p.group["segment"]
            booked[name] = booked.get(name, 0.0) + p.closed_won
    return booked


def _segment_plan(
    line: CoverageLine,
    period: Period,
    as_of: date,
    measured: CreationYield | None,
    conversion: FunnelConversion,
) -> SegmentTargets:
    wanted = {} if line.segment == ALL else {"segment": line.segment}
    stages = [
        StageExpectation(stage=s.stage, stage_order=s.stage_order, conversion=s.conversion, win_rate=s.win_rate)
        for s in conversion.stages
        if s.group == wanted
    ]
    return SegmentTargets(
        segment=line.segment,
        target=line.target,
        closed_won=line.closed_won,
        required_bookings=line.remaining,
        open_pipeline=line.open_pipeline,
        required_coverage=line.required_coverage,
        pipeline_required_now=line.required_pipeline,
        pipeline_gap=line.gap,
        creation=back_solve_creation(measured, period, as_of, line.target, line.remaining, line.expected_from_pipeline),
        stage_expectations=stages,
    )


def build_target_plan(
    coverage: Coverage,
    period: Period,
    yields: dict[str, CreationYield],
    conversion_by_segment: FunnelConversion,
    conversion_total: FunnelConversion,
    *,
    goal_source: str,
    author: str,
    set_at: datetime,
    inputs: dict[str, object],
    version: int = 0,
) -> TargetPlan:
    """Assemble the plan from measured coverage, creation yields and stage conversion."""
    lines = [s for s in coverage.segments if s.target > 0]
    return TargetPlan(
        period=period.name,
        as_of=coverage.as_of,
        goal=coverage.target,
        goal_source=goal_source,
        version=version,
        author=author,
        set_at=set_at,
        inputs=inputs,
        total=_segment_plan(coverage, period, coverage.as_of, yields.get(ALL), conversion_total),
        segments=[
            _segment_plan(line, period, coverage.as_of, yields.get(line.segment), conversion_by_segment)
            for line in lines
        ],
    )
