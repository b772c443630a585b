"""The roster plan for a period: hires by month and segment, capacity against the goal month by month,
the most that is reachable and what binds (seller capacity, pipeline, time or the hiring rate), SDR seats
and the quota check.

What-ifs change the measured inputs before planning:

* ``win_rate_delta_pts`` — productivity × ``(w + Δ) ÷ w`` and the pipeline yield ``w + Δ``, with ``w``
  the segment's measured win rate by value;
* ``attrition_delta`` — added to the annual attrition;
* ``ramp_delta_months`` — the ramp reaches full productivity that many months later (sooner if negative).

Scenarios are presets of these deltas: best (+5 pts, −5 pts attrition, 1 month faster ramp), worst (the
opposite), base (none); explicit deltas add to the preset.

The plan is built in small steps that share two parameter objects: :class:`PlanFrame` (the period, the
hiring window and the what-ifs) and :class:`SegmentCase` (one segment's measured inputs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from saleslead.errors import InputError
from saleslead.periods import Period
from saleslead.roster.capacity import MonthCapacity
from saleslead.roster.config import RosterConfig
from saleslead.roster.goals import PeriodGoal, TargetsInput
from saleslead.roster.hiring import HiringWindow, SegmentHiring, SegmentInputs, plan_hires
from saleslead.roster.measures import RosterMeasures, SegmentMeasures
from saleslead.roster.plan_models import (
    SCENARIOS,
    HireMonth,
    HiringTiming,
    PipelineCheck,
    PlanMonth,
    RosterPlan,
    RosterPlanRequest,
    SegmentStaffing,
    SolverReport,
    StartYield,
)
from saleslead.roster.plan_text import plan_verdict
from saleslead.roster.quotas import quota_check
from saleslead.roster.ramp import RampProfile
from saleslead.roster.sdr import SdrInputs, SdrPlan, plan_sdrs
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.seats import month_index, month_start

__all__ = [
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
    "TargetsInput",
    "build_roster_plan",
]


@dataclass(frozen=True)
class PlanWork:
    """What the finance table needs besides the plan."""

    first_month: int
    period_first: int
    hires: dict[str, dict[int, int]]
    months: dict[str, list[MonthCapacity]]
    ramps: dict[str, RampProfile]
    config: RosterConfig


@dataclass(frozen=True)
class PlanFrame:
    """The period, the hiring window and the what-ifs of one plan: the parameter object every step reads."""

    request: RosterPlanRequest
    period: Period
    window: HiringWindow
    win_delta: float
    attrition_delta: float
    ramp_delta: float
    targets: TargetsInput | None

    @property
    def weeks(self) -> float:
        return self.period.days / 7.0


@dataclass(frozen=True)
class SegmentCase:
    """One segment's measured inputs with the what-ifs applied."""

    inputs: SegmentInputs
    measured: SegmentMeasures
    yield_used: float | None
    sdr_tenures: list[int]


def _frame(request: RosterPlanRequest, as_of: date, fiscal_start_month: int, goal: PeriodGoal | None) -> PlanFrame:
    period = Period.parse(request.period, fiscal_start_month)
    first_month = month_index(as_of) + 1
    period_first, period_last = month_index(period.start), month_index(period.end) - 1
    if period_first < first_month:
        raise InputError(
            f"the period {period.name} starts before the first full month after {as_of}",
            hint="plan a period that starts after the as-of month",
        )
    win_d, attr_d, ramp_d = SCENARIOS[request.scenario]
    win_d += request.win_rate_delta_pts
    attr_d += request.attrition_delta
    ramp_d += request.ramp_delta_months
    config = request.config.model_copy(
        update={"attrition_annual": min(0.95, max(0.0, request.config.attrition_annual + attr_d))}
    )
    earliest = month_index(as_of) + config.hiring_lead_time_months + 1
    window = HiringWindow(first_month, period_first, period_last, earliest, request.buffer, config)
    return PlanFrame(request, period, window, win_d, attr_d, ramp_d, goal.targets if goal else None)


