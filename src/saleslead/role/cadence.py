"""The weekly cadence's steps, built from the action table: one step per action the seat says in words.

Each :class:`Step` is an action's spec (:mod:`saleslead.role.specs`: the section's id, mandate and title) with
the function that briefs on it. The function calls its mandate desk (typed by the Protocol in
:mod:`saleslead.role.week`) with a request built from the week's as-of date, and turns the result into the
section, the flags it raises and the handoffs it issues. :data:`WEEK` is what ``saleslead run`` runs, in the
briefing's order; :data:`ASK_ONLY` are the actions ``ask`` answers that the briefing carries elsewhere (the
pipeline, in its own table) or not at all. Every action of the table with a section is one of them
(``tests/test_actions.py``). A mandate that cannot answer (too little history, or a failure) is listed as
missing: the briefing never invents a number a mandate did not compute.

The forecast side (the call, the guard over submitted calls, stalls) is in :mod:`saleslead.role.forecast_brief`,
the roster side in :mod:`saleslead.role.staffing`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from saleslead.errors import InsufficientDataError, NotFoundError
from saleslead.format import money
from saleslead.funnel.conversion import stage_conversion
from saleslead.funnel.state import state_as_of
from saleslead.role import specs as S
from saleslead.role.forecast_brief import brief_calls, brief_forecast, brief_stalls
from saleslead.role.report import LeakLine
from saleslead.role.staffing import brief_roster
from saleslead.role.week import FlagDraft, HandoffDraft, Mandates, Step, StepResult, Week, section
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.scorecard import CellScore, Scorecard, ScoreRequest
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsShowRequest

__all__ = ["ASK_ONLY", "WEEK", "FlagDraft", "HandoffDraft", "Mandates", "Step", "StepResult", "Week", "leaks"]


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
def _strategy(m: Mandates, week: Week) -> StepResult:
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
    return StepResult(
        section=section(S.STRATEGY_SCORE, "\n".join(lines), data),
        flags=flags,
        checked={"do-not-compete"},
    )


# --- targets ---------------------------------------------------------------------------------------
def _targets(m: Mandates, week: Week) -> StepResult:
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
    return StepResult(
        section=section(S.COVERAGE, "\n".join(lines), data),
        flags=flags,
        checked={"coverage-slip"},
        handoffs=handoffs,
    )


def _targets_needed(m: Mandates, week: Week) -> StepResult:
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
    return StepResult(section=section(S.TARGETS, "\n".join(lines), data))


# --- the pipeline ----------------------------------------------------------------------------------
def leaks(store: Store, as_of: date, settings: Settings) -> tuple[list[LeakLine], str]:
    """Stage by stage, how many deals move on (with intervals), and the evidence behind it in one line."""
    try:
        funnel = stage_conversion(store, as_of, confidence=settings.confidence, min_sample=settings.min_sample)
    except InsufficientDataError as error:
        return [], str(error)
    lines = [
        LeakLine(
            stage=s.stage,
            next_stage=s.next_stage,
            reached=s.reached,
            advanced=s.advanced,
            lost=s.lost,
            conversion=s.conversion.value,
            low=s.conversion.low,
            high=s.conversion.high,
            thin=s.conversion.thin,
        )
        for s in funnel.stages
    ]
    note = (
        f"Deals created {funnel.cohort_start}..{funnel.cohort_end} (matured {funnel.maturity_days} days); "
        f"{funnel.evidence.method}, n={funnel.evidence.sample_size}"
    )
    return lines, note


def _pipeline(m: Mandates, week: Week) -> StepResult:
    """The open pipeline and where the funnel leaks most (the briefing shows both as tables of its own)."""
    found, note = leaks(week.store, week.as_of, week.settings)
    s = week.status
    worst = min(
        (x for x in found if x.conversion is not None and not x.thin), key=lambda x: x.conversion or 1.0, default=None
    )
    text = f"{s.open_count:,} open deals worth {money(s.open_amount)} as of {week.as_of}."
    if worst is not None:
        text += f" The funnel leaks most at {worst.stage}: {worst.conversion:.0%} move on."
    data = {
        "status": s.model_dump(mode="json"),
        "leaks": [x.model_dump(mode="json") for x in found],
        "leak_evidence": note,
    }
    return StepResult(section=section(S.PIPELINE, text, data))


#: the weekly cadence, in the briefing's order (the forecast first: the call, then the calls checked against it)
WEEK: tuple[Step, ...] = (
    Step(S.FORECAST, brief_forecast),
    Step(S.CALL_CHECK, brief_calls),
    Step(S.STALLS, brief_stalls),
    Step(S.COVERAGE, _targets),
    Step(S.ROSTER_PLAN, brief_roster),
    Step(S.STRATEGY_SCORE, _strategy),
)

#: actions ``ask`` answers that the weekly briefing does not carry as a section of their own
ASK_ONLY: tuple[Step, ...] = (Step(S.TARGETS, _targets_needed), Step(S.PIPELINE, _pipeline))
