"""The roster mandate in the weekly cadence: staffing against the gap, and the plan finance reconciles.

Hires made now land next quarter at the earliest, so the cadence staffs the **next** quarter. Its goal is
the roster's own (``roster.goals``: the targets plan of the next quarter, its Σ quota, this quarter's targets
plan or Σ quota carried forward) — the briefing says which, and shows the same goal as ``roster plan``.
The plan (``roster_plan``) is stored as a version of ``weekly/<period>``; the same week's plan is reused
rather than stored twice.

* a ``capacity-short`` flag per segment whose roster as it stands (ramp and attrition counted,
  before any hire) carries less than the goal: a warning, critical when even the planned hires cannot
  reach it in time;
* a handoff to the finance-analyst (``feeds``) with the quota and capacity plan (``roster_finance``),
  keyed by what finance would reconcile — the period, the goal by segment and the hires by month — so a
  new handoff goes out only when the plan changes.
"""

from __future__ import annotations

import hashlib
import json

from saleslead.format import money
from saleslead.periods import Period
from saleslead.role import specs as S
from saleslead.role.handoffs import KIND as HANDOFF
from saleslead.role.handoffs import handoff_id
from saleslead.role.week import FlagDraft, HandoffDraft, Mandates, StepResult, Week, section
from saleslead.roster.desk import FinanceTable, RosterFinanceRequest
from saleslead.roster.goals import PeriodGoal, period_goal
from saleslead.roster.plan import RosterPlan, RosterPlanRequest, SegmentStaffing
from saleslead.roster.plan_models import stored_plan
from saleslead.roster.plan_text import limit_text, reach_label
from saleslead.roster.scenarios import PLAN_KIND

__all__ = ["brief_roster", "finance_key", "plan_goal"]


def plan_goal(week: Week) -> tuple[Period, PeriodGoal] | None:
    """The quarter to staff and its goal by segment — the roster's own resolution (``roster.goals``), so the
    briefing, the plan and the dashboard show one goal per segment."""
    target = week.period.shift(1)
    goal = period_goal(week.store, week.records, target)
    return (target, goal) if goal is not None else None


def _plan(m: Mandates, week: Week, target: Period) -> RosterPlan:
    """This week's stored plan when it is there for the same request; else plan now (stored if writing).
    No goal is passed: the roster resolves the period's goal itself, the same way as for ``roster plan``."""
    request = RosterPlanRequest(period=target.name, as_of=week.as_of, name=f"weekly/{target.name}", save=week.writes)
    stored = (
        week.records.latest(PLAN_KIND, request.name) if week.writes and not week.ingested and request.name else None
    )
    kept = stored_plan(stored.payload) if stored is not None else None  # an earlier shape is made again
    same = kept is not None and kept.request.model_dump(exclude={"save"}) == request.model_dump(exclude={"save"})
    if stored is not None and kept is not None and same:
        return kept.model_copy(update={"key": request.name, "version": stored.version})
    return m.roster.roster_plan(request)


