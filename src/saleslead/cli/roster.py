"""CLI commands for mandate 3 — build and manage the roster:
``saleslead roster show|plan|scenario|diff|rebalance|export-finance``."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from saleslead.cli.common import AsOfOption, EngagementOption, JsonOption, StoreOption, as_of_date
from saleslead.cli.output import console, emit_json, guarded, money
from saleslead.errors import InputError
from saleslead.roster.config import RosterConfig
from saleslead.roster.desk import (
    RebalanceResult,
    RosterDiffRequest,
    RosterFinanceRequest,
    RosterPlan,
    RosterPlanRequest,
    RosterRebalanceRequest,
    RosterScenarioRequest,
    RosterShowRequest,
    RosterView,
    ScenarioSet,
)
from saleslead.roster.rebalance import RebalanceOptions
from saleslead.roster.scenarios import PlanDiff
from saleslead.seat import open_seat

__all__ = ["register"]

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A JSON or YAML file of RosterConfig assumptions (see docs/roster.md).")
]
PeriodOption = Annotated[str, typer.Option("--period", help="The period to plan: YYYY-Qn, YYYY-MM or FYYYYY.")]
GoalOption = Annotated[
    float | None,
    typer.Option("--goal", min=0, help="Bookings goal of the period, all segments (default: the period's target)."),
]
SegmentGoalOption = Annotated[
    list[str] | None, typer.Option("--segment-goal", help="A segment's goal as SEGMENT=AMOUNT (repeatable).")
]
CreationOption = Annotated[
    list[str] | None,
    typer.Option("--creation", help="Required pipeline creation per week as SEGMENT=AMOUNT (repeatable)."),
]
_KNOBS = RebalanceOptions()  # the rebalance's defaults, declared once in roster.rebalance
BufferOption = Annotated[float, typer.Option("--buffer", min=0, max=2, help="Capacity must reach goal × (1 + buffer).")]


def _config(path: Path | None) -> RosterConfig:
    if path is None:
        return RosterConfig()
    if not path.exists():
        raise InputError(f"no such file: {path}", file=str(path))
    import yaml

    data: Any = (
        yaml.safe_load(path.read_text()) if path.suffix in (".yaml", ".yml") else jsonlib.loads(path.read_text())
    )
    return RosterConfig.model_validate(data or {})


def _pairs(values: list[str] | None, what: str) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for v in values:
        name, sep, amount = v.rpartition("=")
        try:
            out[name] = float(amount)
        except ValueError:
            raise InputError(f"{what} must be SEGMENT=AMOUNT, got {v!r}") from None
        if not sep or not name:
            raise InputError(f"{what} must be SEGMENT=AMOUNT, got {v!r}")
    return out


def _table(*headers: str, text: tuple[int, ...] = (0,), title: str | None = None) -> Table:
    """A table that fits 100 columns: light borders, headers that wrap, numbers never cut (right-aligned, never
    narrower than their longest value — set by :func:`_fit`), the ``text`` columns folded to fit."""
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i in text else "right", overflow="fold")
    return table


def _fit(table: Table) -> Table:
    """Numbers as wide as their longest value, text as wide as its longest word: folds only between words."""
    for column in table.columns:
        cells = [str(c) for c in column.cells]
        words = [w for text in [str(column.header), *cells] for w in text.split()]
        numeric = column.justify == "right"
        width = max([max((len(c) for c in cells), default=0) if numeric else 0, *(len(w) for w in words)])
        if numeric:
            column.width = width  # fixed: only the text columns give way
        else:
            column.min_width = width
    return table


def _print_view(view: RosterView) -> None:
    console.print(f"[bold]Roster as of {view.as_of}[/]")
    table = _table("segment", "AEs", "ramped eq.", "ramping", "SDRs", "mgrs", "left in 12m",
                   "per ramped AE-month", "AEs measured", "attainment", "quota per qtr")  # fmt: skip
    for s in view.segments:
        att = s.attainment.overall
        thin = " (thin)" if s.productivity.evidence.thin else ""
        table.add_row(
            s.segment, str(s.headcount.aes), f"{s.headcount.ae_ramped_equivalents:.1f}", str(s.headcount.aes_ramping),
            str(s.headcount.sdrs), str(s.headcount.managers), str(s.headcount.leavers_last_12_months),
            money(s.productivity.per_rep_month), f"{s.productivity.reps}{thin}",
            f"{att:.0%}" if att is not None else "—", money(s.full_quarterly_quota),
        )  # fmt: skip
    console.print(_fit(table))
    ramp = Table("tenure month", *[s.segment for s in view.segments], title="ramp (share of ramped productivity)")
    months = max((len(s.ramp.points) for s in view.segments), default=0)
    for m in range(1, months + 1):
        ramp.add_row(str(m), *[f"{s.ramp.factor(m):.2f}" for s in view.segments])
    console.print(ramp)
    for s in view.segments:
        console.print(f"  {s.segment} ramp: {s.ramp.evidence.method} ({s.ramp.evidence.note})")
    console.print("seasonality by month: " + " ".join(f"{x:.2f}" for x in view.seasonality.index))


def _print_plan(plan: RosterPlan) -> None:
    version = f" — stored as {plan.key} v{plan.version}" if plan.key else ""
    console.print(f"[bold]Roster plan {plan.period}[/] ({plan.scenario}, as of {plan.as_of}){version}")
    console.print(f"goal {money(plan.goal)} ({plan.goal_source}), buffer {plan.buffer:.0%}")
    if plan.data_through < plan.as_of:
        console.print(f"measured on data through {plan.data_through}, the store's last snapshot")
    table = _table("segment", "goal", "now", "planned", "÷ goal", "most reachable", "AE hires", "first start",
                   "binds", "SDR hires", text=(0, 8))  # fmt: skip
    for s in plan.segments:
        binds = s.binding_constraint.replace("_", " ")
        if s.reach_limit:
            binds += f"; out of reach: {s.reach_limit.replace('_', ' ')}"
        table.add_row(
            s.segment, money(s.goal), money(s.base_capacity), money(s.capacity),
            f"{s.capacity_vs_goal:.0%}" if s.capacity_vs_goal is not None else "—", money(s.most_reachable),
            str(s.total_hires), s.hires[0].month if s.hires else "—", binds,
            str(s.sdr.sdr_hires) if s.sdr.sdr_hires is not None else "?",
        )  # fmt: skip
    console.print(_fit(table))
    console.print("planned ÷ goal: the buffer not counted; most reachable: the hiring cap in every start month")
    months = _table("month", "segment", "goal", "base", "capacity", "heads", "ramped eq.", "hires", text=(0, 1),
                    title="by month")  # fmt: skip
    for m in plan.months:
        months.add_row(
            m.month, m.segment, money(m.goal), money(m.base_capacity), money(m.capacity), f"{m.inputs.heads:.1f}",
            f"{m.inputs.ramped_equivalents:.1f}", str(m.inputs.hires_starting),
        )  # fmt: skip
    console.print(_fit(months))
    pipes = _table("segment", "creation needed /wk", "expected /wk", "SDR pipeline /wk", "SDR seats needed",
                   "SDRs now", "AE:SDR", "quota check", text=(0, 7), title="pipeline, SDR seats and quota")  # fmt: skip
    for s in plan.segments:
        ratio = s.sdr.ae_per_sdr
        pipes.add_row(
            s.segment, money(s.pipeline.required_creation_per_week), money(s.pipeline.expected_creation_per_week),
            money(s.sdr.sdr_pipeline_per_week), str(s.sdr.seats_needed if s.sdr.seats_needed is not None else "?"),
            str(s.sdr.sdrs_on_roster), f"{ratio:.1f}" if ratio is not None else "—",
            "consistent" if s.quota.consistent else "short",
        )  # fmt: skip
    console.print(_fit(pipes))
    for s in plan.segments:
        console.print(f"  {s.segment} SDR seats: {s.sdr.binds_note}")
    console.print(f"[bold]binding constraint:[/] {plan.binding_constraint.replace('_', ' ')}")
    console.print(plan.verdict)


def _print_rebalance(result: RebalanceResult) -> None:
    console.print(f"[bold]Rebalance as of {result.as_of}[/]: {result.accounts:,} accounts, {len(result.reps)} AEs")
    console.print(
        f"within bands {result.within_band_before} → {result.within_band_after}; spread of potential ÷ target "
        f"{result.spread_before:.2f} → {result.spread_after:.2f}; {result.moved:,} accounts moved "
        f"({result.moved_potential_share:.0%} of potential); {result.locked} locked"
    )
    console.print(
        f"solver: {result.status}, gap {result.gap:.2%} (bound {result.bound:,.2f}), {result.seconds:.1f} s, "
        f"{result.formulation}, {result.variables:,} variables"
    )
    table = _table("AE", "segment", "ramp", "target", "before", "after", "accounts", "in band", text=(0, 1, 6, 7))
    for r in result.reps:
        table.add_row(
            r.name or r.user_id, r.segment, f"{r.ramp_factor:.2f}", money(r.target_potential),
            money(r.potential_before), money(r.potential_after), f"{r.accounts_before} → {r.accounts_after}",
            f"{'yes' if r.within_band_before else 'no'} → {'yes' if r.within_band_after else 'no'}",
        )  # fmt: skip
    console.print(_fit(table))
    for m in result.moves[:20]:
        console.print(f"  {m.name or m.account_id}: {m.from_owner} → {m.to_owner} ({money(m.potential)})")
    if len(result.moves) > 20:
        console.print(f"  … and {len(result.moves) - 20} more (see --json)")


def show(
    as_of: AsOfOption = None,
    config: ConfigOption = None,
    leavers: Annotated[bool, typer.Option("--leavers", help="List people who have left too.")] = False,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The roster as of a date: headcount, ramp, productivity, attainment and seasonality by segment."""
    with guarded(json):
        request = RosterShowRequest(as_of=as_of_date(as_of), config=_config(config), include_leavers=leavers)
        with open_seat(store, engagement=engagement, read_only=True) as seat:
            view = seat.roster_show(request)
    emit_json(view) if json else _print_view(view)


