"""CLI commands for: Mandate 2 — set and defend pipeline targets (``targets set|show|defend`` and ``coverage``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from saleslead.cli.common import AsOfOption, EngagementOption, JsonOption, StoreOption, as_of_date, open_seat
from saleslead.cli.output import console, emit_json, guarded, money
from saleslead.cli.output import table as out_table
from saleslead.errors import InputError
from saleslead.stored import stored_answer
from saleslead.targets.schemas import Coverage, CoverageRequest, DefendRequest, TargetsRequest, TargetsShowRequest

if TYPE_CHECKING:
    from saleslead.targets.defend import Defense
    from saleslead.targets.plan import TargetPlan

__all__ = ["register"]

PeriodOption = Annotated[str, typer.Option("--period", help="The period, written YYYY-Qn (fiscal quarters).")]
SegmentOption = Annotated[
    list[str] | None,
    typer.Option("--segment", help="A segment's target as NAME=AMOUNT; repeat for each segment."),
]


def _segments(values: list[str] | None) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for item in values:
        name, sep, amount = item.partition("=")
        try:
            out[name.strip()] = float(amount.replace(",", "").replace("_", ""))
        except ValueError:
            raise InputError(f"--segment must be NAME=AMOUNT, got {item!r}") from None
        if not sep or not name.strip():
            raise InputError(f"--segment must be NAME=AMOUNT, got {item!r}")
    return out


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_coverage(cov: Coverage) -> None:
    console.print(
        f"[bold]Coverage {cov.period}[/] as of {cov.as_of} — target from {cov.target_source}; "
        f"conversion measured on {', '.join(cov.evidence.periods_used) or 'no earlier period'}"
    )
    table = out_table(
        "segment", "target", "closed\nwon", "to book", "open", "reported\ncoverage", "required\n(range)", "real",
        "expected", "gap", "gap\ndeals", text=("segment",),
    )  # fmt: skip
    # the company's line once: a store whose only segment is "All" lists it among the segments already
    lines = [*cov.segments, *([cov] if all(s.segment != cov.segment for s in cov.segments) else [])]
    for line in lines:
        table.add_row(
            line.segment,
            money(line.target),
            money(line.closed_won),
            money(line.remaining),
            money(line.open_pipeline),
            _x(line.reported_coverage),
            f"{_x(line.required_coverage)}\n{_r(line.required_coverage_low)}–{_r(line.required_coverage_high)}",
            "—" if line.real_coverage is None else f"{line.real_coverage:.0%}",
            money(line.expected_bookings),
            money(line.gap),
            "—" if line.gap_deals is None else f"{line.gap_deals:.1f}",
        )
    console.print(table)
    if cov.source == "outlook":
        console.print(
            f"expected (the forecast's outlook): booked {money(cov.closed_won)} + {money(cov.expected_from_pipeline)} "
            f"from the pipeline dated in the period + {money(cov.expected_from_pull_ins)} from deals dated later + "
            f"{money(cov.expected_from_new)} from pipeline not yet created = {money(cov.expected_bookings)} "
            f"(P10 {money(cov.bookings_p10)} – P90 {money(cov.bookings_p90)}); real coverage's range from P10–P90"
        )
    conv = cov.evidence.conversion
    check = cov.same_point
    label = "cross-check, same-point conversion" if cov.source == "outlook" else "evidence"
    console.print(
        f"{label}: {cov.evidence.sample_size:,} deals open at the same point, {cov.evidence.won_deals:,} won; "
        f"conversion {conv.value or 0:.1%} ({conv.low or 0:.1%}–{conv.high or 0:.1%})"
        + (" [yellow]thin[/]" if cov.evidence.thin else "")
        + (
            f"; expects {money(check.expected_bookings)} ({money(check.difference)} from the outlook's)"
            if check is not None and check.expected_bookings is not None and check.difference is not None
            else ""
        )
    )


def print_plan(plan: TargetPlan) -> None:
    console.print(
        f"[bold]Targets {plan.period}[/] v{plan.version} set by {plan.author} at {plan.set_at:%Y-%m-%d %H:%M} "
        f"(as of {plan.as_of}; goal {money(plan.goal)} from {plan.goal_source})"
    )
    table = Table(
        "segment",
        "target",
        "to book",
        "pipeline now",
        "required",
        "creation/week",
        "deals/week",
        "catch-up/week",
        "lag (median)",
    )
    for p in (*plan.segments, plan.total):
        c = p.creation
        table.add_row(
            p.segment,
            money(p.target),
            money(p.required_bookings),
            money(p.open_pipeline),
            money(p.pipeline_required_now),
            money(c.steady_per_week),
            "—" if c.deals_per_week is None else f"{c.deals_per_week:.1f}",
            money(c.catch_up_per_week),
            "—" if c.median_lag_weeks is None else f"{c.median_lag_weeks} wk",
        )
    console.print(table)


def print_creation(result: Defense) -> None:
    """Pipeline created each week by segment against the weekly creation the targets need."""
    if not result.creation:
        return
    weeks = sorted({w.week_start for w in result.creation})
    console.print("[bold]Pipeline created per week[/] (columns: the week starting)")
    t = out_table("segment", *(f"{d:%d %b}" for d in weeks), "needed\n/week", text=("segment",))
    for name in dict.fromkeys(w.segment for w in result.creation):
        got = {w.week_start: w for w in result.creation if w.segment == name}
        need = next(w.required for w in result.creation if w.segment == name)
        t.add_row(name, *(money(got[d].created) if d in got else "$0" for d in weeks), money(need))
    console.print(t)
    console.print(f"needed a week: {result.creation_method}", highlight=False)


def set_(
    period: PeriodOption,
    goal: Annotated[float | None, typer.Option("--goal", help="Revenue goal of the period (default: Σ quota).")] = None,
    segment: SegmentOption = None,
    as_of: AsOfOption = None,
    author: Annotated[str, typer.Option("--author", help="Who sets the plan (kept on the record).")] = "saleslead",
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Set a period's targets: bookings, pipeline now and weekly creation per segment, saved as a new version."""
    with guarded(json), open_seat(store, engagement=engagement) as seat:
        plan = seat.set_targets(
            TargetsRequest(
                period=period, goal=goal, segments=_segments(segment), as_of=as_of_date(as_of), author=author
            )
        )
    emit_json(plan) if json else print_plan(plan)


