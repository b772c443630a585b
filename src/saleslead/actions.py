"""The seat's actions, in one typed table: what each face offers is derived from it or checked against it.

Each :class:`Action` names an id, the mandate it serves, its request and result types, whether it writes,
what it does (the MCP tool's description) and example questions (each must route to it through the role's
lanes), and it is bound to the desk method that does the work. From the table:

* the MCP server makes one tool per action that has a ``tool`` name (arguments and input schema from the
  request model's fields, with their descriptions, formats and examples);
* the web pages name the action they show (``web.context.PAGES``);
* ``tests/test_actions.py`` checks the CLI's commands, the cadence's adapters (the briefing's section ids),
  the ``ask`` router and the role file's actions against it.

Only faces import this module; the library below it never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from saleslead.config import ConfigLoadRequest, ConfigSetRequest, ConfigShowRequest, SettingsView
from saleslead.data.desk import (
    DataDesk,
    DemoRequest,
    DemoResult,
    IngestReport,
    IngestRequest,
    StatusRequest,
)
from saleslead.forecast.deals import DealsRequest, DealsResult
from saleslead.forecast.desk import ForecastDesk
from saleslead.forecast.grid import GridRequest, GridResult
from saleslead.forecast.meeting import MeetingDesk
from saleslead.forecast.risk import DealInspection, DealRequest
from saleslead.forecast.schemas import (
    AccuracyRequest,
    AccuracyResult,
    BacktestRequest,
    BacktestResult,
    CallCheckRequest,
    CallListRequest,
    CallListResult,
    CallRecord,
    CallSubmitRequest,
    ForecastRequest,
    ForecastResult,
    SeatCallRequest,
    StallsRequest,
    StallsResult,
    WaterfallRequest,
    WaterfallResult,
)
from saleslead.role.delivery import Peer, PeerRequest
from saleslead.role.desk import (
    AskRequest,
    AskResult,
    FleetDesk,
    HandoffList,
    HandoffsRequest,
    HandoffUpdate,
    RunRequest,
)
from saleslead.role.handoffs import Handoff
from saleslead.role.report import WeeklyBriefing
from saleslead.roster.desk import (
    FinanceTable,
    RebalanceResult,
    RosterDesk,
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
from saleslead.roster.scenarios import PlanDiff
from saleslead.seat import Seat
from saleslead.seat import data_desk_of as _data  # the seat's own desk accessors: its methods and the table agree
from saleslead.seat import fleet_desk_of as _fleet
from saleslead.seat import forecast_desk_of as _forecast
from saleslead.seat import meeting_desk_of as _meeting
from saleslead.seat import roster_desk_of as _roster
from saleslead.seat import strategy_desk_of as _strategy
from saleslead.seat import targets_desk_of as _targets
from saleslead.status import StatusReport
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView
from saleslead.strategy.desk import StrategyDesk
from saleslead.strategy.scorecard import Scorecard, ScoreRequest
from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport, WarehouseRequest
from saleslead.sync.source import sync_source
from saleslead.targets.coverage import Coverage
from saleslead.targets.defend import Defense
from saleslead.targets.desk import (
    CoverageRequest,
    DefendRequest,
    TargetsDesk,
    TargetsRequest,
    TargetsShown,
    TargetsShowRequest,
)
from saleslead.targets.plan import TargetPlan

__all__ = ["ACTIONS", "Action", "Mandate", "action"]

D = TypeVar("D")
Req = TypeVar("Req", bound=BaseModel)
Res = TypeVar("Res", bound=BaseModel)

Mandate = Literal["data", "strategy", "targets", "roster", "forecast", "fleet"]


@dataclass(frozen=True)
class Action(Generic[D, Req, Res]):
    """One thing the seat does: typed, described, and bound to the desk method that does it."""

    id: str
    mandate: Mandate
    request: type[Req]
    result: type[Res]
    writes: bool
    description: str
    desk: Callable[[Seat], D]
    method: Callable[[D, Req], Res]
    examples: tuple[str, ...] = ()
    #: the MCP tool's name (None: not offered over MCP)
    tool: str | None = None
    #: the CLI commands that run it (``saleslead`` left out)
    cli: tuple[str, ...] = ()
    #: repeating it with the same request changes nothing more (MCP's idempotent hint)
    idempotent: bool = False

    def call(self, seat: Seat, request: Req) -> Res:
        """Run the action on a seat: its desk's method with the request."""
        return self.method(self.desk(seat), request)

    def run_with(self, seat: Seat, arguments: dict[str, Any]) -> Res:
        """Validate raw arguments into the request model, then run (the request's ValidationError is the error)."""
        return self.call(seat, self.request.model_validate(arguments))


