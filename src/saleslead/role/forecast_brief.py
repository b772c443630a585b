"""The forecast mandate in the weekly cadence: the call, the honesty guard over submitted calls, stalls.

* **the call** — the forecast of the week's quarter (the seat's default scenario count, so the one
  outlook is shared by the forecast, the seat's call and the guard), its parts (booked, expected from
  open deals, expected from pipeline not yet created), the bridge from the week before (when that week
  is in the same quarter: the P50's move by component), and the seat's own call: its P50 with the
  P10–P90 range, stored as a version (the same week's call is reused, not stored twice);
* **the guard** — every submitted call of the quarter re-checked as of the week (``call_check``), and
  the open guard flags of calls on later periods (``forecast_flags``): ``outruns-pipeline`` is a
  critical flag, ``stretch`` a warning, keyed by the call's version so the flag stays until the call
  changes;
* **stalls** — each stalled deal (``stalls``) is a flag and a handoff to the account executive who
  works it, keyed by the deal and its stage: a deal stuck in the same stage week after week is handed
  over once.
"""

from __future__ import annotations

from datetime import timedelta

from saleslead.forecast.schemas import (
    CallCheck,
    CallCheckRequest,
    CallListRequest,
    CallRecord,
    ForecastRequest,
    ForecastResult,
    SeatCallRequest,
    StallsRequest,
    StallsResult,
)
from saleslead.format import money
from saleslead.periods import Period
from saleslead.role import specs as S
from saleslead.role.report import BridgeLine, CallLine
from saleslead.role.week import FlagDraft, HandoffDraft, Mandates, StepResult, Week, section

__all__ = ["brief_calls", "brief_forecast", "brief_stalls", "guard_flag"]

SEAT_CALL_CATEGORY = "seat-call"


def _seat_call(m: Mandates, week: Week, result: ForecastResult) -> CallRecord:
    """The seat's call of the week: reused when this week's is stored with the same number, else made now."""
    if not week.ingested:
        stored = [
            c
            for c in m.forecast.call_list(CallListRequest(period=result.period)).calls
            if c.category == SEAT_CALL_CATEGORY and c.as_of == week.as_of
        ]
        if stored and abs(stored[-1].amount - result.total.p50) < 0.01:
            return stored[-1]
    return m.forecast.seat_call(SeatCallRequest(period=result.period, as_of=week.as_of))


def brief_forecast(m: Mandates, week: Week) -> StepResult:
    """The forecast section and the call (the seat's own, stored when the cadence writes)."""
    since = week.as_of - timedelta(days=7)
    request = ForecastRequest(
        period=week.period.name, as_of=week.as_of, since=since if since >= week.period.start else None
    )
    result: ForecastResult = m.forecast.forecast(request)
    t = result.total
    bridge = result.bridge
    record = _seat_call(m, week, result) if week.writes else None
    check = record.check if record is not None else None
    call = CallLine(
        period=result.period,
        call=record.amount if record is not None else t.p50,
        low=record.p10 if record is not None and record.p10 is not None else t.p10,
        high=record.p90 if record is not None and record.p90 is not None else t.p90,
        confidence=0.8,
        method=result.method.name,
        sample_size=result.method.training_deals,
        verdict=check.verdict if check is not None else None,
        version=record.version if record is not None else None,
        as_of=record.as_of if record is not None else None,
        previous=record.previous_amount if record is not None else None,
        booked=t.closed_won,
        expected_open=t.expected_open,
        expected_new=t.expected_new,
        bridge_since=bridge.since if bridge is not None else None,
        bridge_from=bridge.total.start.p50 if bridge is not None else None,
        bridge=[
            BridgeLine(component=s.component, p50=s.p50, mean=s.mean, deals=s.deals, amount=s.amount)
            for s in (bridge.total.steps if bridge is not None else [])
        ],
    )
    lines = [
        f"Median outcome {money(t.p50)} (P10 {money(t.p10)} – P90 {money(t.p90)}), of which {money(t.closed_won)} is "
        f"already booked; {result.scenarios:,} scenarios, trained on {result.method.training_deals:,} deals.",
        f"Mean {money(t.mean)} = booked {money(t.closed_won)} + {money(t.expected_open)} expected from open deals "
        f"+ {money(t.expected_new)} from pipeline not yet created.",
    ]
    if bridge is not None:
        steps = ", ".join(f"{s.component.replace('_', ' ')} {s.p50:+,.0f}" for s in bridge.total.steps if s.p50)
        lines.append(
            f"Since {bridge.since}: P50 {money(bridge.total.start.p50)} → {money(bridge.total.end.p50)} "
            f"({steps or 'no movement'})."
        )
    if record is not None:
        moved = ""
        if record.previous_amount is not None:
            delta = record.amount - record.previous_amount
            moved = f"; {'up' if delta >= 0 else 'down'} {money(abs(delta))} on the previous call"
        lines.append(f"The seat's call, version {record.version} as of {record.as_of}: {money(record.amount)}{moved}.")
    for seg in result.segments:
        lines.append(f"- {seg.segment}: {money(seg.p50)} ({money(seg.p10)}–{money(seg.p90)})")
    data = {
        "total": t.model_dump(mode="json"),
        "method": result.method.name,
        "scenarios": result.scenarios,
        "training_deals": result.method.training_deals,
        "seat_call": record.model_dump(mode="json", exclude={"check"}) if record is not None else None,
        "bridge": bridge.model_dump(mode="json", exclude={"nodes"}) if bridge is not None else None,
    }
    return StepResult(
        section=section(S.FORECAST, "\n".join(lines), data),
        call=call,
    )


