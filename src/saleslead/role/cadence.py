"""The weekly cadence's mandate adapters: one small function per mandate action the seat can run.

The forecast side (the call, the guard over submitted calls, stalls) is in
:mod:`saleslead.role.forecast_brief`, the roster side in :mod:`saleslead.role.staffing`.

Each adapter calls its mandate desk (typed by the Protocol in :mod:`saleslead.role.week`) with a
request built from the week's as-of date, and turns the result into a briefing section, the flags it
raises and the handoffs it issues. A mandate that cannot answer (too little history, or a failure) is
listed as missing: the briefing never invents a number a mandate did not compute.
"""

from __future__ import annotations

from typing import Any

from saleslead.errors import NotFoundError
from saleslead.format import money
from saleslead.funnel.state import state_as_of
from saleslead.role.forecast_brief import brief_calls, brief_forecast, brief_stalls
from saleslead.role.report import Section
from saleslead.role.staffing import brief_roster
from saleslead.role.week import Adapter, AdapterResult, FlagDraft, HandoffDraft, Mandates, Week
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.scorecard import CellScore, Scorecard, ScoreRequest
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsShowRequest

__all__ = ["ADAPTERS", "ANSWERS", "Adapter", "AdapterResult", "FlagDraft", "HandoffDraft", "Mandates", "Week"]


def _decided_check(m: Mandates, week: Week) -> list[FlagDraft] | None:
    """Flags from the strategy in force (``strategy_check``); None when no strategy has been decided."""
    try:
        result: StrategyCheck = m.strategy.strategy_check(CheckRequest(as_of=week.as_of, remember=False))
    except NotFoundError:
        return None
    return [
        FlagDraft(
            kind="do-not-compete",
            key=f.key,
            severity="warning",
            message=f.message,
            evidence={
                "cell": f.cell_key,
                "opportunity_id": f.opportunity_id,
                "open_amount": f.amount,
                "kind": f.kind,
                "strategy_version": result.strategy_version,
            },
        )
        for f in result.flags
    ]


def _scorecard_check(week: Week, card: Scorecard, skip: list[CellScore]) -> list[FlagDraft]:
    """Before any strategy is decided: open pipeline in the cells the scorecard says to leave alone."""
    if not skip:
        return []
    dims = card.dimensions
    state = state_as_of(week.store, week.as_of)
    open_deals = state.filter(~state.is_closed)
    cells = open_deals.group_by(list(dims)).aggregate(deals=open_deals.count(), amount=open_deals.amount.sum())
    by_key = {" / ".join(str(r[d]) for d in dims): r for r in cells.to_pyarrow().to_pylist()}
    flags = []
    for cell in skip:
        row = by_key.get(cell.key)
        if row and row["deals"]:
            amount = float(row["amount"] or 0)
            flags.append(
                FlagDraft(
                    kind="do-not-compete",
                    key=cell.key,
                    severity="warning",
                    message=f"{row['deals']} open deals ({money(amount)}) sit in {cell.key}, a do-not-compete cell",
                    evidence={
                        "cell": cell.key,
                        "open_deals": row["deals"],
                        "open_amount": amount,
                        "rules_fired": cell.rules_fired,
                        "evidence": cell.evidence,
                    },
                )
            )
    return flags


# --- strategy --------------------------------------------------------------------------------------
def _strategy(m: Mandates, week: Week) -> AdapterResult:
    card: Scorecard = m.strategy.strategy_score(ScoreRequest(as_of=week.as_of))
    dims = card.dimensions
    skip = [c for c in card.cells if c.recommendation == "do-not-compete"]
    pursue = sorted((c for c in card.cells if c.recommendation == "pursue"), key=lambda c: -(c.velocity or 0.0))
    counts = ", ".join(f"{n} {k}" for k, n in card.recommendations.items() if n)
    lines = [f"{len(card.cells)} cells scored by {' × '.join(dims)} ({counts})."]
    if pursue:
        lines.append(
            "Pursue: " + "; ".join(f"**{c.key}** (velocity {money(c.velocity or 0.0)}/day)" for c in pursue[:3]) + "."
        )
    flags = _decided_check(m, week)
    if flags is None:
        flags = _scorecard_check(week, card, skip)
    if skip:
        lines.append("The scorecard says do not compete in: " + ", ".join(f"**{c.key}**" for c in skip) + ".")
    if flags:
        total = sum(float(f.evidence.get("open_amount") or 0.0) for f in flags)
        lines.append(f"{len(flags)} open pipeline flags in do-not-compete cells, {money(total)}: stop feeding them.")
    data = {
        "recommendations": card.recommendations,
        "pursue": [c.key for c in pursue],
        "do_not_compete": [c.key for c in skip],
    }
    return AdapterResult(
        section=Section(
            id="strategy_score", title="Where we compete", available=True, text="\n".join(lines), data=data
        ),
        flags=flags,
        checked={"do-not-compete"},
    )