def show(
    period: Annotated[str | None, typer.Option("--period", help="Every version of this period's plan.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Show saved target plans: the latest of every period, or every version of one."""
    with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
        shown = seat.targets(TargetsShowRequest(period=period))
    if json:
        emit_json(shown)
        return
    if not shown.plans:
        console.print("no target plans saved yet (saleslead targets set --period ... --goal ...)")
    for version in shown.plans:
        print_plan(version.plan)


def defend(
    period: PeriodOption,
    as_of: AsOfOption = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=26, help="Weeks to look back on.")] = 6,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Track coverage week over week, raise flags (once per period and segment), list creation gaps for SDRs."""
    with guarded(json), open_seat(store, engagement=engagement) as seat:
        result = seat.defend_targets(DefendRequest(period=period, as_of=as_of_date(as_of), weeks=weeks))
    emit_json(result) if json else print_defense(result)


def coverage(
    period: PeriodOption,
    as_of: AsOfOption = None,
    goal: Annotated[float | None, typer.Option("--goal", help="Use this goal instead of the plan.")] = None,
    segment: SegmentOption = None,
    periods: Annotated[
        int, typer.Option("--periods", min=1, max=12, help="Earlier periods to measure conversion on.")
    ] = 4,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Coverage of a period: reported (pipeline ÷ what is left) and real (the forecast's outlook), with the gap.

    The same-point conversion of earlier periods is shown beside it as a labelled cross-check."""
    with guarded(json):
        request = CoverageRequest(
            period=period, as_of=as_of_date(as_of), goal=goal, segments=_segments(segment), periods=periods
        )
        result = stored_answer(lambda reads: reads.coverage(request), store, engagement)
        if result is None:
            with open_seat(store, engagement=engagement, read_only=True) as seat:
                result = seat.coverage(request)
    emit_json(result) if json else print_coverage(result)


def print_defense(result: Defense) -> None:
    """Coverage, pipeline created per week, the flags raised and the creation gaps."""
    print_coverage(result.coverage)
    print_creation(result)
    for flag in result.flags:
        mark = "[bold red]NEW[/] " if flag.new else ""
        console.print(f"{mark}flag {flag.key} ({flag.reason}): {flag.message}")
    for gap in result.creation_gaps:
        console.print(
            f"creation gap {gap.segment}: created {money(gap.created)} of {money(gap.required)} required in "
            f"{len(gap.weeks)} weeks — short {money(gap.gap)}"
            + (f" (~{gap.gap_deals:.0f} typical deals)" if gap.gap_deals else "")
        )


def register(app: typer.Typer) -> None:
    """Add ``targets`` (set, show, defend) and ``coverage`` to the app."""
    targets = typer.Typer(help="Set and defend pipeline targets.", no_args_is_help=True)
    app.add_typer(targets, name="targets")
    targets.command("set")(set_)
    targets.command("show")(show)
    targets.command("defend")(defend)
    app.command("coverage")(coverage)