def _on_roster(goal: dict[str, float], measures: RosterMeasures, source: str) -> tuple[dict[str, float], str]:
    """The goal of the segments with AEs on the roster; segments without any are named in the source."""
    kept = {s: v for s, v in goal.items() if s in measures.segments and v > 0}
    dropped = sorted(s for s, v in goal.items() if s not in measures.segments and v > 0)
    if not kept:
        raise InputError(
            f"no AE on the roster in the segment(s) of the goal {sorted(goal)}",
            hint=f"segments with AEs: {sorted(measures.segments)}",
        )
    if dropped:
        left = sum(goal[s] for s in dropped)
        source += f"; {', '.join(dropped)} ({left:,.0f}) left out: no AE on the roster"
    return kept, source


def _goals(
    request: RosterPlanRequest, measures: RosterMeasures, default: PeriodGoal | None
) -> tuple[dict[str, float], str]:
    """The goal by segment: given by segment; else the period's goal (``roster.goals``), scaled to a given
    total; else a given total split by the segments' closed-won mix."""
    segments = list(measures.segments)
    if request.goal_by_segment:
        unknown = sorted(set(request.goal_by_segment) - set(segments))
        if unknown:
            raise InputError(f"no AEs on the roster in segment(s) {unknown}", hint=f"segments: {segments}")
        return dict(request.goal_by_segment), "given by segment"
    if request.goal is None:
        if default is None:
            raise InputError(
                f"no goal for {request.period}: no targets plan and no quota for it or the period before",
                hint="give --goal or --segment-goal, or set targets: saleslead targets set --period ... --goal ...",
            )
        return _on_roster(default.by_segment, measures, default.source)
    weights = {s: v for s, v in (default.by_segment if default else {}).items() if s in measures.segments and v > 0}
    if weights and default is not None:
        whole = sum(weights.values())
        return {s: request.goal * v / whole for s, v in weights.items()}, f"given, split like {default.source}"
    mix = {s: m.bookings_window for s, m in measures.segments.items()}
    total = sum(mix.values())
    if total <= 0:
        share = 1.0 / len(segments)
        return {s: request.goal * share for s in segments}, "given, split evenly (no bookings measured)"
    return (
        {s: request.goal * v / total for s, v in mix.items()},
        "given, split by the segments' closed-won mix of the last complete quarters",
    )


def _cases(frame: PlanFrame, measures: RosterMeasures, goals: dict[str, float]) -> list[SegmentCase]:
    cases: list[SegmentCase] = []
    for seg, m in measures.segments.items():
        if seg not in goals:
            continue
        ramp = m.ramp.shifted(frame.ramp_delta) if frame.ramp_delta else m.ramp
        w = m.pipeline.win_rate_value if m.pipeline else None
        scale = max(0.0, (w + frame.win_delta / 100.0) / w) if w else 1.0
        tenures = [s.tenure_months for s in measures.active(seg, "AE")]
        productivity = m.productivity.per_rep_month * scale
        cases.append(
            SegmentCase(
                inputs=SegmentInputs(seg, tenures, ramp, productivity, measures.season, goals[seg]),
                measured=m,
                yield_used=max(1e-6, w + frame.win_delta / 100.0) if w else None,
                sdr_tenures=[s.tenure_months for s in measures.active(seg, "SDR")],
            )
        )
    return cases


def _required_creation(frame: PlanFrame, case: SegmentCase, target: float) -> tuple[float | None, str]:
    """The creation per week the goal needs, and where that number comes from."""
    seg = case.inputs.segment
    asked, targets = frame.request.pipeline_creation_per_week, frame.targets
    if asked and seg in asked:
        return asked[seg], "request"
    if targets is not None and targets.creation_per_week.get(seg) and targets.target.get(seg):
        steady = targets.creation_per_week[seg] or 0.0
        return steady * target / targets.target[seg], (
            f"targets plan v{targets.version}: steady creation × goal with buffer ÷ its target"
        )
    if case.yield_used:
        return target / case.yield_used / frame.weeks, "goal × (1 + buffer) ÷ measured yield ÷ weeks of the period"
    return None, "unknown: no yield measured"