_VERDICT_TEXT = {
    "outruns-pipeline": "OUTRUNS THE PIPELINE",
    "stretch": "is a stretch",
    "sandbag": "is a SANDBAG (below the pipeline's P10)",
}


def guard_flag(check: CallCheck, author: str) -> FlagDraft | None:
    """A flag for a call the guard does not support: critical when it outruns the pipeline, else a warning."""
    if check.verdict == "supported":
        return None
    who = "the total" if check.node == "total" else check.node
    message = (
        f"The {check.period} {check.category} call for {who} by {author}, {money(check.amount)}, "
        f"{_VERDICT_TEXT.get(check.verdict, check.verdict)}: "
        f"P(outcome ≥ call) {check.p_outcome_at_least_call:.0%}; the pipeline says {money(check.node_p50)} "
        f"(P10 {money(check.node_p10)} – P90 {money(check.node_p90)})"
    )
    evidence = check.model_dump(mode="json", exclude={"deals_needed", "deals_to_slip"})
    evidence["author"] = author
    evidence["deals_needed"] = [d.opportunity_id for d in check.deals_needed[:10]]
    evidence["deals_to_slip"] = [d.opportunity_id for d in check.deals_to_slip[:10]]
    return FlagDraft(
        kind="call-guard",
        key=f"{check.period}/{check.node}/v{check.version}",
        severity="critical" if check.verdict == "outruns-pipeline" else "warning",
        message=message,
        evidence=evidence,
    )


def brief_calls(m: Mandates, week: Week) -> StepResult:
    """The submitted calls of the quarter, re-checked as of the week, and open guard flags on later periods."""
    checked = m.forecast.call_check(CallCheckRequest(period=week.period.name, as_of=week.as_of))
    calls: list[CallRecord] = [c for c in checked.calls if c.check is not None]
    flags = [f for c in calls if c.check is not None and (f := guard_flag(c.check, c.author)) is not None]
    fiscal = week.settings.fiscal_start_month
    later: list[CallCheck] = [
        c
        for c in m.forecast.forecast_flags()
        if c.period != week.period.name and Period.parse(c.period, fiscal).end > week.as_of
    ]
    flags += [f for c in later if (f := guard_flag(c, "its author")) is not None]
    if not calls:
        lines = [f"No calls submitted for {week.period.name}: the seat's own call stands alone."]
    else:
        lines = [
            f"{len(calls)} calls on {week.period.name}, each checked against the pipeline as of {week.as_of}:",
            "",
            "| node | by | category | call | P(outcome ≥ call) | pipeline P10–P90 | verdict |",
            "|---|---|---|---:|---:|---|---|",
        ]
        for c in calls:
            k = c.check
            assert k is not None
            lines.append(
                f"| {c.node} | {c.author} | {c.category} | {money(c.amount)} | {k.p_outcome_at_least_call:.0%} | "
                f"{money(k.node_p10)}–{money(k.node_p90)} | **{k.verdict}** |"
            )
        out = [c for c in calls if c.check is not None and c.check.verdict == "outruns-pipeline"]
        if out:
            lines += ["", f"{len(out)} of them outrun what the pipeline can carry. A call is a claim on pipeline."]
    if later:
        lines.append(f"{len(later)} calls on later periods still flagged by the guard.")
    data = {
        "calls": [
            c.model_dump(mode="json", exclude={"check"}) | {"verdict": c.check.verdict if c.check else None}
            for c in calls
        ],
        "flagged": len(flags),
    }
    return StepResult(
        section=section(S.CALL_CHECK, "\n".join(lines), data),
        flags=flags,
        checked={"call-guard"},
    )


