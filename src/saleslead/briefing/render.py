"""Deterministic briefing text from the numbers, in the seat's voice: blunt about the funnel."""

from __future__ import annotations

from saleslead.format import money
from saleslead.status import StatusReport

__all__ = ["pipeline_briefing"]


def pipeline_briefing(status: StatusReport) -> str:
    """The pipeline section of the briefing, as Markdown."""
    lines = [f"## Pipeline as of {status.as_of}", ""]
    if status.open_count == 0:
        lines.append("No open pipeline. Nothing to forecast against — creation is the only story this week.")
        return "\n".join(lines)
    lines.append(
        f"{status.open_count:,} open deals worth {money(status.open_amount)}. "
        "Open pipeline is a claim, not a number: it counts only once it converts."
    )
    lines += ["", "| segment | deals | amount | share |", "|---|---:|---:|---:|"]
    for s in status.open_by_segment:
        lines.append(f"| {s.name} | {s.count:,} | {money(s.amount)} | {s.amount / status.open_amount:.0%} |")
    lines += ["", "| stage | deals | amount | share |", "|---|---:|---:|---:|"]
    for s in status.open_by_stage:
        lines.append(f"| {s.name} | {s.count:,} | {money(s.amount)} | {s.amount / status.open_amount:.0%} |")
    early = status.open_by_stage[0] if status.open_by_stage else None
    if early is not None and early.amount / status.open_amount > 0.4:
        lines += [
            "",
            f"{early.amount / status.open_amount:.0%} of the money sits in {early.name}, the earliest stage: "
            "most of it will not close, and none of it should be read as coverage at face value.",
        ]
    won = status.closed_won_quarter_to_date
    lines += ["", f"Closed-won {won.period} to date: {won.count:,} deals, {money(won.amount)}."]
    return "\n".join(lines)
