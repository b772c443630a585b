"""Data commands: ingest an export, show what the store holds, build the demo company."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from saleslead.cli.common import AsOfOption, EngagementOption, JsonOption, StoreOption, as_of_date
from saleslead.cli.output import console, emit_json, guarded, money, progress_bar
from saleslead.errors import InputError
from saleslead.periods import parse_date
from saleslead.seat import DemoRequest, IngestReport, IngestRequest, StatusRequest, open_seat
from saleslead.status import StatusReport
from saleslead.sync.models import WarehouseRequest

__all__ = ["register"]


def print_ingest(report: IngestReport) -> None:
    console.print(f"[bold]Ingested[/] {report.path} ({report.source}), snapshot {report.snapshot_at:%Y-%m-%d %H:%M}")
    table = Table("table", "rows read", box=None)
    for name, rows in report.rows_read.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    first = f"{report.first_date:%Y-%m-%d}" if report.first_date else "unknown"
    console.print(f"dates: {first} .. {report.last_date:%Y-%m-%d}")
    console.print("stages in order: " + " → ".join(report.stages))
    console.print(
        f"opportunities new: {report.opportunities_new:,}, changed: {report.opportunities_changed:,}, "
        f"unchanged: {report.opportunities_unchanged:,}; "
        f"history events added: {report.history_added:,}" + (" — nothing changed" if report.unchanged else "")
    )
    if report.rejected:
        console.print(f"[yellow]{len(report.rejected)} rows rejected (quarantined, not loaded):[/]")
        for r in report.rejected[:20]:
            where = f"{r.file}" + (f" line {r.line}" if r.line else "") + (f" column {r.column!r}" if r.column else "")
            console.print(f"  {where}: {r.reason}")
        if len(report.rejected) > 20:
            console.print(f"  … and {len(report.rejected) - 20} more (see --json)")
    else:
        console.print("rows rejected: 0")
    for note in report.notes:
        console.print(f"note: {note}")


def print_status(report: StatusReport) -> None:
    console.print(f"[bold]Store[/] {report.store} ({report.engine}, schema v{report.schema_version})")
    console.print(
        f"{report.opportunities:,} opportunities, {report.history_rows:,} history events, {report.users:,} users, "
        f"{report.accounts:,} accounts, {report.ingests} ingests"
    )
    if report.first_event and report.last_event:
        console.print(f"history from {report.first_event:%Y-%m-%d} to {report.last_event:%Y-%m-%d}")
    console.print("stages: " + " → ".join(s.name for s in report.stages))
    console.print(
        f"\n[bold]Open pipeline as of {report.as_of}[/]: {report.open_count:,} deals, {money(report.open_amount)}"
    )
    for title, slices in (("segment", report.open_by_segment), ("stage", report.open_by_stage)):
        table = Table(title, "deals", "amount", "share", title=f"by {title}", title_justify="left")
        for s in slices:
            share = s.amount / report.open_amount if report.open_amount else 0.0
            table.add_row(s.name, f"{s.count:,}", money(s.amount), f"{share:.0%}")
        console.print(table)
    won = report.closed_won_quarter_to_date
    console.print(f"closed-won {won.period} to date: {won.count:,} deals, {money(won.amount)}")


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        path: Annotated[
            Path | None, typer.Argument(help="Folder of export files (CSV or Parquet), or one file.")
        ] = None,
        source: Annotated[
            str | None,
            typer.Option("--from", help="Read Fivetran's Salesforce tables from this Ibis URL instead of a folder."),
        ] = None,
        schema: Annotated[
            str, typer.Option("--schema", help="Schema of the warehouse tables (with --from).")
        ] = "salesforce",
        mapping: Annotated[
            str | None,
            typer.Option("--mapping", help="Mapping profile: a YAML file, or a shipped name (maven, hubspot)."),
        ] = None,
        lenient: Annotated[
            bool,
            typer.Option("--quarantine", help="Load good rows and quarantine bad ones instead of failing."),
        ] = False,
        snapshot: Annotated[
            str | None,
            typer.Option("--snapshot-date", help="The date the export describes (default: from the data)."),
        ] = None,
        materialise: Annotated[
            bool,
            typer.Option(
                "--materialise", help="Then compute and keep the week's answers as of the snapshot (as `run` does)."
            ),
        ] = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Ingest a CRM export (a folder, or Fivetran tables with --from): check it all, then write all or nothing."""
        from datetime import datetime, time

        with guarded(json), progress_bar(not json) as progress:
            when = datetime.combine(parse_date(snapshot, "--snapshot-date"), time(23, 59, 59)) if snapshot else None
            if (path is None) == (source is None):
                raise InputError("give a folder or --from URL (one of them)", hint="saleslead ingest PATH | --from URL")
            with open_seat(store, engagement=engagement) as seat:
                if source is not None:
                    warehouse = WarehouseRequest(url=source, schema_name=schema, strict=not lenient, snapshot_at=when)
                    report = seat.sync(warehouse, progress).ingest
                else:
                    request = IngestRequest(path=path, mapping=mapping, strict=not lenient, snapshot_at=when)
                    report = seat.ingest(request, progress)
                if materialise and report is not None:
                    seat.materialise(report.snapshot_at.date())
        if report is not None:
            emit_json(report) if json else print_ingest(report)

    @app.command()
    def status(
        as_of: AsOfOption = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """What the store holds, and the open pipeline by segment and stage as of a date."""
        with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
            report = seat.status(StatusRequest(as_of=as_of_date(as_of)))
        emit_json(report) if json else print_status(report)

    @app.command()
    def demo(
        out: Annotated[Path, typer.Option("--out", help="Where to write the generated export.")] = Path("demo-export"),
        opportunities: Annotated[
            int, typer.Option("--opportunities", min=100, help="Approximate deal count.")
        ] = 20_000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same company.")] = 7,
        as_of: AsOfOption = None,
        years: Annotated[int, typer.Option("--years", min=1, max=10, help="Years of history.")] = 3,
        slump_start: Annotated[
            str | None,
            typer.Option("--slump-start", help="Cut pipeline creation from this date (YYYY-MM-DD)."),
        ] = None,
        slump_weeks: Annotated[int, typer.Option("--slump-weeks", min=1, help="Weeks the slump lasts.")] = 8,
        slump_depth: Annotated[
            float, typer.Option("--slump-depth", min=0.0, max=1.0, help="Share of creation cut.")
        ] = 0.5,
        slump_segment: Annotated[str | None, typer.Option("--slump-segment", help="Only this segment slumps.")] = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Generate the demo company (Salesforce-shaped CSVs), ingest it, and print the first briefing."""
        with guarded(json), progress_bar(not json) as progress:
            request = DemoRequest(
                out=out,
                opportunities=opportunities,
                seed=seed,
                as_of=as_of_date(as_of),
                years=years,
                slump_start=parse_date(slump_start, "--slump-start") if slump_start else None,
                slump_weeks=slump_weeks,
                slump_depth=slump_depth,
                slump_segment=slump_segment,
            )
            with open_seat(store, engagement=engagement) as seat:
                result = seat.demo(request, progress)
        if json:
            emit_json(result)
            return
        console.print(
            f"[bold]Demo company[/] written to {result.path}: {result.opportunities:,} opportunities, "
            f"{result.history_rows:,} history rows, {result.users:,} users (seed {result.seed})\n"
        )
        print_ingest(result.ingest)
        console.rule("briefing")
        console.print(Markdown(result.briefing))
