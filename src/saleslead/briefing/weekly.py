"""The weekly briefing: the call, where the funnel leaks, staffing against the gap, flags and handoffs.

:class:`WeeklyBriefing` is what ``saleslead run`` returns (its JSON form is the documented schema);
:func:`briefing_markdown` turns it into the seat's words. Every sentence is made from the numbers in
the model, so the same briefing always reads the same.
"""

from __future__ import annotations

from saleslead.format import money
from saleslead.role.flags import Flag
from saleslead.role.handoffs import Handoff
from saleslead.role.report import CallLine, LeakLine, PipelineLine, Section, WeeklyBriefing

__all__ = ["CallLine", "LeakLine", "PipelineLine", "Section", "WeeklyBriefing", "briefing_markdown"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _call_text(b: WeeklyBriefing) -> list[str]:
    c = b.call
    if c is None:
        return [
            f"No call for {b.period} yet: this seat has no forecast to stand on, so the only honest number is "
            f"what is booked — {money(b.closed_won_to_date)} — and {money(b.open_amount)} of open pipeline "
            "that has not converted."
        ]
    rng = f" (range {money(c.low)}–{money(c.high)}" if c.low is not None and c.high is not None else " (no range"
    conf = f", {c.confidence:.0%} interval" if c.confidence else ""
    sample = f", {c.sample_size:,} deals behind it" if c.sample_size else ""
    lines = [f"**The call for {c.period}: {money(c.call)}**{rng}{conf}{sample}); method: {c.method}."]
    if c.version is not None:
        moved = ""
        if c.previous is not None:
            moved = f"; {'up' if c.call >= c.previous else 'down'} {money(abs(c.call - c.previous))} on the last call"
        lines.append(f"The seat's call v{c.version}, as of {c.as_of}{moved}.")
    if c.booked is not None and c.expected_open is not None and c.expected_new is not None:
        lines.append(
            f"Expected {money(c.booked + c.expected_open + c.expected_new)}: booked {money(c.booked)}, "
            f"{money(c.expected_open)} expected from open deals, {money(c.expected_new)} from pipeline not yet created."
        )
    lines += _bridge_text(c)
    if c.verdict:
        lines.append(f"Guard verdict on the call: **{c.verdict}**.")
    for f in b.flags:
        if f.kind == "call-guard":
            lines.append(f"- **[{f.severity}]** {f.message}.")
    if b.open_amount and c.call:
        lines.append(
            f"Open pipeline is {b.open_amount / c.call:.1f}× the call; booked to date {money(b.closed_won_to_date)}."
        )
    return lines


def _bridge_text(c: CallLine) -> list[str]:
    """Why the P50 moved since the bridge's start date, biggest components first."""
    if c.bridge_since is None or c.bridge_from is None or not c.bridge:
        return []
    moved = sum(x.p50 for x in c.bridge)
    parts = sorted((x for x in c.bridge if abs(x.p50) >= 0.5), key=lambda x: -abs(x.p50))

    def signed(v: float) -> str:
        return ("+" if v >= 0 else "−") + money(abs(v))

    words = ", ".join(f"{x.component.replace('_', ' ')} {signed(x.p50)}" for x in parts) or "nothing moved"
    return [f"Since {c.bridge_since} the P50 moved {signed(moved)} (from {money(c.bridge_from)}): {words}."]


def _leak_text(b: WeeklyBriefing) -> list[str]:
    judged = [x for x in b.leaks if x.conversion is not None and not x.thin]
    if not judged:
        return ["Not enough closed history to say where the funnel leaks; conversion is unmeasured, not fine."]
    worst = min(judged, key=lambda x: x.conversion if x.conversion is not None else 1.0)
    lines = [
        f"The funnel leaks most at **{worst.stage}**: {_pct(worst.conversion)} move on "
        f"({_pct(worst.low)}–{_pct(worst.high)}, {worst.advanced + worst.lost:,} decided deals); "
        f"{worst.lost:,} died there.",
        "",
        "| stage | reached | advanced | lost | conversion | range |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for x in b.leaks:
        thin = " (thin)" if x.thin else ""
        lines.append(
            f"| {x.stage} | {x.reached:,} | {x.advanced:,} | {x.lost:,} | {_pct(x.conversion)}{thin} | "
            f"{_pct(x.low)}–{_pct(x.high)} |"
        )
    lines += ["", f"_{b.leak_evidence}_"]
    return lines


def _pipeline_text(b: WeeklyBriefing) -> list[str]:
    if b.open_count == 0:
        return ["No open pipeline. Creation is the whole story this week."]
    lines = [
        f"{b.open_count:,} open deals, {money(b.open_amount)}. It counts once it converts, not before.",
        "",
        "| segment | deals | amount | share |",
        "|---|---:|---:|---:|",
    ]
    for s in b.pipeline_by_segment:
        lines.append(f"| {s.name} | {s.count:,} | {money(s.amount)} | {s.amount / b.open_amount:.0%} |")
    early = b.pipeline_by_stage[0] if b.pipeline_by_stage else None
    if early is not None and early.amount / b.open_amount > 0.4:
        lines += [
            "",
            f"{early.amount / b.open_amount:.0%} of it sits in {early.name}, the first stage: read it at its "
            "conversion, not at face value.",
        ]
    return lines


_SEVERITY = {"critical": 0, "warning": 1, "info": 2}
_LISTED = 5  # per kind of flag and per receiving role; the rest are counted


def _flag_text(b: WeeklyBriefing) -> list[str]:
    if not b.flags:
        lines = ["None open."]
    else:
        lines = []
        kinds: dict[str, list[Flag]] = {}
        for f in b.flags:
            kinds.setdefault(f.kind, []).append(f)
        order = sorted(kinds, key=lambda k: (min(_SEVERITY[f.severity] for f in kinds[k]), k))
        for kind in order:
            flags = sorted(
                kinds[kind], key=lambda f: (_SEVERITY[f.severity], -float(f.evidence.get("amount") or 0.0), f.id)
            )
            for f in flags[:_LISTED]:
                new = " **(new)**" if f.id in b.new_flags else ""
                lines.append(f"- [{f.severity}] {f.message} — since {f.raised_as_of}{new}")
            rest = flags[_LISTED:]
            if rest:
                fresh = sum(1 for f in rest if f.id in b.new_flags)
                lines.append(f"- … and {len(rest)} more {kind} flags ({fresh} new)")
    if b.resolved_flags:
        shown = ", ".join(b.resolved_flags[: _LISTED * 2])
        more = f" and {len(b.resolved_flags) - _LISTED * 2} more" if len(b.resolved_flags) > _LISTED * 2 else ""
        lines.append(f"Cleared this week: {shown}{more}.")
    return lines


def _handoff_text(b: WeeklyBriefing) -> list[str]:
    if not b.handoffs:
        return ["Nothing handed off."]
    lines: list[str] = []
    roles: dict[str, list[Handoff]] = {}
    for h in b.handoffs:
        roles.setdefault(h.to_role, []).append(h)
    for role, handoffs in roles.items():
        fresh = [h for h in handoffs if h.id in b.new_handoffs]
        if lines:  # a blank line ends the previous role's list (else Markdown runs the header into it)
            lines.append("")
        lines.append(f"**{role}**: {len(handoffs)} not done, {len(fresh)} new this week.")
        for h in (fresh + [h for h in handoffs if h.id not in b.new_handoffs])[:_LISTED]:
            new = " **(new)**" if h.id in b.new_handoffs else ""
            lines.append(f"- `{h.id}` ({h.boundary}, {h.status}): {h.request}{new}")
        if len(handoffs) > _LISTED:
            lines.append(f"- … and {len(handoffs) - _LISTED} more")
    return lines


def briefing_markdown(b: WeeklyBriefing) -> str:
    """The briefing in the seat's voice, as Markdown."""
    out = [f"# Sales-lead briefing — week of {b.as_of} ({b.period})", ""]
    out += ["## The call", "", *_call_text(b), ""]
    out += ["## Where the funnel leaks", "", *_leak_text(b), ""]
    out += ["## Pipeline", "", *_pipeline_text(b), ""]
    for section in b.sections:
        out += [f"## {section.title}", "", section.text, ""]
    out += ["## Open flags", "", *_flag_text(b), ""]
    out += ["## Handoffs", "", *_handoff_text(b)]
    if b.mandates_missing:
        out += ["", f"_Not on this seat yet: {', '.join(b.mandates_missing)}._"]
    return "\n".join(out).rstrip() + "\n"
