"""``saleslead serve``: the dashboard and JSON API on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from saleslead.cli.common import EngagementOption, StoreOption
from saleslead.cli.output import console, guarded, stderr

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[
            str, typer.Option("--host", help="Address to listen on (default: this machine only).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
        allow_host: Annotated[
            list[str] | None,
            typer.Option(
                "--allow-host",
                help="Another name the server answers to (Host header); repeat as needed. Loopback names always.",
            ),
        ] = None,
        warm: Annotated[
            bool,
            typer.Option("--warm/--no-warm", help="Compute every page's default view in the background at start."),
        ] = True,
        new_token: Annotated[
            bool, typer.Option("--new-token", help="Make a new write token (the old one stops working).")
        ] = False,
        store: StoreOption = None,
        engagement: EngagementOption = "default",
    ) -> None:
        """Serve the dashboard and the JSON API (OpenAPI at /openapi.json) for one engagement.

        Reads need no token from this machine; every write needs the engagement's write token, which
        is made on first start and printed once here (use --new-token if it is lost).
        """
        import uvicorn

        from saleslead.web import create_app
        from saleslead.web.security import LOOPBACK_HOSTS, is_loopback

        hosts = (*LOOPBACK_HOSTS, *(allow_host or ()))
        if not is_loopback(host) and host not in ("0.0.0.0", "::"):
            hosts = (*hosts, host)
        with guarded(False):
            web = create_app(store, engagement, allowed_hosts=hosts, new_token=new_token, warm=warm)
        fresh = web.state.new_token
        web.state.new_token = None
        shown = f"[{host}]" if ":" in host else host
        console.print(f"[bold]saleslead[/] dashboard for engagement [bold]{engagement}[/] at http://{shown}:{port}/")
        if fresh:
            console.print(
                "[bold yellow]Write token[/] (shown once — keep it; paste it in the dashboard to change anything):"
            )
            console.print(f"  {fresh}", highlight=False, soft_wrap=True)
        else:
            console.print(
                "Write token: the one printed when this engagement was first served (--new-token for another)."
            )
        console.file.flush()  # the token is shown once: make sure it is out before the server starts
        if not is_loopback(host):
            stderr.print(
                "[yellow]Listening beyond this machine: reads from elsewhere need the token too; "
                "add --allow-host for the names clients use.[/]"
            )
        uvicorn.run(web, host=host, port=port, log_level="info", server_header=False)
