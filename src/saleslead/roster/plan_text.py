"""The roster plan in words: the verdict, what binds, and labels that say exactly what they measure — shared by
the plan, the CLI, the dashboard and the weekly briefing."""

from __future__ import annotations

from saleslead.format import money
from saleslead.roster.plan_models import SegmentStaffing

__all__ = ["limit_text", "plan_verdict", "reach_label", "sdr_text", "segment_verdict"]


def reach_label(s: SegmentStaffing) -> str:
    """The planned capacity and its share of the goal (not of the gap), e.g. ``$8.20M (78% of goal)``."""
    if s.reach_limit == "no_productivity":
        return "unknown (no productivity measured)"
    share = f"{s.capacity_vs_goal:.0%} of goal" if s.capacity_vs_goal is not None else "no goal"
    return f"{money(s.capacity)} ({share}{'' if s.reachable else '; out of reach'})"


def limit_text(s: SegmentStaffing, period: str) -> str:
    """Why no hiring in time reaches the goal."""
    h = s.hiring
    if s.reach_limit == "no_productivity":
        window = s.productivity.window
        span = f"{window[0]}..{window[-1]}" if window else "the window"
        return f"no bookings of ramped AEs measured in {span}: capacity cannot be sized from this data"
    first = h.yield_by_start[0] if h.yield_by_start else None
    books = ""
    if first is not None:
        books = f"; one starting then books {first.share_of_ramped:.0%} of what a ramped seller books in {period}"
    if s.reach_limit == "hiring_rate":
        return (
            f"the hiring rate — the {h.run_rate_hires} seats the run rate needs would reach it if all started "
            f"{h.earliest_start}, but the monthly hiring cap lets too few start that early"
        )
    return (
        f"time — a hire approved now starts {h.earliest_start} at the earliest ({h.lead_time_months}-month lead "
        f"time) and is ramped by {h.ramped_by}{books}"
    )


def sdr_text(s: SegmentStaffing) -> str:
    sdr = s.sdr
    if sdr.sdr_hires is None:
        return "SDR seats unknown (no SDR-booked opportunities measured)"
    return f"{sdr.sdr_hires} SDR hires — {sdr.binds_note}"


def segment_verdict(s: SegmentStaffing, period: str) -> str:
    """One segment in a sentence: what binds, the hires, what they reach against the goal."""
    if s.reach_limit == "no_productivity":
        return f"{s.segment}: productivity unknown — {limit_text(s, period)}"
    if not s.reachable:
        most = s.most_reachable / s.goal if s.goal > 0 else 0.0
        h = s.hiring
        run = f"{h.run_rate_sellers:.1f}" if h.run_rate_sellers is not None else "?"
        text = (
            f"{s.segment}: out of reach in {period} — at most {money(s.most_reachable)} ({most:.0%} of the "
            f"{money(s.goal)} goal) with every start month at the hiring cap; binds: {limit_text(s, period)}. "
            f"The plan starts the {s.total_hires} hires the goal's run rate needs ({run} ramped sellers against "
            f"{h.heads_at_period_end:.1f} heads at the period's end), reaching {reach_label(s)}"
        )
    elif s.total_hires:
        first = s.hires[0].month
        text = f"{s.segment}: seller capacity binds — {s.total_hires} AE hires from {first} reach {reach_label(s)}"
    else:
        text = f"{s.segment}: the roster as it stands reaches the goal with the buffer ({reach_label(s)})"
    if s.binding_constraint == "pipeline":
        p = s.pipeline
        text += (
            f"; pipeline-limited — creation must reach {money(p.required_creation_per_week or 0.0)}/week against "
            f"{money(p.expected_creation_per_week)} expected: the fix is creation ({sdr_text(s)}), not only AE seats"
        )
    return text


def plan_verdict(segments: list[SegmentStaffing], total_hires: int, period: str) -> str:
    return f"{period}: {total_hires} AE hires in all. " + "; ".join(segment_verdict(s, period) for s in segments) + "."