def _seat(seat: Seat) -> Seat:
    return seat


def _demo(seat: Seat, request: DemoRequest) -> DemoResult:
    return seat.demo(request)


def _status(desk: DataDesk, request: StatusRequest) -> StatusReport:
    return desk.status(request)


def _sync(desk: DataDesk, request: SalesforceSyncRequest | HubSpotSyncRequest | WarehouseRequest) -> SyncReport:
    return sync_source(desk, request)


ACTIONS: tuple[Action[Any, Any, Any], ...] = (
    # --- data ----------------------------------------------------------------------------------
    Action("ingest", "data", IngestRequest, IngestReport, True,
           "Read a CRM export folder, check it whole, then write it to the store in one transaction.",
           _data, DataDesk.ingest, cli=("ingest",)),
    Action("pipeline", "data", StatusRequest, StatusReport, False,
           "What the store holds and the open pipeline by segment and stage, as of a date.",
           _data, _status, tool="pipeline_status", cli=("status",),
           examples=("Where does the funnel leak?", "Show me the open pipeline by stage")),
    Action("demo", "data", DemoRequest, DemoResult, True,
           "Generate the demo company as of a date, ingest it into the store, and brief on it.",
           _seat, _demo, cli=("demo",)),
    Action("sync_salesforce", "data", SalesforceSyncRequest, SyncReport, True,
           "Pull what changed in Salesforce since the last sync (credentials from the environment).",
           _data, _sync, cli=("sync salesforce",)),
    Action("sync_hubspot", "data", HubSpotSyncRequest, SyncReport, True,
           "Pull what changed in HubSpot since the last sync (credentials from the environment).",
           _data, _sync, cli=("sync hubspot",)),
    Action("sync_warehouse", "data", WarehouseRequest, SyncReport, True,
           "Read Fivetran's Salesforce tables from a warehouse (any Ibis backend URL).",
           _data, _sync, cli=("ingest",)),
    Action("config_show", "data", ConfigShowRequest, SettingsView, False,
           "The engagement's settings (fiscal year, currency, stages, segments, thresholds): each key, value, default.",
           _data, DataDesk.config_show, tool="config_show", cli=("config show",)),
    Action("config_set", "data", ConfigSetRequest, SettingsView, True,
           "Set one setting for this store and engagement, e.g. fiscal_start_month 2 for a February fiscal year.",
           _data, DataDesk.config_set, tool="config_set", cli=("config set",)),
    Action("config_load", "data", ConfigLoadRequest, SettingsView, True,
           "Replace the settings with a TOML document, as `config show --toml` writes it.",
           _data, DataDesk.config_load, cli=("config load",)),
    # --- strategy ------------------------------------------------------------------------------
    Action("strategy_score", "strategy", ScoreRequest, Scorecard, False,
           "Score every segment × motion × channel cell from won and lost history and say where to compete.",
           _strategy, StrategyDesk.strategy_score, tool="strategy_score", cli=("strategy score",),
           examples=("Where should we compete?", "Which segment should we focus on?")),
    Action("strategy_decide", "strategy", DecideRequest, StrategyDecision, True,
           "Record the strategy as a new version: the scorecard's recommendations plus the author's overrides.",
           _strategy, StrategyDesk.strategy_decide, cli=("strategy decide",)),
    Action("strategy_show", "strategy", ShowRequest, StrategyView, False,
           "The strategy decided (a version, default the latest) and every version.",
           _strategy, StrategyDesk.strategy_show, tool="strategy_show", cli=("strategy show",)),
    Action("strategy_check", "strategy", CheckRequest, StrategyCheck, True,
           "Open pipeline and effort in do-not-compete cells since the strategy in force.",
           _strategy, StrategyDesk.strategy_check, tool="strategy_check", cli=("strategy check",)),
    # --- targets -------------------------------------------------------------------------------
    Action("coverage", "targets", CoverageRequest, Coverage, False,
           "Reported, required and real coverage of a period's goal as of a date, in total and by segment.",
           _targets, TargetsDesk.coverage, tool="coverage", cli=("coverage",),
           examples=("Do we have enough pipeline for the quarter?", "What is our coverage?")),
    Action("targets", "targets", TargetsShowRequest, TargetsShown, False,
           "The saved targets plans: the pipeline and weekly creation behind each period's goal.",
           _targets, TargetsDesk.targets, tool="targets", cli=("targets show",),
           examples=("How much pipeline do we need to hit plan?", "What is the weekly creation target?")),
    Action("set_targets", "targets", TargetsRequest, TargetPlan, True,
           "Turn a goal into per-segment bookings, pipeline and weekly creation targets; save a new plan version.",
           _targets, TargetsDesk.set_targets, tool="set_targets", cli=("targets set",)),
    Action("defend_targets", "targets", DefendRequest, Defense, True,
           "Coverage week over week, slips flagged once, and the creation gaps handed to the SDRs.",
           _targets, TargetsDesk.defend_targets, tool="defend_targets", cli=("targets defend",)),
    # --- roster --------------------------------------------------------------------------------
    Action("roster_show", "roster", RosterShowRequest, RosterView, False,
           "The roster as of a date: seats, headcount and ramp by segment, productivity, attainment.",
           _roster, RosterDesk.roster_show, tool="roster_show", cli=("roster show",)),
    Action("roster_plan", "roster", RosterPlanRequest, RosterPlan, True,
           "The fewest AE hires by month and segment that reach the goal, and the constraint that binds.",
           _roster, RosterDesk.roster_plan, tool="roster_plan", cli=("roster plan",),
           examples=("How many reps do we need to hire?", "What is our capacity against the goal?")),
    Action("roster_scenarios", "roster", RosterScenarioRequest, ScenarioSet, True,
           "Base, best and worst plans of the same goal side by side, each stored as a version.",
           _roster, RosterDesk.roster_scenarios, cli=("roster scenario",)),
    Action("roster_diff", "roster", RosterDiffRequest, PlanDiff, False,
           "What changed between two stored roster plan versions.",
           _roster, RosterDesk.roster_diff, cli=("roster diff",)),
    Action("roster_finance", "roster", RosterFinanceRequest, FinanceTable, False,
           "Month × seat × quota × expected bookings × cost: a roster plan as finance reconciles it.",
           _roster, RosterDesk.roster_finance, tool="roster_finance", cli=("roster export-finance",)),
    Action("roster_rebalance", "roster", RosterRebalanceRequest, RebalanceResult, True,
           "Reassign accounts across AEs to bring potential and workload within bands, moving as few as may be.",
           _roster, RosterDesk.roster_rebalance, cli=("roster rebalance",)),
    # --- forecast ------------------------------------------------------------------------------
    Action("forecast", "forecast", ForecastRequest, ForecastResult, False,
           "The period's number as of a date: P10/P50/P90 for the total, every node and segment.",
           _forecast, ForecastDesk.forecast, tool="forecast", cli=("forecast",),
           examples=("What is the forecast for the quarter?", "Will we hit the number?")),
    Action("seat_call", "forecast", SeatCallRequest, CallRecord, True,
           "The seat's own call: the P50 of the total with its P10–P90, stored as a version.",
           _forecast, ForecastDesk.seat_call, tool="seat_call", cli=("call seat",)),
    Action("call_submit", "forecast", CallSubmitRequest, CallRecord, True,
           "Record a call (or a manager's adjustment, with its reason) and check it with the honesty guard.",
           _meeting, MeetingDesk.call_submit, tool="call_submit", cli=("call submit",)),
    Action("call_check", "forecast", CallCheckRequest, CallListResult, True,
           "Re-check a period's current calls against the pipeline: supported, stretch or outruns it.",
           _meeting, MeetingDesk.call_check, tool="call_check", cli=("call check",), idempotent=True,
           examples=("Is this call realistic?", "Check the call for sandbagging")),
    Action("call_list", "forecast", CallListRequest, CallListResult, False,
           "The calls on record (the seat's own included), with their latest verdict.",
           _meeting, MeetingDesk.call_list, tool="call_list", cli=("call list",)),
    Action("stalls", "forecast", StallsRequest, StallsResult, False,
           "Open deals gone quiet beyond won deals' norm (stuck or slipping) or past their close date, with every "
           "risk, for the account executive; filter by owner, team or segment (names or ids), sort and limit.",
           _meeting, MeetingDesk.stalls, tool="stalls", cli=("stalls",),
           examples=("Which deals are stuck?", "Show me the stalled deals")),
    Action("forecast_grid", "forecast", GridRequest, GridResult, False,
           "The call meeting's grid: per node quota, closed-won, attainment, commit, best case, pipeline, the "
           "seat's P50 and range, the call and its author, the override and its reason, the verdict, gap, change.",
           _meeting, MeetingDesk.forecast_grid, tool="forecast_grid", cli=("forecast grid",)),
    Action("deals", "forecast", DealsRequest, DealsResult, False,
           "The deals behind a number (closed-won, commit, best case, pipeline, open, past due), filtered by team, "
           "owner (names or ids), segment, stage and category, people named.",
           _meeting, MeetingDesk.deals, tool="deals", cli=("deals",)),
    Action("deal", "forecast", DealRequest, DealInspection, False,
           "One deal inspected (id or a unique part of its name): every risk signal with its evidence, and its "
           "history.",
           _meeting, MeetingDesk.deal, tool="deal", cli=("deal",)),
    Action("waterfall", "forecast", WaterfallRequest, WaterfallResult, False,
           "How a period's pipeline moved between two dates, reconciling exactly.",
           _forecast, ForecastDesk.waterfall, tool="waterfall", cli=("waterfall",)),
    Action("forecast_backtest", "forecast", BacktestRequest, BacktestResult, False,
           "Walk-forward backtest of the forecast against both baselines.",
           _forecast, ForecastDesk.forecast_backtest, cli=("backtest",)),
    Action("forecast_accuracy", "forecast", AccuracyRequest, AccuracyResult, False,
           "Submitted calls against what was booked, per node, shrunk toward the team.",
           _forecast, ForecastDesk.forecast_accuracy, tool="forecast_accuracy", cli=("accuracy",)),
    # --- the fleet -----------------------------------------------------------------------------
    Action("ask", "fleet", AskRequest, AskResult, True,
           "Route a request through the seat's lanes: answer the in-lane part from the store, hand off the rest "
           "(the handoff is returned and kept in the outbox).",
           _fleet, FleetDesk.ask, tool="route_request", cli=("ask",), idempotent=True),
    Action("run", "fleet", RunRequest, WeeklyBriefing, True,
           "The weekly cadence as of a date: every mandate, flags raised and resolved, handoffs, the briefing.",
           _fleet, FleetDesk.run, tool="weekly_briefing", cli=("run",), idempotent=True),
    Action("handoffs", "fleet", HandoffsRequest, HandoffList, False,
           "The outbox: handoffs in issue order, optionally by status or receiving role.",
           _fleet, FleetDesk.handoffs, tool="handoffs_list", cli=("handoffs list", "handoffs export")),
    Action("set_peer", "fleet", PeerRequest, Peer, True,
           "Record the A2A endpoint of a fleet role, to deliver its hand-offs there.",
           _fleet, FleetDesk.set_peer, cli=("handoffs peer",)),
    Action("update_handoff", "fleet", HandoffUpdate, Handoff, True,
           "Move a handoff forward: acknowledged, or done.",
           _fleet, FleetDesk.update_handoff, tool="handoff_update", cli=("handoffs ack",), idempotent=True),
)  # fmt: skip

_BY_ID = {a.id: a for a in ACTIONS}


def action(action_id: str) -> Action[Any, Any, Any]:
    """The action with this id (KeyError when there is none)."""
    return _BY_ID[action_id]
