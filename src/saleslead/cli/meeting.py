"""CLI for the forecast call meeting: ``forecast grid``, ``deals`` (the deals behind a number), ``deal`` (one
deal's risks), and how stalls print. Names are shown for ids everywhere; tables fit 100 columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

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
from saleslead.cli.output import console, emit_json, guarded, money, progress_bar, table
from saleslead.forecast.schemas import MEASURES, SORTS, StallsResult
from saleslead.format import money_range

if TYPE_CHECKING:  # the grid, the deals and a deal's risks load the engines: imported when their command runs
    from saleslead.forecast.deals import DealsResult
    from saleslead.forecast.grid import GridResult
    from saleslead.forecast.risk import DealInspection

__all__ = [
    "LimitOption",
    "OwnerOption",
    "SegmentOption",
    "TeamOption",
    "print_stalls",
    "register_grid",
    "register_meeting",
]

LimitOption = Annotated[int | None, typer.Option("--limit", min=1, help="Show at most this many.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Only this owner's (a name or user id).")]
TeamOption = Annotated[str | None, typer.Option("--team", help="Only this manager's team (a name or user id).")]
SegmentOption = Annotated[str | None, typer.Option("--segment", help="Only this segment.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print the table as CSV (safe to open in a spreadsheet).")]
PeriodOption = Annotated[str | None, typer.Option("--period", help="Period: YYYY-Qn, YYYY-MM or FYYYYY.")]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _delta(value: float | None) -> str:
    if value is None or value == 0:
        return "—" if value is None else "0"
    return ("+" if value > 0 else "-") + money(abs(value))


def print_grid(grid: GridResult, note: str) -> None:
    console.print(f"[bold]Forecast grid {grid.period}[/] as of {grid.as_of}; change since {grid.since}")
    t = table("who", "quota", "won\natt.", "commit", "best\ncase", "P50\nP10–P90", "call", "verdict", "gap to\nquota",
              "Δ commit\nweek", text=("who", "verdict"))  # fmt: skip
    overrides = []
    for r in grid.rows:
        call = "—" if r.stands_on is None else money(r.stands_on) + ("*" if r.override is not None else "")
        t.add_row(
            " " * min(r.level, 2) + r.name, money(r.quota), f"{money(r.closed_won)}\n{_pct(r.attainment)}",
            money(r.commit), money(r.best_case), f"{money(r.p50)}\n{money_range(r.p10, r.p90)}", call, r.verdict or "—",
            _delta(r.gap_to_quota), _delta(r.change.commit),
        )  # fmt: skip
        if r.override is not None:
            overrides.append(
                f"* {r.name}: {money(r.call)} by {r.call_author} → {money(r.override)} by {r.override_author}"
                f" — {r.override_reason}"
            )
    console.print(t)
    for line in overrides:
        console.print(line, highlight=False)
    console.print(grid.note, style="dim")
    if note:
        console.print(note, style="dim")


def print_deals(result: DealsResult, note: str) -> None:
    console.print(f"[bold]{result.count:,} deals, {money(result.amount)}[/]: {result.described}")
    t = table("deal", "owner", "stage", "amount", "close", "days\nin stage", "pushes", text=("deal", "owner", "stage"))
    for d in result.deals:
        late = f"\n{d.past_due_days}d late" if d.past_due_days else ""
        t.add_row(d.name or d.opportunity_id, d.owner_name, d.stage, money(d.amount), f"{d.close_date or '—'}{late}",
                  str(d.days_in_stage if d.days_in_stage is not None else "—"), str(d.pushes or 0))  # fmt: skip
    console.print(t)
    if len(result.deals) < result.count:
        console.print(f"the first {len(result.deals)} of {result.count:,} (--limit to see more)", style="dim")
    if note:
        console.print(note, style="dim")


def print_deal(d: DealInspection) -> None:
    console.print(f"[bold]{d.name or d.opportunity_id}[/] ({d.opportunity_id}) as of {d.as_of}")
    console.print(
        f"{d.owner_name} · {d.segment} · {d.stage} · {money(d.amount)} · close {d.close_date or '—'} · "
        f"{d.forecast_category} · {d.days_in_stage} days in stage · {d.pushes} pushes"
        + (f" · next step: {d.next_step}" if d.next_step else ""),
        highlight=False,
    )
    if not d.signals:
        console.print("no risk signal")
    for s in d.signals:
        console.print(f"[bold]{s.kind}[/]: {s.text}", highlight=False)
        for e in s.events[:10]:
            console.print(f"    {e}", highlight=False)
    for missing in d.not_assessed:
        console.print(f"not assessed: {missing}", style="dim")
    if d.signals and not d.is_closed:
        console.print(f"→ for the {d.to_role}")


def print_stalls(result: StallsResult, note: str) -> None:
    t = table(
        "deal", "owner", "stage", "amount", "days\nin stage", "pushes", "why", text=("deal", "owner", "stage", "why")
    )
    for it in result.items:
        why = "; ".join(r.short() for r in it.risks) or "; ".join(it.reasons)
        who = it.owner_name or it.owner_id
        t.add_row(
            it.name or it.opportunity_id, who, it.stage, money(it.amount), str(it.days_in_stage), str(it.pushes), why
        )
    console.print(t)
    total = len(result.items) if result.matched is None else result.matched
    shown = f"{len(result.items)} of {total}" if total != len(result.items) else f"{total}"
    console.print(
        f"{shown} stalled or past-due deals as of {result.as_of}, for the account-executive "
        "(the evidence: saleslead deal 'DEAL NAME', or --json)"
    )
    if note:
        console.print(note, style="dim")


def register_grid(forecast_app: typer.Typer) -> None:
    @forecast_app.command("grid")
    def grid(
        period: PeriodOption = None,
        as_of: AsOfOption = None,
        team: TeamOption = None,
        scenarios: Annotated[int | None, typer.Option("--scenarios", help="Monte Carlo scenarios.")] = None,
        csv: CsvOption = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """The forecast grid: per person quota, won, commit, best case, P50 and range, call, override, verdict."""
        from saleslead.forecast.grid import GridRequest, grid_csv

        with guarded(json):
            request = GridRequest(period=period, as_of=as_of_date(as_of), team=team, scenarios=scenarios)
            with open_seat(store, engagement=engagement) as seat, progress_bar(not json and not csv) as bar:
                result = seat.forecast_grid(request, bar)
                note = as_of_note(seat, as_of)
            if json:
                emit_json(result)
            elif csv:
                typer.echo(grid_csv(result), nl=False)
            else:
                print_grid(result, note)


def register_meeting(app: typer.Typer) -> None:
    @app.command()
    def deals(
        measure: Annotated[str, typer.Option("--measure", help=f"One of {', '.join(MEASURES)}.")] = "open",
        period: PeriodOption = None,
        as_of: AsOfOption = None,
        team: TeamOption = None,
        owner: OwnerOption = None,
        segment: SegmentOption = None,
        stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
        category: Annotated[str | None, typer.Option("--category", help="Only this CRM forecast category.")] = None,
        sort: Annotated[str, typer.Option("--sort", help=f"One of {', '.join(SORTS)}.")] = "amount",
        limit: Annotated[int, typer.Option("--limit", min=0, help="Show at most this many (0: all).")] = 50,
        csv: CsvOption = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """The deals behind a number: closed-won, commit, best case, pipeline, open or past due, filtered."""
        from saleslead.forecast.deals import DealsRequest, deals_csv

        with guarded(json):
            request = DealsRequest(
                measure=choice(measure, MEASURES, "--measure"), period=period, as_of=as_of_date(as_of), team=team,
                owner=owner, segment=segment, stage=stage, category=category, sort=choice(sort, SORTS, "--sort"),
                limit=limit,
            )  # fmt: skip
            with open_seat(store, engagement=engagement, read_only=True) as seat:
                result = seat.deals(request)
                note = as_of_note(seat, as_of)
            if json:
                emit_json(result)
            elif csv:
                typer.echo(deals_csv(result), nl=False)
            else:
                print_deals(result, note)

    @app.command()
    def deal(
        which: Annotated[str, typer.Argument(help="The opportunity id, or its name (a unique part of it).")],
        as_of: AsOfOption = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """One deal inspected: its history and every risk signal with its evidence (for the account executive)."""
        from saleslead.forecast.risk import DealRequest

        with guarded(json):
            with open_seat(store, engagement=engagement, read_only=True) as seat:
                result = seat.deal(DealRequest(deal=which, as_of=as_of_date(as_of)))
            emit_json(result) if json else print_deal(result)
