"""CLI commands for mandate 4 — forecast and call the number."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from saleslead.cli.common import (
    AsOfOption,
    EngagementOption,
    JsonOption,
    StoreOption,
    as_of_date,
    as_of_note,
    choice,
    open_seat,
)
from saleslead.cli.meeting import (
    LimitOption,
    OwnerOption,
    SegmentOption,
    TeamOption,
    print_stalls,
    register_grid,
    register_meeting,
)
from saleslead.cli.output import console, emit_json, guarded, money, progress_bar
from saleslead.cli.output import table as out_table
from saleslead.forecast.schemas import (
    AccuracyRequest,
    AccuracyResult,
    BacktestRequest,
    BacktestResult,
    BridgeResult,
    CallCheckRequest,
    CallListRequest,
    CallListResult,
    CallRecord,
    CallSubmitRequest,
    DealForecast,
    ForecastRequest,
    ForecastResult,
    SeatCallRequest,
    StallSort,
    StallsRequest,
    StallsResult,
    WaterfallRequest,
    WaterfallResult,
)
from saleslead.periods import parse_date
from saleslead.stored import stored_answer

__all__ = ["register"]

PeriodOption = Annotated[str | None, typer.Option("--period", help="Period: YYYY-Qn, YYYY-MM or FYYYYY.")]
ScenariosOption = Annotated[
    int | None, typer.Option("--scenarios", help="Monte Carlo scenarios (default 10,000, from the settings).")
]


def _noted(result: StallsResult | None, note: str) -> tuple[StallsResult, str] | None:
    """A stored answer with the note on its as-of date, or None (the seat answers)."""
    return None if result is None else (result, note)


def _print_calls(result: CallListResult) -> None:
    table = out_table("period", "node", "v", "amount", "category", "author", "P(≥ call)", "verdict",
                      text=("node", "category", "author", "verdict"))  # fmt: skip
    for c in result.calls:
        check = c.check
        table.add_row(
            c.period, c.node_name or c.node, str(c.version), money(c.amount), c.category, c.author,
            f"{check.p_outcome_at_least_call:.0%}" if check else "—", check.verdict if check else "—",
        )  # fmt: skip
    console.print(table)


def _deal_line(d: DealForecast) -> str:
    """A deal as a person reads it: its name (the id when it has none), owner, stage and amount."""
    who = f", {d.owner_name}" if d.owner_name else ""
    return f"{d.name or d.opportunity_id} ({d.stage}, {money(d.amount)}{who})"


def _print_call(call: CallRecord) -> None:
    _print_calls(CallListResult(calls=[call]))
    check = call.check
    if check and check.flagged:
        console.print(
            f"[bold yellow]flag:[/] {check.verdict} — P(outcome ≥ {money(check.amount)}) = "
            f"{check.p_outcome_at_least_call:.0%}; range {money(check.node_p10)}–{money(check.node_p90)}"
        )
        if check.deals_needed:
            console.print(f"deals that would have to close ({len(check.deals_needed)}):")
            for d in check.deals_needed[:15]:
                console.print(f"  {_deal_line(d)} p={d.p_win_in_period:.0%}")
        if check.deals_to_slip:
            console.print(
                f"sandbag: {money(check.cushion)} below the expected outcome; deals that would have to slip or die "
                f"({len(check.deals_to_slip)}):"
            )
            for d in check.deals_to_slip[:15]:
                console.print(f"  {_deal_line(d)} p={d.p_win_in_period:.0%}")


def _print_bridge(bridge: BridgeResult) -> None:
    """The total's bridge: each component's move of the P50 and the mean, with the deals behind it."""
    t = bridge.total
    console.print(
        f"[bold]bridge[/] {bridge.since} → {bridge.as_of}: P50 {money(t.start.p50)} → {money(t.end.p50)} "
        f"({'+' if t.end.p50 >= t.start.p50 else '−'}{money(abs(t.end.p50 - t.start.p50))}); "
        f"mean {money(t.start.mean)} → {money(t.end.mean)}"
    )
    table = Table("component", "deals", "amount", "P50", "mean", "P10", "P90", box=None)
    for s in t.steps:
        table.add_row(s.component.replace("_", " "), f"{s.deals:,}", money(s.amount), _signed(s.p50),
                      _signed(s.mean), _signed(s.p10), _signed(s.p90))  # fmt: skip
    console.print(table)
    console.print(f"reconciles: {'yes' if bridge.reconciles else 'NO'} (Σ components = change); {bridge.method}")


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + money(abs(value))


def forecast(
    ctx: typer.Context,
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Nodes to show: owner, manager or segment.")] = None,
    deals: Annotated[bool, typer.Option("--deals", help="Also list every open deal's probability.")] = False,
    scenarios: ScenariosOption = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Also explain the move from the forecast as of this earlier date (bridge)."),
    ] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Call the number: P10/P50/P90 of the period's closed-won, for the total, every node and segment."""
    if ctx.invoked_subcommand is not None:
        return
    with guarded(json):
        if by not in (None, "owner", "manager", "segment"):
            from saleslead.errors import InputError

            raise InputError(f"--by must be owner, manager or segment, got {by!r}")
        request = ForecastRequest(
            period=period,
            as_of=as_of_date(as_of),
            by=by,
            deals=deals,
            scenarios=scenarios,
            since=parse_date(since, "--since") if since else None,
        )
        result = stored_answer(lambda reads: reads.forecast(request), store, engagement)
        if result is None:
            with open_seat(store, engagement=engagement) as seat, progress_bar(not json) as bar:
                result = seat.forecast(request, bar)
        emit_json(result) if json else _print_forecast(result)


