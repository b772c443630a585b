"""The seat's actions, one typed spec each: the rows of the action table, before they are bound to a desk.

An :class:`ActionSpec` names an action's id, the mandate it serves, its request and result types, whether it
writes, what it does (the MCP tool's description), example questions (each must route to it through the role's
lanes), the MCP tool and CLI commands that offer it, and — for an action the seat answers in words — the title
of its section in the weekly briefing and in ``ask``'s answers.

The specs live here, below the seat, so the weekly cadence (:mod:`saleslead.role.cadence`) builds its steps
from them; :mod:`saleslead.actions` binds each to the desk method that runs it (the action table, ``ACTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from saleslead.config import ConfigLoadRequest, ConfigSetRequest, ConfigShowRequest, SettingsView
from saleslead.data.desk import DemoRequest, DemoResult, IngestReport, IngestRequest, StatusRequest
from saleslead.forecast.deals import DealsRequest, DealsResult
from saleslead.forecast.grid import GridRequest, GridResult
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
from saleslead.role.handoffs import Handoff
from saleslead.role.report import WeeklyBriefing
from saleslead.role.requests import AskRequest, AskResult, HandoffList, HandoffsRequest, HandoffUpdate, RunRequest
from saleslead.roster.desk import (
    FinanceTable,
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
from saleslead.roster.scenarios import PlanDiff
from saleslead.status import StatusReport
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView
from saleslead.strategy.scorecard import Scorecard, ScoreRequest
from saleslead.sync.models import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport, WarehouseRequest
from saleslead.targets.coverage import Coverage
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsRequest, TargetsShown, TargetsShowRequest
from saleslead.targets.plan import TargetPlan

__all__ = ["SPECS", "ActionSpec", "Mandate"]

Req = TypeVar("Req", bound=BaseModel)
Res = TypeVar("Res", bound=BaseModel)

Mandate = Literal["data", "strategy", "targets", "roster", "forecast", "fleet"]


@dataclass(frozen=True)
class ActionSpec(Generic[Req, Res]):
    """One thing the seat does, typed and described (bound to its desk method in :mod:`saleslead.actions`)."""

    id: str
    mandate: Mandate
    request: type[Req]
    result: type[Res]
    writes: bool
    description: str
    examples: tuple[str, ...] = ()
    #: the MCP tool's name (None: not offered over MCP)
    tool: str | None = None
    #: the CLI commands that run it (``saleslead`` left out)
    cli: tuple[str, ...] = ()
    #: repeating it with the same request changes nothing more (MCP's idempotent hint)
    idempotent: bool = False
    #: the title of the section that says it in words: in the weekly briefing, or in ``ask``'s answers
    section: str | None = None


# fmt: off
# --- data ----------------------------------------------------------------------------------------
INGEST = ActionSpec(
    "ingest", "data", IngestRequest, IngestReport, True,
    "Read a CRM export folder, check it whole, then write it to the store in one transaction.",
    cli=("ingest",),
)
PIPELINE = ActionSpec(
    "pipeline", "data", StatusRequest, StatusReport, False,
    "What the store holds and the open pipeline by segment and stage, as of a date.",
    tool="pipeline_status",
    cli=("status",),
    examples=("Where does the funnel leak?", "Show me the open pipeline by stage"),
    section="The open pipeline",
)
DEMO = ActionSpec(
    "demo", "data", DemoRequest, DemoResult, True,
    "Generate the demo company as of a date, ingest it into the store, and brief on it.",
    cli=("demo",),
)
SYNC_SALESFORCE = ActionSpec(
    "sync_salesforce", "data", SalesforceSyncRequest, SyncReport, True,
    "Pull what changed in Salesforce since the last sync (credentials from the environment).",
    cli=("sync salesforce",),
)
SYNC_HUBSPOT = ActionSpec(
    "sync_hubspot", "data", HubSpotSyncRequest, SyncReport, True,
    "Pull what changed in HubSpot since the last sync (credentials from the environment).",
    cli=("sync hubspot",),
)
SYNC_WAREHOUSE = ActionSpec(
    "sync_warehouse", "data", WarehouseRequest, SyncReport, True,
    "Read Fivetran's Salesforce tables from a warehouse (any Ibis backend URL).",
    cli=("ingest",),
)
CONFIG_SHOW = ActionSpec(
    "config_show", "data", ConfigShowRequest, SettingsView, False,
    "The engagement's settings (fiscal year, currency, stages, segments, thresholds): each key, value, default.",
    tool="config_show",
    cli=("config show",),
)
CONFIG_SET = ActionSpec(
    "config_set", "data", ConfigSetRequest, SettingsView, True,
    "Set one setting for this store and engagement, e.g. fiscal_start_month 2 for a February fiscal year.",
    tool="config_set",
    cli=("config set",),
)
CONFIG_LOAD = ActionSpec(
    "config_load", "data", ConfigLoadRequest, SettingsView, True,
    "Replace the settings with a TOML document, as `config show --toml` writes it.",
    cli=("config load",),
)
# --- strategy ------------------------------------------------------------------------------------
STRATEGY_SCORE = ActionSpec(
    "strategy_score", "strategy", ScoreRequest, Scorecard, False,
    "Score every segment × motion × channel cell from won and lost history and say where to compete.",
    tool="strategy_score",
    cli=("strategy score",),
    examples=("Where should we compete?", "Which segment should we focus on?"),
    section="Where we compete",
)
STRATEGY_DECIDE = ActionSpec(
    "strategy_decide", "strategy", DecideRequest, StrategyDecision, True,
    "Record the strategy as a new version: the scorecard's recommendations plus the author's overrides.",
    cli=("strategy decide",),
)
STRATEGY_SHOW = ActionSpec(
    "strategy_show", "strategy", ShowRequest, StrategyView, False,
    "The strategy decided (a version, default the latest) and every version.",
    tool="strategy_show",
    cli=("strategy show",),
)
STRATEGY_CHECK = ActionSpec(
    "strategy_check", "strategy", CheckRequest, StrategyCheck, True,
    "Open pipeline and effort in do-not-compete cells since the strategy in force.",
    tool="strategy_check",
    cli=("strategy check",),
)
# --- targets -------------------------------------------------------------------------------------
COVERAGE = ActionSpec(
    "coverage", "targets", CoverageRequest, Coverage, False,
    "Reported, required and real coverage of a period's goal as of a date, in total and by segment.",
    tool="coverage",
    cli=("coverage",),
    examples=("Do we have enough pipeline for the quarter?", "What is our coverage?"),
    section="Coverage against the goal",
)
TARGETS = ActionSpec(
    "targets", "targets", TargetsShowRequest, TargetsShown, False,
    "The saved targets plans: the pipeline and weekly creation behind each period's goal.",
    tool="targets",
    cli=("targets show",),
    examples=("How much pipeline do we need to hit plan?", "What is the weekly creation target?"),
    section="Pipeline the goal needs",
)
SET_TARGETS = ActionSpec(
    "set_targets", "targets", TargetsRequest, TargetPlan, True,
    "Turn a goal into per-segment bookings, pipeline and weekly creation targets; save a new plan version.",
    tool="set_targets",
    cli=("targets set",),
)
DEFEND_TARGETS = ActionSpec(
    "defend_targets", "targets", DefendRequest, Defense, True,
    "Coverage week over week, slips flagged once, and the creation gaps handed to the SDRs.",
    tool="defend_targets",
    cli=("targets defend",),
)
# --- roster --------------------------------------------------------------------------------------
ROSTER_SHOW = ActionSpec(
    "roster_show", "roster", RosterShowRequest, RosterView, False,
    "The roster as of a date: seats, headcount and ramp by segment, productivity, attainment.",
    tool="roster_show",
    cli=("roster show",),
)
ROSTER_PLAN = ActionSpec(
    "roster_plan", "roster", RosterPlanRequest, RosterPlan, True,
    "The fewest AE hires by month and segment that reach the goal, and the constraint that binds.",
    tool="roster_plan",
    cli=("roster plan",),
    examples=("How many reps do we need to hire?", "What is our capacity against the goal?"),
    section="Staffing against the gap",
)
ROSTER_SCENARIOS = ActionSpec(
    "roster_scenarios", "roster", RosterScenarioRequest, ScenarioSet, True,
    "Base, best and worst plans of the same goal side by side, each stored as a version.",
    cli=("roster scenario",),
)
ROSTER_DIFF = ActionSpec(
    "roster_diff", "roster", RosterDiffRequest, PlanDiff, False,
    "What changed between two stored roster plan versions.",
    cli=("roster diff",),
)
ROSTER_FINANCE = ActionSpec(
    "roster_finance", "roster", RosterFinanceRequest, FinanceTable, False,
    "Month × seat × quota × expected bookings × cost: a roster plan as finance reconciles it.",
    tool="roster_finance",
    cli=("roster export-finance",),
)
ROSTER_REBALANCE = ActionSpec(
    "roster_rebalance", "roster", RosterRebalanceRequest, RebalanceResult, True,
    "Reassign accounts across AEs to bring potential and workload within bands, moving as few as may be.",
    cli=("roster rebalance",),
)
# --- forecast ------------------------------------------------------------------------------------
FORECAST = ActionSpec(
    "forecast", "forecast", ForecastRequest, ForecastResult, False,
    "The period's number as of a date: P10/P50/P90 for the total, every node and segment.",
    tool="forecast",
    cli=("forecast",),
    examples=("What is the forecast for the quarter?", "Will we hit the number?"),
    section="The forecast",
)
SEAT_CALL = ActionSpec(
    "seat_call", "forecast", SeatCallRequest, CallRecord, True,
    "The seat's own call: the P50 of the total with its P10–P90, stored as a version.",
    tool="seat_call",
    cli=("call seat",),
)
CALL_SUBMIT = ActionSpec(
    "call_submit", "forecast", CallSubmitRequest, CallRecord, True,
    "Record a call (or a manager's adjustment, with its reason) and check it with the honesty guard.",
    tool="call_submit",
    cli=("call submit",),
)
CALL_CHECK = ActionSpec(
    "call_check", "forecast", CallCheckRequest, CallListResult, True,
    "Re-check a period's current calls against the pipeline: supported, stretch or outruns it.",
    tool="call_check",
    cli=("call check",),
    idempotent=True,
    examples=("Is this call realistic?", "Check the call for sandbagging"),
    section="The calls on the number",
)
CALL_LIST = ActionSpec(
    "call_list", "forecast", CallListRequest, CallListResult, False,
    "The calls on record (the seat's own included), with their latest verdict.",
    tool="call_list",
    cli=("call list",),
)
STALLS = ActionSpec(
    "stalls", "forecast", StallsRequest, StallsResult, False,
    "Open deals gone quiet beyond won deals' norm (stuck or slipping) or past their close date, with every "
    "risk, for the account executive; filter by owner, team or segment (names or ids), sort and limit.",
    tool="stalls",
    cli=("stalls",),
    examples=("Which deals are stuck?", "Show me the stalled deals"),
    section="Stalled deals",
)
FORECAST_GRID = ActionSpec(
    "forecast_grid", "forecast", GridRequest, GridResult, False,
    "The call meeting's grid: per node quota, closed-won, attainment, commit, best case, pipeline, the "
    "seat's P50 and range, the call and its author, the override and its reason, the verdict, gap, change.",
    tool="forecast_grid",
    cli=("forecast grid",),
)
DEALS = ActionSpec(
    "deals", "forecast", DealsRequest, DealsResult, False,
    "The deals behind a number (closed-won, commit, best case, pipeline, open, past due), filtered by team, "
    "owner (names or ids), segment, stage and category, people named.",
    tool="deals",
    cli=("deals",),
)
DEAL = ActionSpec(
    "deal", "forecast", DealRequest, DealInspection, False,
    "One deal inspected (id or a unique part of its name): every risk signal with its evidence, and its "
    "history.",
    tool="deal",
    cli=("deal",),
)
WATERFALL = ActionSpec(
    "waterfall", "forecast", WaterfallRequest, WaterfallResult, False,
    "How a period's pipeline moved between two dates, reconciling exactly.",
    tool="waterfall",
    cli=("waterfall",),
)
FORECAST_BACKTEST = ActionSpec(
    "forecast_backtest", "forecast", BacktestRequest, BacktestResult, False,
    "Walk-forward backtest of the forecast against both baselines.",
    cli=("backtest",),
)
FORECAST_ACCURACY = ActionSpec(
    "forecast_accuracy", "forecast", AccuracyRequest, AccuracyResult, False,
    "Submitted calls against what was booked, per node, shrunk toward the team.",
    tool="forecast_accuracy",
    cli=("accuracy",),
)
# --- the fleet -----------------------------------------------------------------------------------
ASK = ActionSpec(
    "ask", "fleet", AskRequest, AskResult, True,
    "Route a request through the seat's lanes: answer the in-lane part from the store, hand off the rest "
    "(the handoff is returned and kept in the outbox).",
    tool="route_request",
    cli=("ask",),
    idempotent=True,
)
RUN = ActionSpec(
    "run", "fleet", RunRequest, WeeklyBriefing, True,
    "The weekly cadence as of a date: every mandate, flags raised and resolved, handoffs, the briefing.",
    tool="weekly_briefing",
    cli=("run",),
    idempotent=True,
)
HANDOFFS = ActionSpec(
    "handoffs", "fleet", HandoffsRequest, HandoffList, False,
    "The outbox: handoffs in issue order, optionally by status or receiving role.",
    tool="handoffs_list",
    cli=("handoffs list", "handoffs export"),
)
SET_PEER = ActionSpec(
    "set_peer", "fleet", PeerRequest, Peer, True,
    "Record the A2A endpoint of a fleet role, to deliver its hand-offs there.",
    cli=("handoffs peer",),
)
UPDATE_HANDOFF = ActionSpec(
    "update_handoff", "fleet", HandoffUpdate, Handoff, True,
    "Move a handoff forward: acknowledged, or done.",
    tool="handoff_update",
    cli=("handoffs ack",),
    idempotent=True,
)

# fmt: on

#: every action, in the table's order
SPECS: tuple[ActionSpec[Any, Any], ...] = (
    INGEST,
    PIPELINE,
    DEMO,
    SYNC_SALESFORCE,
    SYNC_HUBSPOT,
    SYNC_WAREHOUSE,
    CONFIG_SHOW,
    CONFIG_SET,
    CONFIG_LOAD,
    STRATEGY_SCORE,
    STRATEGY_DECIDE,
    STRATEGY_SHOW,
    STRATEGY_CHECK,
    COVERAGE,
    TARGETS,
    SET_TARGETS,
    DEFEND_TARGETS,
    ROSTER_SHOW,
    ROSTER_PLAN,
    ROSTER_SCENARIOS,
    ROSTER_DIFF,
    ROSTER_FINANCE,
    ROSTER_REBALANCE,
    FORECAST,
    SEAT_CALL,
    CALL_SUBMIT,
    CALL_CHECK,
    CALL_LIST,
    STALLS,
    FORECAST_GRID,
    DEALS,
    DEAL,
    WATERFALL,
    FORECAST_BACKTEST,
    FORECAST_ACCURACY,
    ASK,
    RUN,
    HANDOFFS,
    SET_PEER,
    UPDATE_HANDOFF,
)