def _owner_names(week: Week) -> dict[str, str]:
    users = week.store.table("users").select("user_id", "name").to_pyarrow().to_pylist()
    return {u["user_id"]: u["name"] or u["user_id"] for u in users}


def brief_stalls(m: Mandates, week: Week) -> StepResult:
    """Each stalled deal: a flag, and a handoff to the account executive with the deal's evidence."""
    result: StallsResult = m.forecast.stalls(StallsRequest(as_of=week.as_of))
    names = _owner_names(week)
    evidence = result.evidence.model_dump(mode="json")
    flags: list[FlagDraft] = []
    handoffs: list[HandoffDraft] = []
    by_owner: dict[str, list[float]] = {}
    for item in result.items:
        deal = item.model_dump(mode="json")
        owner = names.get(item.owner_id, item.owner_id)
        label = item.name or item.opportunity_id
        by_owner.setdefault(owner, []).append(item.amount)
        flags.append(
            FlagDraft(
                kind="stall",
                key=item.opportunity_id,
                severity="warning",
                message=f"{label} ({item.segment}, {item.stage}, {money(item.amount)}, {owner}): "
                + "; ".join(item.reasons),
                evidence={"amount": item.amount, "owner": owner, "opportunity_id": item.opportunity_id},
            )
        )
        handoffs.append(
            HandoffDraft(
                boundary="deal-execution",
                request=f"Work the stalled deal {label}: {item.stage}, {money(item.amount)}, owner {owner}",
                key=f"stall/{item.opportunity_id}/{item.stage}",
                payload={"deal": deal, "owner_name": owner, "as_of": week.as_of.isoformat(), "evidence": evidence},
            )
        )
    total = sum(i.amount for i in result.items)
    if not result.items:
        lines = [f"No stalled deals among {result.evidence.note or 'the open deals'}. Keep it that way."]
    else:
        share = f" ({total / week.status.open_amount:.0%} of open pipeline)" if week.status.open_amount else ""
        lines = [
            f"**{len(result.items)} open deals have stopped moving, {money(total)}**{share}: each is handed to the "
            "account executive who owns it, with its evidence. A stall named now costs less than a slip explained "
            "later.",
            "",
            "| owner | stalled deals | amount |",
            "|---|---:|---:|",
        ]
        worst = sorted(by_owner.items(), key=lambda kv: -sum(kv[1]))
        for owner, amounts in worst[:5]:
            lines.append(f"| {owner} | {len(amounts)} | {money(sum(amounts))} |")
        if len(worst) > 5:
            rest = [a for _, amounts in worst[5:] for a in amounts]
            lines.append(f"| {len(worst) - 5} more owners | {len(rest)} | {money(sum(rest))} |")
        lines += ["", "Biggest:"]
        for item in sorted(result.items, key=lambda i: -i.amount)[:5]:
            label = item.name or item.opportunity_id
            lines.append(f"- {label} ({item.stage}, {money(item.amount)}): {item.reasons[0]}")
        lines += ["", f"_{result.evidence.method}; n={result.evidence.sample_size}; {result.evidence.note}_"]
    data = {
        "stalled": len(result.items),
        "amount": total,
        "by_owner": {owner: {"deals": len(a), "amount": sum(a)} for owner, a in by_owner.items()},
        "evidence": evidence,
    }
    return StepResult(
        section=section(S.STALLS, "\n".join(lines), data),
        flags=flags,
        checked={"stall"},
        handoffs=handoffs,
    )