def _plan_request(
    period: str, goal: float | None, segment_goal: list[str] | None, buffer: float, as_of: str | None,
    scenario: str, creation: list[str] | None, config: Path | None, name: str | None, save: bool,
) -> RosterPlanRequest:  # fmt: skip
    return RosterPlanRequest(
        period=period, goal=goal, goal_by_segment=_pairs(segment_goal, "--segment-goal"), buffer=buffer,
        as_of=as_of_date(as_of), scenario=scenario, pipeline_creation_per_week=_pairs(creation, "--creation"),
        config=_config(config), name=name, save=save,
    )  # fmt: skip


def plan(
    period: PeriodOption,
    goal: GoalOption = None,
    segment_goal: SegmentGoalOption = None,
    buffer: BufferOption = 0.1,
    scenario: Annotated[str, typer.Option("--scenario", help="base, best or worst.")] = "base",
    creation: CreationOption = None,
    name: Annotated[str | None, typer.Option("--name", help="Version key (default PERIOD/SCENARIO).")] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not store the plan as a version.")] = False,
    as_of: AsOfOption = None,
    config: ConfigOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Hires by month and segment that reach the goal with the buffer; capacity vs goal; the binding constraint."""
    with guarded(json):
        request = _plan_request(
            period, goal, segment_goal, buffer, as_of, scenario, creation, config, name, not no_save
        )
        with open_seat(store, engagement=engagement) as seat:
            result = seat.roster_plan(request)
    emit_json(result) if json else _print_plan(result)


def scenario(
    period: PeriodOption,
    goal: GoalOption = None,
    segment_goal: SegmentGoalOption = None,
    buffer: BufferOption = 0.1,
    scenarios: Annotated[str, typer.Option("--scenarios", help="Comma-separated: base,best,worst.")] = (
        "base,best,worst"
    ),
    creation: CreationOption = None,
    as_of: AsOfOption = None,
    config: ConfigOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Plan the goal as base, best and worst cases side by side; each is stored as a plan version."""
    with guarded(json):
        base = _plan_request(period, goal, segment_goal, buffer, as_of, "base", creation, config, None, True)
        request = RosterScenarioRequest(plan=base, scenarios=[s.strip() for s in scenarios.split(",") if s.strip()])
        with open_seat(store, engagement=engagement) as seat:
            result = seat.roster_scenarios(request)
    emit_json(result) if json else _print_scenarios(result)


def diff(
    key_a: Annotated[str, typer.Argument(help="Plan key, e.g. FY2027/base.")],
    key_b: Annotated[str | None, typer.Argument(help="Second plan key (default: the same key).")] = None,
    version_a: Annotated[int | None, typer.Option("--version-a", help="Version of the first plan.")] = None,
    version_b: Annotated[int | None, typer.Option("--version-b", help="Version of the second plan.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """What changed between two stored plan versions (default: the last two versions of one key)."""
    with guarded(json):
        request = RosterDiffRequest(key_a=key_a, key_b=key_b, version_a=version_a, version_b=version_b)
        with open_seat(store, engagement=engagement, read_only=True) as seat:
            result = seat.roster_diff(request)
    emit_json(result) if json else _print_diff(result)


def rebalance(
    as_of: AsOfOption = None,
    segment: Annotated[list[str] | None, typer.Option("--segment", help="Only these segments.")] = None,
    lock: Annotated[list[str] | None, typer.Option("--lock", help="Account id that stays (repeatable).")] = None,
    lock_file: Annotated[Path | None, typer.Option("--lock-file", help="File of account ids, one a line.")] = None,
    potential_band: Annotated[
        float, typer.Option("--potential-band", help="± share of target potential.")
    ] = _KNOBS.potential_band,
    workload_band: Annotated[
        float, typer.Option("--workload-band", help="± share of target workload.")
    ] = _KNOBS.workload_band,
    move_penalty: Annotated[
        float, typer.Option("--move-penalty", help="Cost of moving potential.")
    ] = _KNOBS.move_penalty,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds the solver may take.")] = _KNOBS.time_limit,
    gap: Annotated[float, typer.Option("--gap", help="Relative optimality gap to stop at.")] = _KNOBS.mip_rel_gap,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Reassign accounts to AEs so potential and workload sit within bands, moving as little as may be."""
    with guarded(json):
        locked = list(lock or [])
        if lock_file is not None:
            if not lock_file.exists():
                raise InputError(f"no such file: {lock_file}", file=str(lock_file))
            locked += [x.strip() for x in lock_file.read_text().splitlines() if x.strip()]
        request = RosterRebalanceRequest(
            as_of=as_of_date(as_of), segments=segment or None, locked=locked, potential_band=potential_band,
            workload_band=workload_band, move_penalty=move_penalty, time_limit=time_limit, mip_rel_gap=gap,
        )  # fmt: skip
        with open_seat(store, engagement=engagement) as seat:
            result = seat.roster_rebalance(request)
    emit_json(result) if json else _print_rebalance(result)


def export_finance(
    key: Annotated[str, typer.Argument(help="Stored plan key, e.g. FY2027/base.")],
    version: Annotated[int | None, typer.Option("--version", help="Plan version (default: latest).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here (.csv or .json); default stdout.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The plan as finance reconciles it: month × seat × quota × expected bookings × cost (CSV or JSON)."""
    with guarded(json):
        with open_seat(store, engagement=engagement, read_only=True) as seat:
            table = seat.roster_finance(RosterFinanceRequest(key=key, version=version))
        as_json = json or (out is not None and out.suffix == ".json")
        text = table.model_dump_json(indent=2) if as_json else table.to_csv()
        if out is None:
            typer.echo(text, nl=False) if not as_json else emit_json(table)
            return
        out.write_text(text)
    console.print(
        f"wrote {len(table.rows):,} rows to {out}: quota {money(table.total_quota)}, expected bookings "
        f"{money(table.total_expected_bookings)}, cost {money(table.total_cost)}"
    )


def _print_scenarios(result: ScenarioSet) -> None:
    """The scenarios side by side, each with its stored version."""
    table = Table("scenario", "version", "win Δ pts", "attrition Δ", "ramp Δ", "capacity ÷ goal", "AE hires",
                  "SDR hires", "binding", title=f"{result.period} as of {result.as_of}")  # fmt: skip
    for line in result.lines:
        table.add_row(
            line.scenario, f"{line.key} v{line.version}", f"{line.win_rate_delta_pts:+g}",
            f"{line.attrition_delta:+.0%}", f"{line.ramp_delta_months:+g}",
            f"{line.capacity_vs_goal:.2f}" if line.capacity_vs_goal else "—", str(line.total_hires),
            str(line.sdr_hires), line.binding_constraint,
        )  # fmt: skip
    console.print(table)


def _print_diff(result: PlanDiff) -> None:
    """What moved between the two plan versions: hires, capacity, the binding constraint."""
    console.print(f"[bold]{result.a.key} v{result.a.version} → {result.b.key} v{result.b.version}[/]")
    console.print(
        f"hires {result.total_hires[0]} → {result.total_hires[1]}; capacity {money(result.capacity[0])} → "
        f"{money(result.capacity[1])}; binding {result.binding_constraint[0]} → {result.binding_constraint[1]}"
    )
    for h in result.hires:
        console.print(f"  {h.segment} {h.month}: {h.a} → {h.b} ({h.delta:+d})")


def register(app: typer.Typer) -> None:
    roster = typer.Typer(help="Mandate 3 — staff, ramp and rebalance the AE and SDR seats.", no_args_is_help=True)
    app.add_typer(roster, name="roster")
    roster.command("show")(show)
    roster.command("plan")(plan)
    roster.command("scenario")(scenario)
    roster.command("diff")(diff)
    roster.command("rebalance")(rebalance)
    roster.command("export-finance")(export_finance)