def stalls(
    as_of: AsOfOption = None,
    limit: LimitOption = None,
    owner: OwnerOption = None,
    team: TeamOption = None,
    segment: SegmentOption = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort", help="risk (most reasons first), amount, days_in_stage, pushes, quiet, close_date or owner."
        ),
    ] = "risk",
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Deals gone quiet beyond won deals' norm, or past their close date, with every risk — for the AE."""
    with guarded(json):
        request = StallsRequest(
            as_of=as_of_date(as_of), limit=limit, owner=owner, team=team, segment=segment,
            sort=choice(sort, StallSort, "--sort"),
        )  # fmt: skip
        found = stored_answer(lambda reads: _noted(reads.stalls(request), as_of_note(reads, as_of)), store, engagement)
        if found is None:
            with open_seat(store, engagement=engagement) as seat:
                found = seat.stalls(request), as_of_note(seat, as_of)
        result, note = found
        if json:
            emit_json(result)
            return
        print_stalls(result, note)


def waterfall(
    period: Annotated[str, typer.Option("--period", help="Period: YYYY-Qn, YYYY-MM or FYYYYY.")],
    start: Annotated[str, typer.Option("--from", help="Start date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="End date (YYYY-MM-DD).")],
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """How the period's pipeline moved between two dates: created, pulled in, pushed, won, lost."""
    with guarded(json):
        request = WaterfallRequest(period=period, start=parse_date(start, "--from"), end=parse_date(end, "--to"))
        with open_seat(store, engagement=engagement) as seat:
            result = seat.waterfall(request)
        emit_json(result) if json else _print_waterfall(result)


def call_submit(
    node: Annotated[str, typer.Option("--node", help="The person called for (a name or user id), or 'total'.")],
    amount: Annotated[float, typer.Option("--amount", help="The call.")],
    period: PeriodOption = None,
    category: Annotated[str, typer.Option("--category", help="commit, best-case, …")] = "commit",
    as_of: AsOfOption = None,
    author: Annotated[str, typer.Option("--author", help="Who calls (a person or an agent).")] = "unknown",
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for an adjustment).")] = None,
    adjustment: Annotated[bool, typer.Option("--adjustment", help="A manager's adjustment.")] = False,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Record a call on a period's number and check it against the forecast at once."""
    with guarded(json):
        request = CallSubmitRequest(
            node=node, period=period, amount=amount, category=category, as_of=as_of_date(as_of),
            author=author, reason=reason, adjustment=adjustment,
        )  # fmt: skip
        with open_seat(store, engagement=engagement) as seat, progress_bar(not json) as bar:
            result = seat.call_submit(request, bar)
        emit_json(result) if json else _print_call(result)


def call_check(
    period: PeriodOption = None,
    node: Annotated[str | None, typer.Option("--node", help="Only this person (name or id), or 'total'.")] = None,
    as_of: AsOfOption = None,
    scenarios: ScenariosOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Re-check the period's current calls with the honesty guard and store the verdicts."""
    with guarded(json):
        request = CallCheckRequest(period=period, node=node, as_of=as_of_date(as_of), scenarios=scenarios)
        result = stored_answer(lambda reads: reads.call_check(request), store, engagement)
        if result is None:
            with open_seat(store, engagement=engagement) as seat, progress_bar(not json) as bar:
                result = seat.call_check(request, bar)
        emit_json(result) if json else _print_calls(result)


def call_list(
    period: PeriodOption = None,
    node: Annotated[str | None, typer.Option("--node", help="Only this person (name or id), or 'total'.")] = None,
    history: Annotated[bool, typer.Option("--history", help="Every version, not just the current.")] = False,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The calls on record (the seat's own call included), with their latest verdict."""
    with guarded(json):
        with open_seat(store, engagement=engagement) as seat:
            result = seat.call_list(CallListRequest(period=period, node=node, history=history))
        emit_json(result) if json else _print_calls(result)


def call_seat(
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    scenarios: ScenariosOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The seat's own call for the period — the number the fleet plans against — with its range."""
    with guarded(json):
        request = SeatCallRequest(period=period, as_of=as_of_date(as_of), scenarios=scenarios)
        with open_seat(store, engagement=engagement) as seat, progress_bar(not json) as bar:
            result = seat.seat_call(request, bar)
        emit_json(result) if json else _print_call(result)


def backtest(
    start: Annotated[str, typer.Option("--from", help="First as-of date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last as-of date (YYYY-MM-DD).")],
    every: Annotated[
        str, typer.Option("--every", help="week, month, or quarter-week (weeks 1..13 of each quarter).")
    ] = "week",
    scenarios: Annotated[int, typer.Option("--scenarios", help="Scenarios per point.")] = 2_000,
    refit_weeks: Annotated[int, typer.Option("--refit", help="Refit the model every N points.")] = 4,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Walk-forward backtest of the forecast against two baselines: WAPE, bias, coverage, CRPS, Brier."""
    with guarded(json):
        request = BacktestRequest(
            start=parse_date(start, "--from"), end=parse_date(end, "--to"), every=every,
            scenarios=scenarios, refit_weeks=refit_weeks,
        )  # fmt: skip
        with open_seat(store, engagement=engagement) as seat, progress_bar(not json) as bar:
            result = seat.forecast_backtest(request, bar)
        emit_json(result) if json else _print_backtest(result)


def accuracy(
    as_of: AsOfOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The accuracy ledger: calls against actuals per node, shrunk toward the team."""
    with guarded(json):
        with open_seat(store, engagement=engagement) as seat:
            result = seat.forecast_accuracy(AccuracyRequest(as_of=as_of_date(as_of)))
        emit_json(result) if json else _print_accuracy(result)


def _print_forecast(result: ForecastResult) -> None:
    """The forecast: the total's range, every node and segment, the method (and the bridge, if asked)."""
    t = result.total
    console.print(
        f"[bold]{result.period}[/] as of {result.as_of}: P50 {money(t.p50)} "
        f"(P10 {money(t.p10)} – P90 {money(t.p90)}), closed-won so far {money(t.closed_won)}"
    )
    table = Table("node", "level", "closed", "P10", "P50", "P90", "commit", "best case", box=None)
    for n in result.nodes:
        table.add_row(
            "  " * n.level + n.name, str(n.level), money(n.closed_won), money(n.p10), money(n.p50),
            money(n.p90), money(n.commit), money(n.best_case),
        )  # fmt: skip
    console.print(table)
    seg = Table("segment", "closed", "exp. open", "exp. new", "mean", "P10", "P50", "P90", box=None)
    for s in (*result.segments, result.total):
        seg.add_row(getattr(s, "segment", "total"), money(s.closed_won), money(s.expected_open),
                    money(s.expected_new), money(s.mean), money(s.p10), money(s.p50),
                    money(s.p90))  # fmt: skip
    console.print(seg)
    console.print(
        "mean = closed + expected from open deals + expected from pipeline not yet created "
        f"(of which dated in the period: {money(t.open_in_period)} open, {money(t.expected_in_period)} "
        "expected)"
    )
    m = result.method
    console.print(
        f"method: {m.name}; {m.training_rows:,} deal-weeks, shock sd {m.shock_sd:.2f} "
        f"({m.shock_groups} past origins){' — thin' if m.evidence.thin else ''}"
    )
    if result.bridge is not None:
        _print_bridge(result.bridge)


def _print_waterfall(result: WaterfallResult) -> None:
    """Each movement of the pipeline between the two dates, and whether they reconcile."""
    table = Table("movement", "amount", box=None)
    for name in ("starting_pipeline", "created", "pulled_in", "pushed_out", "amount_up", "amount_down",
                 "won", "lost", "ending_pipeline"):  # fmt: skip
        sign = "-" if name in ("pushed_out", "amount_down", "won", "lost") else ""
        table.add_row(name.replace("_", " "), sign + money(getattr(result, name)))
    console.print(table)
    console.print("reconciles" if result.reconciles else "[red]does not reconcile[/]")


def _print_backtest(result: BacktestResult) -> None:
    """The backtest's errors: by forecast, by week of the quarter, and by level of the tree."""
    table = Table("forecast", "points", "WAPE", "bias", box=None)
    for name in ("p50", "mean", "stage_weighted", "categories"):
        s = result.summary[name]
        table.add_row(name, str(s["points"]), f"{s['wape']:.1%}", f"{s['bias']:+.1%}")
    console.print(table)
    i = result.summary["interval"]
    console.print(
        f"P10–P90 coverage {i['coverage_p10_p90']:.0%} "
        f"(below {i['below_p10']:.0%}, above {i['above_p90']:.0%});"
        f" CRPS {i['crps']:.3f}; Brier {result.brier:.3f} vs stage probabilities {result.brier_stage:.3f}"
    )
    weeks = Table("week", "points", "coverage", "WAPE P50", "WAPE stage", "WAPE categories", box=None)
    for w in result.by_week:
        cells = [f"{w[k]:.1%}" for k in ("wape_p50", "wape_stage_weighted", "wape_categories")]
        weeks.add_row(str(w["week_of_quarter"]), str(w["points"]), f"{w['coverage_p10_p90']:.0%}", *cells)
    console.print(weeks)
    levels = Table("level", "weeks", "node-points", "P10–P90", "misses low", "bias", "WAPE",
                   "WAPE stage", "WAPE cat.", "pinball", "pinball stage", "pinball cat.", box=None)  # fmt: skip
    for r in result.levels:
        levels.add_row(
            str(r["level"]), str(r["bucket"]), str(r["points"]), f"{r['coverage']:.0%}",
            f"{r['tail_low_share']:.0%}", f"{r['bias']:+.1%}",
            *(f"{r[k]:.1%}" for k in ("wape", "wape_stage_weighted", "wape_categories")),
            *(f"{r[k]:.3f}" for k in ("pinball", "pinball_stage_weighted", "pinball_categories")),
        )  # fmt: skip
    console.print(levels)


def _print_accuracy(result: AccuracyResult) -> None:
    """Each node's calls against actuals: bias and absolute error, raw and shrunk."""
    table = Table("node", "calls", "bias", "bias (shrunk)", "abs error", "abs (shrunk)", box=None)
    for r in result.rows:
        table.add_row(r.node, str(r.calls), f"{r.mean_error:+.1%}", f"{r.bias_shrunk:+.1%}",
                      f"{r.abs_error:.1%}", f"{r.abs_error_shrunk:.1%}")  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    register_meeting(app)
    forecast_app = typer.Typer(
        help="Call the number: P10/P50/P90 of the period's closed-won, for the total, every node and segment.",
        invoke_without_command=True,
    )
    app.add_typer(forecast_app, name="forecast")
    register_grid(forecast_app)
    forecast_app.callback()(forecast)
    app.command()(stalls)
    app.command()(waterfall)
    call = typer.Typer(help="Calls on the number: submit, check with the honesty guard, list.", no_args_is_help=True)
    app.add_typer(call, name="call")
    call.command("submit")(call_submit)
    call.command("check")(call_check)
    call.command("list")(call_list)
    call.command("seat")(call_seat)
    app.command()(backtest)
    app.command()(accuracy)
