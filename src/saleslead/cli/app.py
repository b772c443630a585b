"""The ``saleslead`` command: a thin face over the seat. Each command parses, calls the seat once, and prints.

A command's module (and the seat, the engines behind them) is imported only when one of its commands runs or
its own help is asked for: ``saleslead --help`` lists the commands from :data:`COMMANDS` without importing any,
so it answers at the speed of Python and Typer alone, and ``saleslead forecast`` imports the forecast commands'
module alone (which loads the seat only when no stored answer serves it, see :mod:`saleslead.stored`). A test
checks :data:`COMMANDS` against the modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from saleslead.version import __version__

__all__ = ["COMMANDS", "MODULES", "app", "main"]

#: the modules registering the commands, in the order they are listed
MODULES = ("data", "sync", "config", "targets", "forecast", "roster", "strategy", "role", "fleet", "web")

#: every top-level command in the order Typer lists them (commands, then groups): (module that registers it,
#: its one-line help as listed by ``saleslead --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("data", "Ingest a CRM export (a folder, or Fivetran tables with --from): check it all, then write all "
                       "or nothing."),
    "status": ("data", "What the store holds, and the open pipeline by segment and stage as of a date."),
    "demo": ("data", "Generate the demo company (Salesforce-shaped CSVs), ingest it, and print the first briefing."),
    "coverage": ("targets", "Coverage of a period: reported (pipeline ÷ what is left) and real (the forecast's "
                            "outlook), with the gap."),
    "deals": ("forecast", "The deals behind a number: closed-won, commit, best case, pipeline, open or past due, "
                          "filtered."),
    "deal": ("forecast", "One deal inspected: its history and every risk signal with its evidence (for the account "
                         "executive)."),
    "stalls": ("forecast", "Deals gone quiet beyond won deals' norm, or past their close date, with every risk — "
                           "for the AE."),
    "waterfall": ("forecast", "How the period's pipeline moved between two dates: created, pulled in, pushed, won, "
                              "lost."),
    "backtest": ("forecast", "Walk-forward backtest of the forecast against two baselines: WAPE, bias, coverage, "
                             "CRPS, Brier."),
    "accuracy": ("forecast", "The accuracy ledger: calls against actuals per node, shrunk toward the team."),
    "ask": ("role", "Route a request: answer the in-lane part from the store, hand off the rest, or ask what is "
                    "meant."),
    "run": ("role", "The weekly cadence: ingest, compute every mandate, raise flags, hand off, and write the "
                    "briefing."),
    "mcp": ("role", "Serve the seat over MCP on stdio (tools per mandate action, route_request, role and state "
                    "resources)."),
    "a2a": ("fleet", "Serve the seat as an A2A agent: the card at /.well-known/agent-card.json, JSON-RPC at /a2a."),
    "serve": ("web", "Serve the dashboard and the JSON API (OpenAPI at /openapi.json) for one engagement."),
    "sync": ("sync", "Pull what changed in a live CRM into the store (credentials from the environment)."),
    "config": ("config", "The seat's settings for this store and engagement: fiscal year, currency, stages, segments, "
                         "thresholds."),
    "targets": ("targets", "Set and defend pipeline targets."),
    "forecast": ("forecast", "Call the number: P10/P50/P90 of the period's closed-won, for the total, every node "
                             "and segment."),
    "call": ("forecast", "Calls on the number: submit, check with the honesty guard, list."),
    "roster": ("roster", "Mandate 3 — staff, ramp and rebalance the AE and SDR seats."),
    "strategy": ("strategy", "Mandate 1: where the team competes — scorecard, recommendations, the decision, and "
                             "holding to it."),
    "role": ("role", "The role this seat plays in the fleet: show it, export it for other runtimes."),
    "handoffs": ("role", "The outbox: work handed to other roles."),
}  # fmt: skip


#: modules registered together: fleet adds ``handoffs deliver`` to role's group
_TOGETHER = (("role", "fleet"),)

_LOADED: dict[str, click.Command] = {}
_REGISTERED: set[str] = set()


def _unit(module: str) -> tuple[str, ...]:
    return next((unit for unit in _TOGETHER if module in unit), (module,))


def load_commands(names: Iterable[str] | None = None) -> dict[str, click.Command]:
    """The commands (all of them, or those named), their modules imported — each module once per process and
    only when one of its commands is wanted, so a command pays for its own imports alone; modules that add to
    each other's groups (:data:`_TOGETHER`) are registered together, as one app."""
    wanted = MODULES if names is None else tuple(COMMANDS[n][0] for n in names if n in COMMANDS)
    for module in wanted:
        if module in _REGISTERED:
            continue
        unit = _unit(module)
        whole = typer.Typer()
        for each in unit:
            importlib.import_module(f"saleslead.cli.{each}").register(whole)
        _LOADED.update(typer.main.get_group(whole).commands)
        _REGISTERED.update(unit)
    return {name: _LOADED[name] for name in COMMANDS if name in _LOADED}


class LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` as they are, imports the commands when one is used.

    Reading :attr:`commands` from outside (the command reference, tests walking the tree) loads them all.
    """

    listing = False

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        return load_commands()

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        pass  # the commands are the modules' (see load_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self.listing and cmd_name in COMMANDS:
            summary = COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        return load_commands([cmd_name]).get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The root's help in plain text (each command's own help stays Rich): importing Rich's help formatter
        would cost more than the rest of ``saleslead --help`` together."""
        self.listing = True
        mode, self.rich_markup_mode = self.rich_markup_mode, None
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False
            self.rich_markup_mode = mode


app = typer.Typer(
    name="saleslead",
    help="The sales-lead seat: strategy, pipeline targets, roster and the forecast call — honest about the funnel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"saleslead {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """The sales-lead seat of an agent fleet."""


def main() -> None:
    app()
