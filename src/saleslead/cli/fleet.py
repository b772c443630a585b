"""``saleslead a2a`` and the outbox's peers: the seat on the A2A protocol, in both directions."""

from __future__ import annotations

from typing import Annotated

import typer

from saleslead.cli.common import EngagementOption, StoreOption
from saleslead.cli.output import console, emit_json, guarded
from saleslead.cli.role import handoffs_app
from saleslead.role.delivery import DeliveryReport, PeerRequest
from saleslead.seat import open_seat

__all__ = ["register"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _print_report(report: DeliveryReport) -> None:
    for d in report.deliveries:
        said = d.reply or d.error or ""
        console.print(f"{d.handoff} → {d.to_role}: [bold]{d.state}[/] (attempt {d.attempts}) {said[:80]}")
    if report.no_peer:
        console.print(f"{len(report.no_peer)} open hand-offs wait for roles with no peer set (handoffs peer).")
    if not report.deliveries and not report.no_peer:
        console.print("Nothing to deliver.")


def register(app: typer.Typer) -> None:
    @app.command()
    def a2a(
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8766,
        url: Annotated[
            str | None, typer.Option("--url", help="The address peers use, if not http://HOST:PORT (in the card).")
        ] = None,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
    ) -> None:
        """Serve the seat as an A2A agent: the card at /.well-known/agent-card.json, JSON-RPC at /a2a.

        A peer's message (text, or a data part with intent/text/as_of) gets the same answer or hand-off
        as `saleslead ask`.
        """
        import uvicorn

        from saleslead.a2a_face import build_app

        with guarded(False), open_seat(store, engagement=engagement) as seat:
            role = seat.role_definition()
        shown = f"[{host}]" if ":" in host else host
        base = url or f"http://{shown}:{port}"
        app_ = build_app(lambda: open_seat(store, engagement=engagement), role, base)
        console.print(f"[bold]saleslead[/] A2A agent for engagement [bold]{engagement}[/] at {base}/a2a")
        console.file.flush()
        uvicorn.run(app_, host=host, port=port, log_level="info", server_header=False)

    @handoffs_app.command("peer")
    def handoffs_peer(
        role: Annotated[str, typer.Argument(help="The fleet role, e.g. account-executive.")],
        url: Annotated[str, typer.Argument(help="Its A2A agent's base URL (where its agent card is served).")],
        store: StoreOption = None,
        engagement: EngagementOption = "default",
    ) -> None:
        """Set the A2A endpoint of a fleet role; its open hand-offs are sent there by `handoffs deliver`."""
        with guarded(False), open_seat(store, engagement=engagement) as seat:
            peer = seat.set_peer(PeerRequest(role=role, url=url))
        console.print(f"{peer.role} → {peer.url}")

    @handoffs_app.command("peers")
    def handoffs_peers(
        as_json: JsonOption = False, store: StoreOption = None, engagement: EngagementOption = "default"
    ) -> None:
        """The fleet roles with an A2A endpoint."""
        with guarded(as_json), open_seat(store, engagement=engagement, read_only=True) as seat:
            found = seat.peers()
        if as_json:
            emit_json([p.model_dump(mode="json") for p in found])
            return
        for p in found:
            console.print(f"{p.role} → {p.url}")
        if not found:
            console.print("No peers set (handoffs peer ROLE URL).")

    @handoffs_app.command("deliver")
    def handoffs_deliver(
        timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each peer.")] = 10.0,
        as_json: JsonOption = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
    ) -> None:
        """Send open hand-offs to their roles' A2A peers; failures are kept and retried on the next run."""
        from saleslead.a2a_face import a2a_send

        with guarded(as_json), open_seat(store, engagement=engagement) as seat:
            report = seat.deliver_handoffs(a2a_send(timeout))
        if as_json:
            emit_json(report.model_dump(mode="json"))
            return
        _print_report(report)