def finance_key(plan: RosterPlan) -> str:
    """What finance reconciles: the period, the goal by segment and the hires by month; its digest keys the handoff."""
    content = {
        "period": plan.period,
        "goal": {s.segment: round(s.goal, 2) for s in plan.segments},
        "hires": {s.segment: {h.month: h.hires for h in s.hires} for s in plan.segments},
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
    return f"roster-plan/{plan.period}/{digest}"


def _flags(plan: RosterPlan) -> list[FlagDraft]:
    flags = []
    for s in plan.segments:
        if s.reach_limit == "no_productivity":
            flags.append(_unknown_flag(plan, s))
            continue
        if s.base_capacity >= s.goal:
            continue
        fix = (
            f"{s.total_hires} AE hires close it, reaching {reach_label(s)}"
            if s.reachable
            else f"out of reach by hiring in time: at most {money(s.most_reachable)} is reachable "
            f"({s.most_reachable / s.goal:.0%} of the goal); binds: {limit_text(s, plan.period)}; the plan's "
            f"{s.total_hires} hires reach {reach_label(s)}"
        )
        if s.binding_constraint == "pipeline":
            fix += (
                f"; pipeline binds: creation must reach {money(s.pipeline.required_creation_per_week or 0.0)}/week "
                f"against {money(s.pipeline.expected_creation_per_week)} expected"
            )
        flags.append(
            FlagDraft(
                kind="capacity-short",
                key=f"{plan.period}/{s.segment}",
                severity="warning" if s.reachable else "critical",
                message=f"{s.segment} {plan.period}: the roster as it stands carries {money(s.base_capacity)} of a "
                f"{money(s.goal)} goal ({s.base_capacity / s.goal:.0%}); {fix}",
                evidence={
                    "goal": s.goal,
                    "goal_with_buffer": s.goal_with_buffer,
                    "base_capacity": s.base_capacity,
                    "capacity": s.capacity,
                    "total_hires": s.total_hires,
                    "reachable": s.reachable,
                    "most_reachable": s.most_reachable,
                    "reach_limit": s.reach_limit,
                    "binding_constraint": s.binding_constraint,
                    "productivity_per_rep_month": s.productivity.per_rep_month,
                    "plan_key": plan.key,
                    "plan_version": plan.version,
                },
            )
        )
    return flags


def _unknown_flag(plan: RosterPlan, s: SegmentStaffing) -> FlagDraft:
    """No productivity measured: say so instead of a roster that "carries $0"."""
    return FlagDraft(
        kind="capacity-short",
        key=f"{plan.period}/{s.segment}",
        severity="warning",
        message=f"{s.segment} {plan.period}: capacity against the {money(s.goal)} goal is unknown — "
        f"{limit_text(s, plan.period)} (data through {plan.data_through})",
        evidence={
            "goal": s.goal,
            "reach_limit": s.reach_limit,
            "productivity_window": s.productivity.window,
            "data_through": plan.data_through.isoformat(),
            "plan_key": plan.key,
            "plan_version": plan.version,
        },
    )


def _finance_handoff(m: Mandates, week: Week, plan: RosterPlan) -> HandoffDraft | None:
    """The plan for the finance-analyst, unless this plan was already handed over (then nothing is recomputed)."""
    key = finance_key(plan)
    boundary = week.role.boundary("financial-model")
    if week.records.latest(HANDOFF, handoff_id(week.engagement, boundary.owner, boundary.id, key)) is not None:
        return None
    table: FinanceTable = m.roster.roster_finance(RosterFinanceRequest(key=plan.key, version=plan.version))
    summary = {
        "period": plan.period,
        "as_of": plan.as_of.isoformat(),
        "goal": plan.goal,
        "goal_source": plan.goal_source,
        "total_hires": plan.total_hires,
        "binding_constraint": plan.binding_constraint,
        "segments": [
            {
                "segment": s.segment,
                "goal": s.goal,
                "base_capacity": s.base_capacity,
                "capacity": s.capacity,
                "hires": [h.model_dump(mode="json") for h in s.hires],
                "binding_constraint": s.binding_constraint,
            }
            for s in plan.segments
        ],
    }
    return HandoffDraft(
        boundary="financial-model",
        request=f"Reconcile the {plan.period} quota and capacity plan to the books",
        key=key,
        payload={"plan": summary, "finance": table.model_dump(mode="json")},
    )


def brief_roster(m: Mandates, week: Week) -> StepResult:
    """Capacity against the next quarter's goal, the hires that close it, and what binds."""
    found = plan_goal(week)
    if found is None:
        text = (
            f"No goal to staff against: no targets plan and no quota for {week.period.shift(1).name} or "
            f"{week.period.name}. Set one (saleslead targets set) and the roster plan follows."
        )
        unavailable = section(S.ROSTER_PLAN, text, available=False)
        return StepResult(section=unavailable, checked={"capacity-short"})
    target, _ = found
    plan = _plan(m, week, target)
    source = plan.goal_source
    base = sum(s.base_capacity for s in plan.segments)
    capacity = sum(s.capacity for s in plan.segments)
    binds = {"seller_capacity": "seller capacity", "pipeline": "pipeline", "none": "nothing", "unknown": "unknown"}
    lines = [
        f"Staffing {plan.period} against a {money(plan.goal)} goal ({source}), with a {plan.buffer:.0%} buffer. "
        f"The roster as it stands — ramp and attrition counted — carries **{money(base)}** ({base / plan.goal:.0%} "
        f"of the goal); with **{plan.total_hires} AE hires** the plan reaches {money(capacity)}. "
        f"Binding constraint: **{binds.get(plan.binding_constraint, plan.binding_constraint)}**.",
        "",
        "| segment | goal | capacity now | AE hires | capacity planned | binds |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in plan.segments:
        lines.append(
            f"| {s.segment} | {money(s.goal)} | {money(s.base_capacity)} | {s.total_hires} | {reach_label(s)}"
            f" | {binds.get(s.binding_constraint, s.binding_constraint)} |"
        )
    lines += ["", plan.verdict]
    if plan.key is not None:
        lines.append(f"_Plan {plan.key} v{plan.version}; solver: {plan.solver.status}._")
    handoffs = []
    if week.writes and plan.key is not None:
        draft = _finance_handoff(m, week, plan)
        if draft is not None:
            handoffs.append(draft)
    data = {
        "period": plan.period,
        "goal": plan.goal,
        "goal_source": source,
        "base_capacity": base,
        "capacity": capacity,
        "total_hires": plan.total_hires,
        "binding_constraint": plan.binding_constraint,
        "plan_key": plan.key,
        "plan_version": plan.version,
        "finance_key": finance_key(plan),
        "segments": [
            {
                "segment": s.segment,
                "goal": s.goal,
                "base_capacity": s.base_capacity,
                "capacity": s.capacity,
                "total_hires": s.total_hires,
                "reachable": s.reachable,
                "binding_constraint": s.binding_constraint,
            }
            for s in plan.segments
        ],
    }
    return StepResult(
        section=section(S.ROSTER_PLAN, "\n".join(lines), data),
        flags=_flags(plan),
        checked={"capacity-short"},
        handoffs=handoffs,
    )
