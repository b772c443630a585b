"""Sync commands: pull what changed in a live CRM (Salesforce, HubSpot) into the store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from saleslead.cli.common import EngagementOption, JsonOption, StoreOption
from saleslead.cli.data import print_ingest
from saleslead.cli.output import console, emit_json, guarded, progress_bar
from saleslead.errors import InputError
from saleslead.seat import open_seat
from saleslead.sync import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport

__all__ = ["print_sync", "register"]

FullOption = Annotated[bool, typer.Option("--full", help="Read everything, not only what changed since the last sync.")]
OverlapOption = Annotated[
    float, typer.Option("--overlap-minutes", min=0, help="Re-read this much before each watermark (late commits).")
]
QuarantineOption = Annotated[
    bool, typer.Option("--quarantine", help="Load good rows and quarantine bad ones instead of failing.")
]


def _fields(values: list[str]) -> dict[str, dict[str, str]]:
    """``Object.ContractField=OrgField`` options as {object: {contract field: org field}}."""
    mapping: dict[str, dict[str, str]] = {}
    for value in values:
        left, sep, org = value.partition("=")
        sobject, dot, contract = left.partition(".")
        if not (sep and dot and sobject and contract and org):
            raise InputError(
                f"cannot read --field {value!r}",
                column="--field",
                hint="expected Object.ContractField=OrgField, e.g. Opportunity.Segment__c=Region__c",
            )
        mapping.setdefault(sobject.strip(), {})[contract.strip()] = org.strip()
    return mapping


def print_sync(report: SyncReport) -> None:
    console.print(
        f"[bold]Synced[/] {report.source} ({report.mode}) in {report.seconds:.1f} s, {report.requests} requests"
    )
    table = Table("object", "api", "since", "rows", "deleted", "by id", box=None)
    for o in report.objects:
        since = f"{o.since:%Y-%m-%d %H:%M}" if o.since else "—"
        table.add_row(o.name, o.api, since, f"{o.rows:,}", f"{o.deleted:,}", f"{o.by_id:,}")
    console.print(table)
    if report.retries:
        console.print(f"rate-limited: waited and retried {report.retries} times")
    if report.removed_opportunities:
        console.print(f"deleted in the CRM, removed from the store: {report.removed_opportunities:,} opportunities")
    if report.ingest is None:
        console.print("nothing changed since the last sync")
    else:
        print_ingest(report.ingest)


def register(app: typer.Typer) -> None:
    sync = typer.Typer(help="Pull what changed in a live CRM into the store (credentials from the environment).")
    app.add_typer(sync, name="sync")

    @sync.command("salesforce")
    def salesforce(
        full: FullOption = False,
        bulk_threshold: Annotated[
            int,
            typer.Option(
                "--bulk-threshold", min=0, help="Read an object by Bulk API 2.0 from this many rows (0: never)."
            ),
        ] = 10_000,
        field: Annotated[
            list[str] | None,
            typer.Option("--field", help="Custom field mapping Object.ContractField=OrgField (repeatable)."),
        ] = None,
        overlap: OverlapOption = 5.0,
        quarantine: QuarantineOption = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Sync Salesforce: what changed since the last sync (the first run reads everything), all or nothing."""
        with guarded(json), progress_bar(not json) as progress:
            request = SalesforceSyncRequest(
                full=full,
                bulk_threshold=bulk_threshold,
                fields=_fields(field or []),
                overlap_minutes=overlap,
                strict=not quarantine,
            )
            with open_seat(store, engagement=engagement) as seat:
                report = seat.sync(request, progress)
        emit_json(report) if json else print_sync(report)

    @sync.command("hubspot")
    def hubspot(
        full: FullOption = False,
        overlap: OverlapOption = 5.0,
        quarantine: QuarantineOption = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
        json: JsonOption = False,
    ) -> None:
        """Sync HubSpot deals with their real stage history, owners, pipelines and companies (all or nothing)."""
        with guarded(json), progress_bar(not json) as progress:
            request = HubSpotSyncRequest(full=full, overlap_minutes=overlap, strict=not quarantine)
            with open_seat(store, engagement=engagement) as seat:
                report = seat.sync(request, progress)
        emit_json(report) if json else print_sync(report)