def _pipeline_check(frame: PlanFrame, case: SegmentCase, hiring: SegmentHiring) -> PipelineCheck:
    """Expected creation of the plan (AE-sourced grows with ramped AEs, SDR-booked does not) against the need."""
    required, source = _required_creation(frame, case, hiring.target)
    planned = hiring.months[frame.window.in_period]
    now_eq = sum(case.inputs.ramp.factor(t) for t in case.inputs.tenures)
    plan_eq = sum(p.ramped_equivalents for p in planned) / max(len(planned), 1)
    measured = case.measured.pipeline
    ae_part = measured.ae_created_per_week if measured else 0.0
    sdr_part = measured.sdr_created_per_week if measured else 0.0
    expected = ae_part * (plan_eq / now_eq if now_eq > 0 else 1.0) + sdr_part
    return PipelineCheck(
        required_creation_per_week=required,
        source=source,
        created_per_week_now=measured.created_per_week if measured else 0.0,
        expected_creation_per_week=expected,
        pipeline_gap_per_week=max(0.0, (required or 0.0) - expected),
        pipeline_limited=required is not None and required > expected,
        yield_used=case.yield_used,
        measured=measured,
    )


def _sdr(frame: PlanFrame, case: SegmentCase, hiring: SegmentHiring, pipeline: PipelineCheck) -> SdrPlan:
    planned = hiring.months[frame.window.in_period]
    return plan_sdrs(
        SdrInputs(
            segment=case.inputs.segment,
            required_creation_per_week=pipeline.required_creation_per_week or 0.0,
            pipeline_gap_per_week=pipeline.pipeline_gap_per_week,
            measured=case.measured.pipeline,
            sdr_tenures=case.sdr_tenures,
            ae_heads_in_period=sum(p.heads for p in planned) / max(len(planned), 1),
            ae_heads_at_end=planned[-1].heads if planned else 0.0,
            window=frame.window,
        )
    )


def _months(frame: PlanFrame, hiring: SegmentHiring, season: Seasonality) -> list[PlanMonth]:
    """Capacity against the goal month by month (the goal with its buffer spread by seasonality)."""
    w = frame.window
    total = sum(season.of(t) for t in range(w.period_first, w.period_last + 1))
    pairs = zip(hiring.months[w.in_period], hiring.base_months[w.in_period], strict=True)
    return [
        PlanMonth(
            month=p.month,
            segment=hiring.segment,
            goal=hiring.target * season.of(w.period_first + i) / total,
            base_capacity=b.capacity,
            capacity=p.capacity,
            inputs=p,
        )
        for i, (p, b) in enumerate(pairs)
    ]


def _timing(frame: PlanFrame, case: SegmentCase, hiring: SegmentHiring) -> HiringTiming:
    w = frame.window
    first = min(w.starts, default=w.earliest_start)
    ramp = case.inputs.ramp
    ramped_period = case.inputs.productivity * sum(
        case.inputs.season.of(t) for t in range(w.period_first, w.period_last + 1)
    )
    return HiringTiming(
        earliest_start=f"{month_start(first):%Y-%m}",
        ramped_by=f"{month_start(first + ramp.ramped_at_month - 1):%Y-%m}",
        lead_time_months=w.config.hiring_lead_time_months,
        ramped_at_month=ramp.ramped_at_month,
        yield_by_start=[
            StartYield(
                month=f"{month_start(u):%Y-%m}",
                bookings=a,
                share_of_ramped=a / ramped_period if ramped_period > 0 else 0.0,
            )
            for u, a in sorted(hiring.per_hire.items())
        ],
        run_rate_sellers=hiring.run_rate_sellers,
        heads_at_period_end=hiring.heads_at_end,
        run_rate_hires=hiring.run_rate_hires,
    )


