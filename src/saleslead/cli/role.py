"""CLI commands for the seat in the fleet: the role, lanes (ask), handoffs, the weekly cadence (run), MCP."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from saleslead.cli.common import AsOfOption, EngagementOption, JsonOption, StoreOption, as_of_date, choice
from saleslead.cli.output import console, emit_json, guarded, progress_bar
from saleslead.cli.output import table as out_table
from saleslead.errors import InputError
from saleslead.periods import parse_date
from saleslead.role.desk import AskRequest, AskResult, HandoffsRequest, HandoffUpdate, RunRequest
from saleslead.role.exports import export_role
from saleslead.role.handoffs import Handoff, HandoffStatus
from saleslead.role.outbox_view import HandoffSort
from saleslead.role.schema import RoleDefinition, load_role
from saleslead.seat import open_seat

__all__ = ["register"]

role_app = typer.Typer(help="The role this seat plays in the fleet: show it, export it for other runtimes.")
handoffs_app = typer.Typer(help="The outbox: work handed to other roles.")

StatusFilter = Annotated[
    str | None, typer.Option("--status", help="Only handoffs with this status: open, acknowledged, done.")
]


def _status(value: str | None) -> HandoffStatus | None:
    if value is None:
        return None
    if value not in ("open", "acknowledged", "done"):
        raise InputError(f"unknown status {value!r}", hint="open, acknowledged or done")
    return value  # type: ignore[return-value]


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def print_role(role: RoleDefinition) -> None:
    kept = "persistent" if role.persistent_persona else "per task"
    console.print(f"[bold]{role.title}[/] ({role.role_class}, domain {role.domain}, {kept})")
    console.print(" ".join(role.summary.split()))
    table = Table("mandate", "action", "what it does", title="In lane", title_justify="left")
    for item in role.mandate:
        for action in item.actions:
            table.add_row(item.id, action.id, action.summary)
    console.print(table)
    table = Table("boundary", "owner", "relation", "what goes with it", title="Handed off", title_justify="left")
    for b in role.boundaries:
        table.add_row(b.id, b.owner, b.relation, b.payload)
    console.print(table)
    console.print("[bold]Voice:[/] " + " ".join(role.persona.voice.split()))


def print_handoffs(handoffs: list[Handoff]) -> None:
    if not handoffs:
        console.print("The outbox is empty.")
        return
    table = out_table("#", "id", "to", "status", "as of", "request", text=("request", "to", "status"))
    for h in handoffs:
        table.add_row(str(h.sequence), h.id, h.to_role, h.status, str(h.as_of or ""), h.request)
    console.print(table)


def print_answer(result: AskResult) -> None:
    console.print(f"[bold]{result.route.verdict.replace('_', ' ')}[/]")
    for answer in result.answers:
        console.print(f"[bold]{answer.action}[/] ({answer.mandate}): {answer.text}")
    for h in result.handoffs:
        console.print(f"handed to [bold]{h.to_role}[/] ({h.boundary}) as {h.id}: {' '.join(h.reason.split())}")
    if result.question:
        console.print(" ".join(result.question.split()))


def role_show(json: JsonOption = False) -> None:
    """The role definition: mandate, boundaries and persona (from the bundled role file)."""
    with guarded(json):
        role = load_role()
    emit_json(role.model_dump(mode="json", by_alias=True)) if json else print_role(role)


def role_export(
    fmt: Annotated[
        str, typer.Option("--format", help="claude: a Claude Code subagent file; crewai: a CrewAI agent YAML.")
    ] = "claude",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export the role for another agent runtime."""
    with guarded(False):
        if fmt not in ("claude", "crewai"):
            raise InputError(f"unknown format {fmt!r}", hint="claude or crewai")
        text = export_role(load_role(), "claude" if fmt == "claude" else "crewai")
    _write(text, out)


