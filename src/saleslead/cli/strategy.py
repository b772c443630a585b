"""CLI commands for mandate 1 — own the sales strategy: ``saleslead strategy score|decide|show|check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from saleslead.cli.common import AsOfOption, EngagementOption, JsonOption, StoreOption, as_of_date
from saleslead.cli.output import console, emit_json, guarded, money
from saleslead.cli.output import table as out_table
from saleslead.errors import InputError
from saleslead.seat import open_seat
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView
from saleslead.strategy.rules import StrategyRules
from saleslead.strategy.scorecard import Scorecard, ScoreRequest, parse_dimensions

__all__ = ["register"]

ByOption = Annotated[
    str,
    typer.Option(
        "--by", help="Dimensions of a cell: segment, motion, channel, product, industry (sector), comma-separated."
    ),
]
LookbackOption = Annotated[
    int, typer.Option("--lookback", min=1, max=60, help="Months of decided deals to score (before --as-of).")
]
RulesOption = Annotated[Path | None, typer.Option("--rules", help="A YAML or JSON file of StrategyRules thresholds.")]
MinDealsOption = Annotated[
    int | None, typer.Option("--min-deals", min=1, help="Decided deals a cell needs (default: settings).")
]
CostOption = Annotated[
    float | None,
    typer.Option(
        "--cost-per-deal",
        min=0,
        help="Cost of working one deal: a cell booking less than its deals cost is do-not-compete.",
    ),
]
CoverageOption = Annotated[
    float | None, typer.Option("--max-coverage", help="The most pipeline per dollar booked the team can create.")
]

_STYLE = {
    "pursue": "green",
    "maintain": "white",
    "deprioritise": "yellow",
    "do-not-compete": "red",
    "insufficient-evidence": "dim",
}


def _rules(path: Path | None, min_deals: int | None, cost: float | None, coverage: float | None) -> StrategyRules:
    values: dict[str, Any] = {}
    if path is not None:
        if not path.exists():
            raise InputError(f"no such rules file: {path}", file=str(path))
        loaded = yaml.safe_load(path.read_text())
        if not isinstance(loaded, dict):
            raise InputError("a rules file holds a mapping of threshold names to values", file=str(path))
        values.update(loaded)
    for name, value in (("min_deals", min_deals), ("cost_per_deal", cost), ("max_required_coverage", coverage)):
        if value is not None:
            values[name] = value
    try:
        return StrategyRules.model_validate(values)
    except ValueError as error:
        raise InputError(f"bad strategy rules: {error}", file=str(path) if path else None) from None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def print_scorecard(card: Scorecard, explain: bool) -> None:
    c = card.company
    console.print(
        f"[bold]Strategy scorecard as of {card.as_of}[/] by {' × '.join(card.dimensions)}: deals decided "
        f"{card.lookback_from}..{card.as_of}; yield on pipeline created {card.cohort_from}..{card.cohort_to} "
        f"({card.maturity_days} days to mature); min {card.min_deals} deals a cell"
    )
    console.print(
        f"company: {c.deals:,} deals, win rate {_pct(c.win_rate)} ({_pct(c.win_rate_low)}–{_pct(c.win_rate_high)}), "
        f"avg deal {money(c.avg_deal)}, yield {_pct(c.yield_)}; median cell: yield {_pct(c.median_yield)}, "
        f"velocity {money(c.median_velocity)}/day"
    )
    table = out_table(
        *card.dimensions, "deals", "win rate\n(90% CI)", "by\nvalue", "avg\ndeal", "cycle", "velocity\n/day",
        "yield", "req.\ncov.", "trend", "recommendation", text=(*card.dimensions, "trend", "recommendation"),
    )  # fmt: skip
    for cell in card.cells:
        style = _STYLE[cell.recommendation]
        table.add_row(
            *[str(getattr(cell, d)) for d in card.dimensions],
            f"{cell.deals:,}",
            f"{_pct(cell.win_rate)}\n{_pct(cell.win_rate_low)}–{_pct(cell.win_rate_high)}"
            if cell.win_rate is not None
            else f"—\n{_pct(cell.win_rate_low)}–{_pct(cell.win_rate_high)}",
            _pct(cell.win_rate_value),
            money(cell.avg_deal),
            "—" if cell.cycle_days is None else f"{cell.cycle_days:.0f}d",
            money(cell.velocity),
            _pct(cell.yield_),
            "—" if cell.required_coverage is None else f"{cell.required_coverage:.1f}×",
            cell.trend.direction,
            f"[{style}]{cell.recommendation}[/]",
        )
    console.print(table)
    console.print(", ".join(f"{n} {r}" for r, n in card.recommendations.items()))
    if explain:
        for cell in card.cells:
            if cell.recommendation != "insufficient-evidence":
                console.print(f"[{_STYLE[cell.recommendation]}]{cell.key}: {cell.recommendation}[/] — {cell.evidence}")


def print_decision(decision: StrategyDecision) -> None:
    console.print(
        f"[bold]Strategy v{decision.version}[/] by {decision.author}, decided on {decision.decided_on} "
        f"(recorded {decision.recorded_at:%Y-%m-%d %H:%M}) over {' × '.join(decision.dimensions)}"
    )
    if decision.note:
        console.print(decision.note)
    for title, cells, style in (
        ("pursue", decision.pursue, "green"),
        ("do not compete", decision.do_not_compete, "red"),
        ("deprioritise", decision.deprioritise, "yellow"),
        ("maintain", decision.maintain, "white"),
    ):
        console.print(f"\n[bold {style}]{title}[/] ({len(cells)})")
        for c in cells:
            console.print(f"  {c.key}" + (" [override]" if c.source == "override" else ""))
            if title in ("pursue", "do not compete"):
                console.print(f"    [dim]{c.reason}[/]")
    if decision.undecided:
        console.print(f"\n[dim]{len(decision.undecided)} cells without enough evidence left undecided[/]")


def print_check(result: StrategyCheck) -> None:
    console.print(
        f"[bold]Strategy check as of {result.as_of}[/] against v{result.strategy_version} "
        f"(decided {result.decided_on}); do not compete: {', '.join(result.do_not_compete) or 'none'}"
    )
    if not result.flags:
        console.print("[green]No pipeline or effort in do-not-compete cells.[/]")
        return
    for f in result.flags:
        mark = "[bold red]new[/] " if f.new else f"since {f.first_flagged} "
        console.print(f"  {mark}{f.kind}: {f.message}")
    console.print(
        f"{result.pipeline_deals} open deals worth {money(result.pipeline_flagged)} created in do-not-compete cells; "
        f"{result.activities_flagged} activities spent there; {result.new_flags} new flags"
    )


def register(app: typer.Typer) -> None:
    """Add the ``strategy`` commands to the app."""
    strategy = typer.Typer(
        help="Mandate 1: where the team competes — scorecard, recommendations, the decision, and holding to it.",
        no_args_is_help=True,
    )
    app.add_typer(strategy, name="strategy")

    @strategy.command()
    def score(
        as_of: AsOfOption = None,
        by: ByOption = "segment,motion,channel",
        lookback: LookbackOption = 12,
        rules: RulesOption = None,
        min_deals: MinDealsOption = None,
        cost_per_deal: CostOption = None,
        max_coverage: CoverageOption = None,
        explain: Annotated[bool, typer.Option("--explain", help="Print every judged cell's evidence.")] = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Score every cell (win rate, deal size, cycle, velocity, yield, coverage, trend) and recommend."""
        with guarded(json):
            request = ScoreRequest(
                as_of=as_of_date(as_of),
                by=parse_dimensions(by),
                lookback_months=lookback,
                rules=_rules(rules, min_deals, cost_per_deal, max_coverage),
            )
            with open_seat(store, engagement=engagement, read_only=True) as seat:
                card = seat.strategy_score(request)
        emit_json(card) if json else print_scorecard(card, explain)

    @strategy.command()
    def decide(
        author: Annotated[str, typer.Option("--author", help="Who decides (kept with the version).")],
        as_of: AsOfOption = None,
        by: ByOption = "segment,motion,channel",
        lookback: LookbackOption = 12,
        pursue: Annotated[
            list[str] | None, typer.Option("--pursue", help="A cell to pursue, e.g. 'SMB / New Business / Inbound'.")
        ] = None,
        do_not_compete: Annotated[
            list[str] | None, typer.Option("--do-not-compete", help="A cell not to compete in (repeatable).")
        ] = None,
        reason: Annotated[str, typer.Option("--reason", help="Why the overrides.")] = "",
        no_adopt: Annotated[
            bool, typer.Option("--no-adopt", help="Decide only the cells given; do not adopt the scorecard.")
        ] = False,
        note: Annotated[str, typer.Option("--note", help="A note kept with the decision.")] = "",
        rules: RulesOption = None,
        min_deals: MinDealsOption = None,
        cost_per_deal: CostOption = None,
        max_coverage: CoverageOption = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Record the strategy as a new version: the scorecard's recommendations as of a date, plus overrides."""
        with guarded(json):
            request = DecideRequest(
                author=author,
                as_of=as_of_date(as_of),
                by=parse_dimensions(by),
                lookback_months=lookback,
                rules=_rules(rules, min_deals, cost_per_deal, max_coverage),
                pursue=tuple(pursue or ()),
                do_not_compete=tuple(do_not_compete or ()),
                reason=reason,
                adopt=not no_adopt,
                note=note,
            )
            with open_seat(store, engagement=engagement) as seat:
                decision = seat.strategy_decide(request)
        emit_json(decision) if json else print_decision(decision)

    @strategy.command()
    def show(
        version: Annotated[int | None, typer.Option("--version", min=1, help="A version (default: latest).")] = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Show the strategy decided (a version, default the latest) and the list of versions."""
        with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
            view: StrategyView = seat.strategy_show(ShowRequest(version=version))
        if json:
            emit_json(view)
            return
        print_decision(view.decision)
        console.print("\nversions: " + ", ".join(f"v{v.version} {v.decided_on} {v.author}" for v in view.versions))

    @strategy.command()
    def check(
        as_of: AsOfOption = None,
        fail_on_flags: Annotated[
            bool, typer.Option("--fail-on-flags", help="Exit 1 when there is any flag (for schedulers).")
        ] = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Flag open pipeline created, and effort spent, in do-not-compete cells since the strategy was decided."""
        with guarded(json), open_seat(store, engagement=engagement) as seat:
            result = seat.strategy_check(CheckRequest(as_of=as_of_date(as_of)))
        emit_json(result) if json else print_check(result)
        if fail_on_flags and result.flags:
            raise typer.Exit(1)
