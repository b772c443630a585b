"""The roster plan for a period: hires by month and segment, capacity against the goal month by month,
the binding constraint (seller capacity or pipeline), SDR math and the quota check.

What-ifs change the measured inputs before planning:

* ``win_rate_delta_pts`` — productivity × ``(w + Δ) ÷ w`` and the pipeline yield ``w + Δ``, with ``w``
  the segment's measured win rate by value;
* ``attrition_delta`` — added to the annual attrition;
* ``ramp_delta_months`` — the ramp reaches full productivity that many months later (sooner if negative).

Scenarios are presets of these deltas: best (+5 pts, −5 pts attrition, 1 month faster ramp), worst (the
opposite), base (none); explicit deltas add to the preset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from saleslead.errors import InputError
from saleslead.periods import Period
from saleslead.roster.capacity import MonthCapacity
from saleslead.roster.config import RosterConfig
from saleslead.roster.goals import PeriodGoal, TargetsInput
from saleslead.roster.hiring import SegmentInputs, plan_hires
from saleslead.roster.measures import RosterMeasures
from saleslead.roster.pipeline import PipelineYield
from saleslead.roster.productivity import Attainment, Productivity
from saleslead.roster.quotas import QuotaCheck, quota_check
from saleslead.roster.ramp import RampProfile
from saleslead.roster.sdr import SdrPlan, plan_sdrs
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.seats import month_index, month_start

__all__ = [
    "SCENARIOS",
    "HireMonth",
    "PipelineCheck",
    "PlanMonth",
    "RosterPlan",
    "RosterPlanRequest",
    "SegmentPlan",
    "SolverReport",
    "TargetsInput",
    "build_plan",
]

#: scenario -> (win rate Δ points, attrition Δ, ramp Δ months)
SCENARIOS: dict[str, tuple[float, float, float]] = {
    "base": (0.0, 0.0, 0.0),
    "best": (5.0, -0.05, -1.0),
    "worst": (-5.0, 0.05, 1.0),
}


class RosterPlanRequest(BaseModel):
    """Plan the AE and SDR seats that reach a goal in a period with a buffer."""

    model_config = ConfigDict(frozen=True)

    period: str
    goal: float | None = Field(None, gt=0, description="bookings goal of the period (all segments)")
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
    save: bool = Field(True, description="store the plan as a new version of kind roster_plan")
    name: str | None = Field(None, description="version key (default: <period>/<scenario>)")
    time_limit: float = Field(30.0, gt=0, le=600)


class HireMonth(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    hires: int


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


class SegmentPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    goal: float
    goal_with_buffer: float
    base_capacity: float
    capacity: float
    hires: list[HireMonth]
    total_hires: int
    shortfall_share: float
    reachable: bool
    binding_constraint: str  # seller_capacity | pipeline | none
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


class RosterPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    period: str
    scenario: str
    win_rate_delta_pts: float
    attrition_delta: float
    ramp_delta_months: float
    buffer: float
    goal: float
    goal_source: str
    segments: list[SegmentPlan]
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


@dataclass(frozen=True)
class PlanWork:
    """What the finance table needs besides the plan."""

    first_month: int
    period_first: int
    hires: dict[str, dict[int, int]]
    months: dict[str, list[MonthCapacity]]
    ramps: dict[str, RampProfile]
    config: RosterConfig


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


def build_plan(
    request: RosterPlanRequest,
    measures: RosterMeasures,
    fiscal_start_month: int,
    default_goal: PeriodGoal | None = None,
) -> tuple[RosterPlan, PlanWork]:
    as_of = measures.as_of
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
    goals, goal_source = _goals(request, measures, default_goal)
    targets = default_goal.targets if default_goal else None
    earliest = month_index(as_of) + config.hiring_lead_time_months + 1
    inputs: list[SegmentInputs] = []
    ramps: dict[str, RampProfile] = {}
    yields: dict[str, float | None] = {}
    for seg, m in measures.segments.items():
        if seg not in goals:
            continue
        ramp = m.ramp.shifted(ramp_d) if ramp_d else m.ramp
        ramps[seg] = ramp
        w = m.pipeline.win_rate_value if m.pipeline else None
        scale = max(0.0, (w + win_d / 100.0) / w) if w else 1.0
        yields[seg] = max(1e-6, w + win_d / 100.0) if w else None
        tenures = [s.tenure_months for s in measures.active(seg, "AE")]
        inputs.append(
            SegmentInputs(seg, tenures, ramp, m.productivity.per_rep_month * scale, measures.season, goals[seg])
        )
    solution = plan_hires(
        inputs, first_month, period_first, period_last, earliest, request.buffer, config, request.time_limit
    )
    span = slice(period_first - first_month, period_last - first_month + 1)
    weeks = period.days / 7.0
    season_total = sum(measures.season.of(t) for t in range(period_first, period_last + 1))
    months: list[PlanMonth] = []
    segments: list[SegmentPlan] = []
    for seg_in in inputs:
        seg = seg_in.segment
        m = measures.segments[seg]
        planned = solution.months[seg][span]
        base = solution.base_months[seg][span]
        target = goals[seg] * (1 + request.buffer)
        for t, (p, b) in enumerate(zip(planned, base, strict=True)):
            share = measures.season.of(period_first + t) / season_total
            months.append(
                PlanMonth(
                    month=p.month,
                    segment=seg,
                    goal=target * share,
                    base_capacity=b.capacity,
                    capacity=p.capacity,
                    inputs=p,
                )
            )
        # pipeline side
        y = yields[seg]
        if request.pipeline_creation_per_week and seg in request.pipeline_creation_per_week:
            required: float | None = request.pipeline_creation_per_week[seg]
            source = "request"
        elif targets is not None and targets.creation_per_week.get(seg) and targets.target.get(seg):
            steady = targets.creation_per_week[seg] or 0.0
            required = steady * target / targets.target[seg]
            source = f"targets plan v{targets.version}: steady creation × goal with buffer ÷ its target"
        elif y:
            required = target / y / weeks
            source = "goal × (1 + buffer) ÷ measured yield ÷ weeks of the period"
        else:
            required, source = None, "unknown: no yield measured"
        now_eq = sum(seg_in.ramp.factor(t) for t in seg_in.tenures)
        plan_eq = sum(p.ramped_equivalents for p in planned) / max(len(planned), 1)
        measured = m.pipeline
        ae_part = measured.ae_created_per_week if measured else 0.0
        sdr_part = measured.sdr_created_per_week if measured else 0.0
        expected = ae_part * (plan_eq / now_eq if now_eq > 0 else 1.0) + sdr_part
        gap = max(0.0, (required or 0.0) - expected)
        limited = required is not None and required > expected
        hires = solution.hires[seg]
        total = sum(hires.values())
        short = solution.shortfall[seg]
        binding = "pipeline" if limited else ("seller_capacity" if total > 0 or short > 1e-6 else "none")
        ae_heads = sum(p.heads for p in planned) / max(len(planned), 1)
        sdr_tenures = [s.tenure_months for s in measures.active(seg, "SDR")]
        sdr = plan_sdrs(
            seg, required or 0.0, gap, measured, sdr_tenures, ae_heads, first_month, period_first, period_last,
            earliest, config,
        )  # fmt: skip
        period_quota = m.full_quota / 3.0 * sum(p.ramped_equivalents for p in planned)
        segments.append(
            SegmentPlan(
                segment=seg,
                goal=goals[seg],
                goal_with_buffer=target,
                base_capacity=sum(b.capacity for b in base),
                capacity=sum(p.capacity for p in planned),
                hires=[HireMonth(month=f"{month_start(u):%Y-%m}", hires=n) for u, n in sorted(hires.items())],
                total_hires=total,
                shortfall_share=short,
                reachable=short <= 1e-6,
                binding_constraint=binding,
                productivity=m.productivity,
                ramp=seg_in.ramp,
                attainment=m.attainment,
                pipeline=PipelineCheck(
                    required_creation_per_week=required,
                    source=source,
                    created_per_week_now=measured.created_per_week if measured else 0.0,
                    expected_creation_per_week=expected,
                    pipeline_gap_per_week=gap,
                    pipeline_limited=limited,
                    yield_used=y,
                    measured=measured,
                ),
                sdr=sdr,
                quota=quota_check(seg, m.full_quota, m.quota_evidence, period_quota, goals[seg], m.attainment),
            )
        )
    total_hires = sum(s.total_hires for s in segments)
    if any(s.binding_constraint == "pipeline" for s in segments):
        binding = "pipeline"
    elif any(s.binding_constraint == "seller_capacity" for s in segments):
        binding = "seller_capacity"
    else:
        binding = "none"
    outcome = solution.outcome
    plan = RosterPlan(
        as_of=as_of,
        period=period.name,
        scenario=request.scenario,
        win_rate_delta_pts=win_d,
        attrition_delta=attr_d,
        ramp_delta_months=ramp_d,
        buffer=request.buffer,
        goal=sum(goals.values()),
        goal_source=goal_source,
        segments=segments,
        months=months,
        total_hires=total_hires,
        binding_constraint=binding,
        verdict=_verdict(segments, total_hires, period.name),
        seasonality=measures.season,
        solver=SolverReport(
            status=outcome.status if outcome else "not needed: the roster already reaches the goal",
            objective=outcome.objective if outcome else None,
            gap=outcome.gap if outcome else None,
            seconds=outcome.seconds if outcome else 0.0,
        ),
        assumptions=config,
        request=request,
    )
    work = PlanWork(first_month, period_first, solution.hires, solution.months, ramps, config)
    return plan, work


def _verdict(segments: list[SegmentPlan], total_hires: int, period: str) -> str:
    parts: list[str] = []
    for s in segments:
        if s.binding_constraint == "pipeline":
            parts.append(
                f"{s.segment}: pipeline-limited — creation must reach "
                f"{s.pipeline.required_creation_per_week or 0:,.0f}/week against "
                f"{s.pipeline.expected_creation_per_week:,.0f} expected; the fix is creation "
                f"({s.sdr.sdr_hires if s.sdr.sdr_hires is not None else '?'} SDR hires), not only AE seats"
            )
        elif s.total_hires or not s.reachable:
            reach = "" if s.reachable else f"; out of reach by hiring in time ({s.shortfall_share:.0%} short)"
            parts.append(f"{s.segment}: seller capacity binds — {s.total_hires} AE hires{reach}")
        else:
            parts.append(f"{s.segment}: the roster as it stands reaches the goal with the buffer")
    return f"{period}: {total_hires} AE hires in all. " + "; ".join(parts) + "."
