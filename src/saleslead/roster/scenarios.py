"""Plan versions side by side: a scenario summary line per plan, and the diff of two stored versions.

A plan is stored as a record of kind ``roster_plan`` under its key (default ``<period>/<scenario>``);
storing again adds a version. The diff compares hires by segment and month, capacity, goal, binding
constraint and SDR hires: ``delta = b − a``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from saleslead.roster.plan import RosterPlan

__all__ = ["HireDelta", "PlanDiff", "PlanRef", "ScenarioLine", "diff_plans", "scenario_line"]

PLAN_KIND = "roster.plan"
#: the record kind of a rebalance
REBALANCE_KIND = "roster.rebalance"


class ScenarioLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    scenario: str
    key: str | None
    version: int | None
    win_rate_delta_pts: float
    attrition_delta: float
    ramp_delta_months: float
    goal: float
    capacity: float
    capacity_vs_goal: float | None
    total_hires: int
    sdr_hires: int
    binding_constraint: str


class PlanRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    version: int
    scenario: str
    as_of: str
    period: str


class HireDelta(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    month: str
    a: int
    b: int
    delta: int


class PlanDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    a: PlanRef
    b: PlanRef
    hires: list[HireDelta]  # only where they differ
    total_hires: tuple[int, int]
    capacity: tuple[float, float]
    goal: tuple[float, float]
    binding_constraint: tuple[str, str]
    by_segment: dict[str, dict[str, Any]]
    changed: bool


def scenario_line(plan: RosterPlan) -> ScenarioLine:
    capacity = sum(s.capacity for s in plan.segments)
    return ScenarioLine(
        scenario=plan.scenario,
        key=plan.key,
        version=plan.version,
        win_rate_delta_pts=plan.win_rate_delta_pts,
        attrition_delta=plan.attrition_delta,
        ramp_delta_months=plan.ramp_delta_months,
        goal=plan.goal,
        capacity=capacity,
        capacity_vs_goal=capacity / plan.goal if plan.goal else None,
        total_hires=plan.total_hires,
        sdr_hires=sum(s.sdr.sdr_hires or 0 for s in plan.segments),
        binding_constraint=plan.binding_constraint,
    )


def _ref(plan: RosterPlan) -> PlanRef:
    return PlanRef(
        key=plan.key or "", version=plan.version or 0, scenario=plan.scenario, as_of=str(plan.as_of), period=plan.period
    )


def diff_plans(a: RosterPlan, b: RosterPlan) -> PlanDiff:
    def hires(plan: RosterPlan) -> dict[tuple[str, str], int]:
        return {(s.segment, h.month): h.hires for s in plan.segments for h in s.hires}

    ha, hb = hires(a), hires(b)
    deltas = [
        HireDelta(
            segment=seg,
            month=month,
            a=ha.get((seg, month), 0),
            b=hb.get((seg, month), 0),
            delta=hb.get((seg, month), 0) - ha.get((seg, month), 0),
        )
        for seg, month in sorted(set(ha) | set(hb))
        if ha.get((seg, month), 0) != hb.get((seg, month), 0)
    ]
    sa = {s.segment: s for s in a.segments}
    sb = {s.segment: s for s in b.segments}
    by_segment: dict[str, dict[str, Any]] = {}
    for seg in sorted(set(sa) | set(sb)):
        x, y = sa.get(seg), sb.get(seg)
        by_segment[seg] = {
            "hires": (x.total_hires if x else 0, y.total_hires if y else 0),
            "capacity": (x.capacity if x else 0.0, y.capacity if y else 0.0),
            "goal": (x.goal if x else 0.0, y.goal if y else 0.0),
            "binding_constraint": (x.binding_constraint if x else "-", y.binding_constraint if y else "-"),
            "sdr_hires": (x.sdr.sdr_hires if x else None, y.sdr.sdr_hires if y else None),
        }
    cap_a = sum(s.capacity for s in a.segments)
    cap_b = sum(s.capacity for s in b.segments)
    return PlanDiff(
        a=_ref(a),
        b=_ref(b),
        hires=deltas,
        total_hires=(a.total_hires, b.total_hires),
        capacity=(cap_a, cap_b),
        goal=(a.goal, b.goal),
        binding_constraint=(a.binding_constraint, b.binding_constraint),
        by_segment=by_segment,
        changed=bool(deltas) or abs(cap_a - cap_b) > 1e-6 or a.binding_constraint != b.binding_constraint,
    )
