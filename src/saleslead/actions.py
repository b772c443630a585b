"""The action table: every action the seat offers, its spec bound to the desk method that runs it.

The specs (:mod:`saleslead.role.specs`: id, mandate, request and result types, read or write, description,
example questions, MCP tool, CLI commands, briefing section) live below the seat, so the weekly cadence builds
its steps from them; here each is bound to the seat's accessor of its desk and the desk method (the types of the
method and the spec must agree, which mypy checks). From the table:

* the MCP server makes one tool per action that has a ``tool`` name (arguments and input schema from the
  request model's fields, with their descriptions, formats and examples);
* the A2A agent card describes each of the role's actions by its row;
* the web pages name the action they show (``web.context.PAGES``);
* ``tests/test_actions.py`` checks the CLI's commands, the cadence's steps (the briefing's sections), the
  ``ask`` router and the role file's actions against it.

Only faces import this module; the library below it never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from saleslead.data.desk import DataDesk, DemoRequest, DemoResult, StatusRequest
from saleslead.forecast.desk import ForecastDesk
from saleslead.forecast.meeting import MeetingDesk
from saleslead.role import specs as S
from saleslead.role.desk import FleetDesk
from saleslead.role.specs import ActionSpec, Mandate
from saleslead.roster.desk import RosterDesk
from saleslead.seat import Seat
from saleslead.seat import data_desk_of as _data  # the seat's own desk accessors: its methods and the table agree
from saleslead.seat import fleet_desk_of as _fleet
from saleslead.seat import forecast_desk_of as _forecast
from saleslead.seat import meeting_desk_of as _meeting
from saleslead.seat import roster_desk_of as _roster
from saleslead.seat import strategy_desk_of as _strategy
from saleslead.seat import targets_desk_of as _targets
from saleslead.status import StatusReport
from saleslead.strategy.desk import StrategyDesk
from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport, WarehouseRequest
from saleslead.sync.source import sync_source
from saleslead.targets.desk import TargetsDesk

__all__ = ["ACTIONS", "Action", "ActionSpec", "Mandate", "action", "bind"]

D = TypeVar("D")
Req = TypeVar("Req", bound=BaseModel)
Res = TypeVar("Res", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class Action(ActionSpec[Req, Res], Generic[D, Req, Res]):
    """An action's spec bound to the desk method that does it."""

    desk: Callable[[Seat], D] = field(repr=False)
    method: Callable[[D, Req], Res] = field(repr=False)

    def call(self, seat: Seat, request: Req) -> Res:
        """Run the action on a seat: its desk's method with the request."""
        return self.method(self.desk(seat), request)

    def run_with(self, seat: Seat, arguments: dict[str, Any]) -> Res:
        """Validate raw arguments into the request model, then run (the request's ValidationError is the error)."""
        return self.call(seat, self.request.model_validate(arguments))


def bind(spec: ActionSpec[Req, Res], desk: Callable[[Seat], D], method: Callable[[D, Req], Res]) -> Action[D, Req, Res]:
    """The spec's row of the table: the same fields, run by ``method`` of the desk ``desk`` reaches."""
    same = {f.name: getattr(spec, f.name) for f in fields(ActionSpec)}
    return Action(**same, desk=desk, method=method)


def _seat(seat: Seat) -> Seat:
    return seat


def _demo(seat: Seat, request: DemoRequest) -> DemoResult:
    return seat.demo(request)


def _status(desk: DataDesk, request: StatusRequest) -> StatusReport:
    return desk.status(request)


def _sync(desk: DataDesk, request: SalesforceSyncRequest | HubSpotSyncRequest | WarehouseRequest) -> SyncReport:
    return sync_source(desk, request)


ACTIONS: tuple[Action[Any, Any, Any], ...] = (
    # --- data ------------------------------------------------------------------------------------
    bind(S.INGEST, _data, DataDesk.ingest),
    bind(S.PIPELINE, _data, _status),
    bind(S.DEMO, _seat, _demo),
    bind(S.SYNC_SALESFORCE, _data, _sync),
    bind(S.SYNC_HUBSPOT, _data, _sync),
    bind(S.SYNC_WAREHOUSE, _data, _sync),
    bind(S.CONFIG_SHOW, _data, DataDesk.config_show),
    bind(S.CONFIG_SET, _data, DataDesk.config_set),
    bind(S.CONFIG_LOAD, _data, DataDesk.config_load),
    # --- strategy --------------------------------------------------------------------------------
    bind(S.STRATEGY_SCORE, _strategy, StrategyDesk.strategy_score),
    bind(S.STRATEGY_DECIDE, _strategy, StrategyDesk.strategy_decide),
    bind(S.STRATEGY_SHOW, _strategy, StrategyDesk.strategy_show),
    bind(S.STRATEGY_CHECK, _strategy, StrategyDesk.strategy_check),
    # --- targets ---------------------------------------------------------------------------------
    bind(S.COVERAGE, _targets, TargetsDesk.coverage),
    bind(S.TARGETS, _targets, TargetsDesk.targets),
    bind(S.SET_TARGETS, _targets, TargetsDesk.set_targets),
    bind(S.DEFEND_TARGETS, _targets, TargetsDesk.defend_targets),
    # --- roster ----------------------------------------------------------------------------------
    bind(S.ROSTER_SHOW, _roster, RosterDesk.roster_show),
    bind(S.ROSTER_PLAN, _roster, RosterDesk.roster_plan),
    bind(S.ROSTER_SCENARIOS, _roster, RosterDesk.roster_scenarios),
    bind(S.ROSTER_DIFF, _roster, RosterDesk.roster_diff),
    bind(S.ROSTER_FINANCE, _roster, RosterDesk.roster_finance),
    bind(S.ROSTER_REBALANCE, _roster, RosterDesk.roster_rebalance),
    # --- forecast --------------------------------------------------------------------------------
    bind(S.FORECAST, _forecast, ForecastDesk.forecast),
    bind(S.SEAT_CALL, _forecast, ForecastDesk.seat_call),
    bind(S.CALL_SUBMIT, _meeting, MeetingDesk.call_submit),
    bind(S.CALL_CHECK, _meeting, MeetingDesk.call_check),
    bind(S.CALL_LIST, _meeting, MeetingDesk.call_list),
    bind(S.STALLS, _meeting, MeetingDesk.stalls),
    bind(S.FORECAST_GRID, _meeting, MeetingDesk.forecast_grid),
    bind(S.DEALS, _meeting, MeetingDesk.deals),
    bind(S.DEAL, _meeting, MeetingDesk.deal),
    bind(S.WATERFALL, _forecast, ForecastDesk.waterfall),
    bind(S.FORECAST_BACKTEST, _forecast, ForecastDesk.forecast_backtest),
    bind(S.FORECAST_ACCURACY, _forecast, ForecastDesk.forecast_accuracy),
    # --- the fleet -------------------------------------------------------------------------------
    bind(S.ASK, _fleet, FleetDesk.ask),
    bind(S.RUN, _fleet, FleetDesk.run),
    bind(S.HANDOFFS, _fleet, FleetDesk.handoffs),
    bind(S.SET_PEER, _fleet, FleetDesk.set_peer),
    bind(S.UPDATE_HANDOFF, _fleet, FleetDesk.update_handoff),
)

_BY_ID = {a.id: a for a in ACTIONS}


def action(action_id: str) -> Action[Any, Any, Any]:
    """The action with this id (KeyError when there is none)."""
    return _BY_ID[action_id]