# --- targets ---------------------------------------------------------------------------------------
def _targets(m: Mandates, week: Week) -> AdapterResult:
    defense: Defense = m.targets.defend_targets(DefendRequest(period=week.period.name, as_of=week.as_of))
    c = defense.coverage

    def times(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}×"

    lines = [
        f"Goal {money(c.target)} ({defense.target_source}); booked {money(c.closed_won)}, {money(c.remaining)} to go.",
        f"Reported coverage {times(c.reported_coverage)} against {times(c.required_coverage)} required "
        f"(the conversion says {times(c.required_coverage_low)}–{times(c.required_coverage_high)}).",
    ]
    if c.real_coverage is not None:
        lo, hi = c.real_coverage_low, c.real_coverage_high
        rng = f" ({lo:.0%}–{hi:.0%})" if lo is not None and hi is not None else ""
        lines.append(f"Real coverage {c.real_coverage:.0%}{rng}: what the open pipeline converts to, of what is left.")
    if c.gap is not None and c.gap > 0:
        lines.append(f"Pipeline gap {money(c.gap)}" + (f", about {c.gap_deals:.0f} deals." if c.gap_deals else "."))
    flags = [
        FlagDraft(
            kind="coverage-slip", key=f.key, severity="warning", message=f.message, evidence=f.model_dump(mode="json")
        )
        for f in defense.flags
    ]
    handoffs = []
    for gap in defense.creation_gaps:
        lines.append(
            f"Creation gap in {gap.segment}: {money(gap.gap)} behind over {len(gap.weeks)} weeks "
            f"(needs {money(gap.required_per_week)} a week) — handed to the sales-development-reps."
        )
        week_start = max((w.week_start for w in gap.weeks), default=week.as_of)
        handoffs.append(
            HandoffDraft(
                boundary="top-of-funnel",
                request=f"Close the {gap.segment} pipeline creation gap for {gap.period}",
                key=f"creation-gap/{gap.period}/{gap.segment}/{week_start}",
                payload=gap.model_dump(mode="json"),
            )
        )
    data = {
        "coverage": c.model_dump(mode="json", exclude={"segments"}),
        "flags": len(flags),
        "creation_gaps": [g.segment for g in defense.creation_gaps],
    }
    return AdapterResult(
        section=Section(
            id="coverage", title="Coverage against the goal", available=True, text="\n".join(lines), data=data
        ),
        flags=flags,
        checked={"coverage-slip"},
        handoffs=handoffs,
    )


def _targets_needed(m: Mandates, week: Week) -> AdapterResult:
    """How much pipeline the quarter's goal needs: the saved targets plan, else what coverage back-solves now."""
    try:
        saved = m.targets.targets(TargetsShowRequest(period=week.period.name)).plans
    except NotFoundError:
        saved = []
    if saved:
        latest = saved[-1]
        t = latest.plan.total
        lines = [
            f"Targets plan v{latest.version} for {latest.period} ({latest.plan.goal_source}): goal "
            f"{money(latest.plan.goal)}, {money(t.required_bookings)} still to book."
        ]
        if t.pipeline_required_now is not None:
            gap = f" — {money(t.pipeline_gap)} short" if t.pipeline_gap and t.pipeline_gap > 0 else ""
            lines.append(f"Pipeline needed now {money(t.pipeline_required_now)}, {money(t.open_pipeline)} open{gap}.")
        if t.creation.steady_per_week is not None:
            lines.append(
                f"Create {money(t.creation.steady_per_week)} of pipeline a week to keep the quarter reachable."
            )
        data: dict[str, Any] = {"plan_version": latest.version, "total": t.model_dump(mode="json")}
    else:
        c = m.targets.coverage(CoverageRequest(period=week.period.name, as_of=week.as_of))
        lines = [f"No targets plan saved for {c.period}: the goal is {money(c.target)} ({c.target_source}), "
                 f"{money(c.remaining)} still to book."]  # fmt: skip
        if c.required_pipeline is not None:
            gap = f" — {money(c.gap)} short" if c.gap and c.gap > 0 else ""
            lines.append(
                f"At the conversion seen in the history, that needs {money(c.required_pipeline)} of open pipeline; "
                f"{money(c.open_pipeline)} is open{gap}."
            )
        else:
            lines.append("The conversion history is too thin to say how much pipeline that needs.")
        lines.append("Set weekly creation targets with `saleslead targets set`.")
        data = {"coverage": c.model_dump(mode="json", exclude={"segments"})}
    section = Section(id="targets", title="Pipeline the goal needs", available=True, text="\n".join(lines), data=data)
    return AdapterResult(section=section)


ADAPTERS: tuple[Adapter, ...] = (
    Adapter("forecast", "forecast", "The forecast", True, brief_forecast),
    Adapter("call_check", "forecast", "The calls on the number", False, brief_calls),
    Adapter("stalls", "forecast", "Stalled deals", True, brief_stalls),
    Adapter("coverage", "targets", "Coverage against the goal", False, _targets),
    Adapter("roster_plan", "roster", "Staffing against the gap", False, brief_roster),
    Adapter("strategy_score", "strategy", "Where we compete", True, _strategy),
)

#: actions ``ask`` answers that the weekly briefing does not carry as a section of their own
ANSWERS: tuple[Adapter, ...] = (Adapter("targets", "targets", "Pipeline the goal needs", True, _targets_needed),)