def ask(
    text: Annotated[str, typer.Argument(help="The request, in words.")] = "",
    intent: Annotated[
        str | None, typer.Option("--intent", help="A typed intent instead: an action id or a boundary id.")
    ] = None,
    as_of: AsOfOption = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Route a request: answer the in-lane part from the store, hand off the rest, or ask what is meant."""
    with guarded(json), open_seat(store, engagement=engagement) as seat:
        result = seat.ask(AskRequest(text=text, intent=intent, as_of=as_of_date(as_of)))
    emit_json(result) if json else print_answer(result)


def handoffs_list(
    status: StatusFilter = None,
    to: Annotated[str | None, typer.Option("--to", help="Only handoffs to this role.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only handoffs of this owner's deals.")] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Only handoffs about this segment.")] = None,
    sort: Annotated[str, typer.Option("--sort", help="issued, amount, owner, to_role or status.")] = "issued",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show at most this many.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """The handoffs in the outbox, in the order they were issued (or --sort), filtered by owner or segment."""
    with guarded(json), open_seat(store, engagement=engagement, read_only=True) as seat:
        request = HandoffsRequest(
            status=_status(status), to_role=to, owner=owner, segment=segment,
            sort=choice(sort, HandoffSort, "--sort"), limit=limit,
        )  # fmt: skip
        result = seat.handoffs(request)
    emit_json(result) if json else print_handoffs(result.handoffs)


def handoffs_ack(
    handoff: Annotated[str, typer.Argument(help="The handoff id (ho-…).")],
    done: Annotated[bool, typer.Option("--done", help="Mark it done instead of acknowledged.")] = False,
    by: Annotated[str, typer.Option("--by", help="Who acknowledges (a role or a person).")] = "fleet",
    store: StoreOption = None,
    engagement: EngagementOption = "default",
    json: JsonOption = False,
) -> None:
    """Acknowledge a handoff (or mark it done); statuses only move forward."""
    with guarded(json), open_seat(store, engagement=engagement) as seat:
        result = seat.update_handoff(HandoffUpdate(id=handoff, status="done" if done else "acknowledged", by=by))
    emit_json(result) if json else console.print(f"{result.id} → {result.to_role}: {result.status}")


def handoffs_export(
    status: StatusFilter = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
) -> None:
    """The outbox as JSON Lines, one handoff per line."""
    with guarded(False), open_seat(store, engagement=engagement, read_only=True) as seat:
        text = seat.handoffs_jsonl(HandoffsRequest(status=_status(status)))
    _write(text, out)


def run(
    as_of: Annotated[str, typer.Option("--as-of", help="The week's date (YYYY-MM-DD).")],
    ingest: Annotated[Path | None, typer.Option("--ingest", help="Ingest this export first (folder or file).")] = None,
    mapping: Annotated[str | None, typer.Option("--mapping", help="Mapping profile for --ingest.")] = None,
    sync: Annotated[
        str | None, typer.Option("--sync", help="Sync this CRM first: salesforce or hubspot (what changed).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or html (self-contained, offline).")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="Write the briefing to this file.")] = None,
    store: StoreOption = None,
    engagement: EngagementOption = "default",
) -> None:
    """The weekly cadence: ingest, compute every mandate, raise flags, hand off, and write the briefing."""
    from saleslead.briefing.html import briefing_html
    from saleslead.briefing.weekly import briefing_markdown

    as_json = fmt == "json"
    with guarded(as_json):
        if fmt not in ("md", "json", "html"):
            raise InputError(f"unknown format {fmt!r}", hint="md, json or html")
        if sync not in (None, "salesforce", "hubspot"):
            raise InputError(f"unknown --sync {sync!r}", column="--sync", hint="salesforce or hubspot")
        request = RunRequest(
            as_of=parse_date(as_of, "--as-of"),
            ingest=ingest,
            mapping=mapping,
            sync="salesforce" if sync == "salesforce" else ("hubspot" if sync == "hubspot" else None),
        )
        with progress_bar(not as_json) as progress, open_seat(store, engagement=engagement) as seat:
            briefing = seat.run(request, progress)
    kind: Literal["md", "json", "html"] = "md" if fmt == "md" else ("json" if as_json else "html")
    if kind == "json":
        text = briefing.model_dump_json(indent=2) + "\n"
    elif kind == "html":
        text = briefing_html(briefing)
    else:
        text = briefing_markdown(briefing)
    _write(text, out)


def mcp(store: StoreOption = None, engagement: EngagementOption = "default") -> None:
    """Serve the seat over MCP on stdio (tools per mandate action, route_request, role and state resources)."""
    from saleslead.mcp_server import serve

    serve(store, engagement)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the app."""
    role_app.command("show")(role_show)
    role_app.command("export")(role_export)
    app.command()(ask)
    handoffs_app.command("list")(handoffs_list)
    handoffs_app.command("ack")(handoffs_ack)
    handoffs_app.command("export")(handoffs_export)
    app.command()(run)
    app.command()(mcp)
    app.add_typer(role_app, name="role")
    app.add_typer(handoffs_app, name="handoffs")