def _binding(hiring: SegmentHiring, pipeline: PipelineCheck) -> str:
    if hiring.limit == "no_productivity":
        return "unknown"
    if pipeline.pipeline_limited:
        return "pipeline"
    return "seller_capacity" if hiring.hires or not hiring.reachable else "none"


def _segment_plan(frame: PlanFrame, case: SegmentCase, hiring: SegmentHiring) -> SegmentStaffing:
    m = case.measured
    goal = case.inputs.goal
    pipeline = _pipeline_check(frame, case, hiring)
    planned = hiring.months[frame.window.in_period]
    period_quota = m.full_quota / 3.0 * sum(p.ramped_equivalents for p in planned)
    return SegmentStaffing(
        segment=case.inputs.segment,
        goal=goal,
        goal_with_buffer=hiring.target,
        base_capacity=hiring.base,
        capacity=hiring.capacity,
        capacity_vs_goal=hiring.capacity / goal if goal > 0 else None,
        shortfall=max(0.0, hiring.target - hiring.capacity),
        most_reachable=hiring.ceiling,
        hires=[HireMonth(month=f"{month_start(u):%Y-%m}", hires=n) for u, n in sorted(hiring.hires.items())],
        total_hires=sum(hiring.hires.values()),
        reachable=hiring.reachable,
        reach_limit=hiring.limit,
        binding_constraint=_binding(hiring, pipeline),
        hiring=_timing(frame, case, hiring),
        productivity=m.productivity,
        ramp=case.inputs.ramp,
        attainment=m.attainment,
        pipeline=pipeline,
        sdr=_sdr(frame, case, hiring, pipeline),
        quota=quota_check(case.inputs.segment, m.full_quota, m.quota_evidence, period_quota, goal, m.attainment),
    )


def _overall_binding(segments: list[SegmentStaffing]) -> str:
    for kind in ("pipeline", "seller_capacity", "unknown"):
        if any(s.binding_constraint == kind for s in segments):
            return kind
    return "none"


def build_roster_plan(
    request: RosterPlanRequest,
    measures: RosterMeasures,
    fiscal_start_month: int,
    default_goal: PeriodGoal | None = None,
) -> tuple[RosterPlan, PlanWork]:
    """The plan of ``request`` on what was measured as of ``measures.as_of`` (see the module doc)."""
    started = time.perf_counter()
    frame = _frame(request, measures.as_of, fiscal_start_month, default_goal)
    goals, goal_source = _goals(request, measures, default_goal)
    cases = _cases(frame, measures, goals)
    hiring = plan_hires([c.inputs for c in cases], frame.window)
    segments = [_segment_plan(frame, c, hiring[c.inputs.segment]) for c in cases]
    months = [m for c in cases for m in _months(frame, hiring[c.inputs.segment], measures.season)]
    total_hires = sum(s.total_hires for s in segments)
    plan = RosterPlan(
        as_of=measures.as_of,
        data_through=measures.observed_to,
        period=frame.period.name,
        scenario=request.scenario,
        win_rate_delta_pts=frame.win_delta,
        attrition_delta=frame.attrition_delta,
        ramp_delta_months=frame.ramp_delta,
        buffer=request.buffer,
        goal=sum(goals.values()),
        goal_source=goal_source,
        segments=segments,
        months=months,
        total_hires=total_hires,
        binding_constraint=_overall_binding(segments),
        verdict=plan_verdict(segments, total_hires, frame.period.name),
        seasonality=measures.season,
        solver=SolverReport(
            status="Optimal", objective=float(total_hires), gap=0.0, seconds=time.perf_counter() - started
        ),
        assumptions=frame.window.config,
        request=request,
    )
    work = PlanWork(
        frame.window.first_month,
        frame.window.period_first,
        {s: h.hires for s, h in hiring.items()},
        {s: h.months for s, h in hiring.items()},
        {c.inputs.segment: c.inputs.ramp for c in cases},
        frame.window.config,
    )
    return plan, work
