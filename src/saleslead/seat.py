"""The seat: one object per engagement, the facade every face calls.

The CLI, the web app and the MCP server parse their input into a request, call one method of
:class:`Seat`, and format the result. The seat is composed of desks — objects each holding one part
of the work and its state — wired together here with their collaborators passed in:

* ``data`` (:class:`~saleslead.data.desk.DataDesk`): ingest, status, the demo company;
* ``strategy``, ``targets``, ``roster``, ``forecast``: the four mandates;
* ``fleet`` (:class:`~saleslead.role.desk.FleetDesk`): lanes, ``ask``, handoffs, flags, the weekly cadence.

Every public method of the seat is a one-line delegation to the desk that owns it; the desks are
reachable too (``seat.forecast_desk``, ``seat.fleet_desk``…).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saleslead.briefing import pipeline_briefing
from saleslead.briefing.weekly import briefing_markdown
from saleslead.config import ConfigLoadRequest, ConfigSetRequest, ConfigShowRequest, SettingsView, stored_settings
from saleslead.context import Progress, SeatContext
from saleslead.data.desk import (
    DataDesk,
    DemoRequest,
    DemoResult,
    IngestReport,
    IngestRequest,
    Rejection,
    StatusRequest,
)
from saleslead.errors import InsufficientDataError
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
    BridgeRequest,
    BridgeResult,
    CallCheck,
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
from saleslead.ingest import CanonicalExport
from saleslead.materialise import MaterialiseReport, materialise_week
from saleslead.names import Directory
from saleslead.periods import Period
from saleslead.role.delivery import DeliveryReport, Peer, PeerRequest, Send
from saleslead.role.desk import (
    AskRequest,
    AskResult,
    FleetDesk,
    HandoffList,
    HandoffsRequest,
    HandoffUpdate,
    RunRequest,
)
from saleslead.role.flags import Flag, FlagBook
from saleslead.role.handoffs import Handoff, Outbox
from saleslead.role.report import WeeklyBriefing
from saleslead.role.router import Route
from saleslead.role.schema import RoleDefinition
from saleslead.role.week import Mandates
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
from saleslead.settings import Settings
from saleslead.status import StatusReport
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.strategy.check import CheckRequest, StrategyCheck
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView
from saleslead.strategy.desk import StrategyDesk
from saleslead.strategy.scorecard import Scorecard, ScoreRequest
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

if TYPE_CHECKING:
    from saleslead.sync import HubSpotSyncRequest, SalesforceSyncRequest, SyncReport, WarehouseRequest

__all__ = [
    "DemoRequest",
    "DemoResult",
    "IngestReport",
    "IngestRequest",
    "Rejection",
    "Seat",
    "StatusRequest",
    "open_seat",
]


def _utc_today() -> date:
    return datetime.now(UTC).date()


class Seat:
    """The sales-lead seat over one store and one engagement, composed of its desks.

    Open it with :func:`open_seat`; close it when done.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings | None = None,
        engagement: str = "default",
        clock: Callable[[], date] = _utc_today,
    ) -> None:
        self.context = SeatContext(store, settings or Settings(), engagement, clock)
        self.data_desk = DataDesk(self.context)
        self.strategy_desk = StrategyDesk(self.context)
        self.forecast_desk = ForecastDesk(self.context)
        self.targets_desk = TargetsDesk(self.context, outlooks=self.forecast_desk)
        self.roster_desk = RosterDesk(self.context, outlooks=self.forecast_desk)
        self.meeting_desk = MeetingDesk(self.context, self.forecast_desk)
        self.fleet_desk = FleetDesk(
            self.context,
            data=self.data_desk,
            mandates=Mandates(
                strategy=self.strategy_desk,
                targets=self.targets_desk,
                roster=self.roster_desk,
                forecast=self.forecast_desk,
            ),
            sync=self.sync,
        )

    # --- the shared state ----------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.context.use(value)

    @property
    def engagement(self) -> str:
        return self.context.engagement

    @property
    def clock(self) -> Callable[[], date]:
        return self.context.clock

    @clock.setter
    def clock(self, value: Callable[[], date]) -> None:
        self.context.clock = value

    @property
    def records(self) -> Records:
        return self.context.records

    def today(self) -> date:
        return self.context.today()

    def period(self, text: str | None = None, as_of: date | None = None) -> Period:
        """The period named ``text`` (fiscal calendar of the settings), else the quarter holding ``as_of`` or today."""
        return self.context.period(text, as_of)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Seat:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.store.__exit__(kind, *rest)

    # --- data ----------------------------------------------------------------------------------
    def ingest(self, request: IngestRequest, progress: Progress | None = None) -> IngestReport:
        """Read an export folder, validate it whole, then write it in one transaction."""
        return self.data_desk.ingest(request, progress)

    def ingest_export(self, export: CanonicalExport, path: str) -> IngestReport:
        """Write an export already read and checked (a folder, a live sync, a warehouse) in one transaction."""
        return self.data_desk.ingest_export(export, path)

    def sync(
        self, request: SalesforceSyncRequest | HubSpotSyncRequest | WarehouseRequest, progress: Progress | None = None
    ) -> SyncReport:
        """Pull a live source (a CRM's changes since the last sync, warehouse tables), checked and written as ingest."""
        from saleslead.sync.source import sync_source

        return sync_source(self.data_desk, request, progress)

    def status(self, request: StatusRequest | None = None) -> StatusReport:
        """What the store holds and the open pipeline as of a date (default: today)."""
        return self.data_desk.status(request)

    def config_show(self, request: ConfigShowRequest | None = None) -> SettingsView:
        """The engagement's settings: every key with its value, default and meaning."""
        return self.data_desk.config_show(request)

    def config_set(self, request: ConfigSetRequest) -> SettingsView:
        """Set one setting for this store and engagement (stored as a new version); the seat uses it at once."""
        return self.data_desk.config_set(request)

    def config_load(self, request: ConfigLoadRequest) -> SettingsView:
        """Replace the settings with a TOML document (a new version); every face uses them."""
        return self.data_desk.config_load(request)

    def demo(self, request: DemoRequest, progress: Progress | None = None) -> DemoResult:
        """Generate the demo company as of a date, ingest it into this seat's store, and brief."""
        return self.data_desk.demo(request, self._demo_briefing, progress)

    def _demo_briefing(self, today: date, status: StatusReport) -> str:
        """The weekly cadence's briefing as of the demo's today (the pipeline section if the cadence cannot run)."""
        try:
            return briefing_markdown(self.run(RunRequest(as_of=today), materialise=False))
        except InsufficientDataError:
            return pipeline_briefing(status)

    # --- strategy ------------------------------------------------------------------------------
    def strategy_score(self, request: ScoreRequest) -> Scorecard:
        """Score every cell (segment × motion × channel by default) and recommend, as of a date."""
        return self.strategy_desk.strategy_score(request)

    def strategy_decide(self, request: DecideRequest) -> StrategyDecision:
        """Record the strategy (a new version): the scorecard's recommendations plus the author's overrides."""
        return self.strategy_desk.strategy_decide(request)

    def strategy_show(self, request: ShowRequest | None = None) -> StrategyView:
        """The strategy decided (a version, default the latest) and every version."""
        return self.strategy_desk.strategy_show(request)

    def strategy_check(self, request: CheckRequest) -> StrategyCheck:
        """Flag open pipeline created, and effort spent, in do-not-compete cells since the strategy in force."""
        return self.strategy_desk.strategy_check(request)

    # --- targets -------------------------------------------------------------------------------
    def coverage(self, request: CoverageRequest) -> Coverage:
        """Reported and real coverage of a period as of a date, in total and by segment, with the evidence."""
        return self.targets_desk.coverage(request)

    def set_targets(self, request: TargetsRequest) -> TargetPlan:
        """Turn a goal into per-segment bookings, pipeline and weekly creation; save it as a new plan version."""
        return self.targets_desk.set_targets(request)

    def targets(self, request: TargetsShowRequest | None = None) -> TargetsShown:
        """Saved plans: every version of one period, or the latest plan of every period."""
        return self.targets_desk.targets(request)

    def defend_targets(self, request: DefendRequest) -> Defense:
        """Coverage week over week, flags (raised once per period and segment) and creation gaps for the SDRs."""
        return self.targets_desk.defend_targets(request)

    # --- roster --------------------------------------------------------------------------------
    def roster_show(self, request: RosterShowRequest | None = None) -> RosterView:
        """The roster as of a date: seats, headcount and ramp by segment, productivity, attainment."""
        return self.roster_desk.roster_show(request)

    def roster_plan(self, request: RosterPlanRequest) -> RosterPlan:
        """The fewest AE hires by month and segment that reach the goal with the buffer, and what binds."""
        return self.roster_desk.roster_plan(request)

    def roster_scenarios(self, request: RosterScenarioRequest) -> ScenarioSet:
        """Base, best and worst plans of the same goal side by side (each stored as a version)."""
        return self.roster_desk.roster_scenarios(request)

    def roster_diff(self, request: RosterDiffRequest) -> PlanDiff:
        """What changed between two stored plan versions (default: the last two versions of one key)."""
        return self.roster_desk.roster_diff(request)

    def roster_finance(self, request: RosterFinanceRequest) -> FinanceTable:
        """Month × seat × quota × expected bookings × cost: the plan as finance reconciles it."""
        return self.roster_desk.roster_finance(request)

    def roster_rebalance(self, request: RosterRebalanceRequest | None = None) -> RebalanceResult:
        """Reassign accounts across AEs to bring potential and workload within bands, moving as little as may be."""
        return self.roster_desk.roster_rebalance(request)

    # --- forecast ------------------------------------------------------------------------------
    def forecast(self, request: ForecastRequest, progress: Progress | None = None) -> ForecastResult:
        """Call the period's number as of a date: P10/P50/P90 and its parts for the total, every node and segment;
        with ``since``, the bridge from that date."""
        return self.forecast_desk.forecast(request, progress)

    def forecast_bridge(self, request: BridgeRequest, progress: Progress | None = None) -> BridgeResult:
        """How the period's forecast moved since an earlier date, component by component, to the cent."""
        return self.forecast_desk.forecast_bridge(request, progress)

    def stalls(self, request: StallsRequest) -> StallsResult:
        """Open deals gone quiet beyond won deals' norm, or past their close date, for the account executive."""
        return self.meeting_desk.stalls(request)

    def forecast_grid(self, request: GridRequest, progress: Progress | None = None) -> GridResult:
        """The forecast grid: per node quota, closed-won, categories, P50 and range, call, override, verdict."""
        return self.meeting_desk.forecast_grid(request, progress)

    def deals(self, request: DealsRequest) -> DealsResult:
        """The deals behind a number: a measure over a slice (team, owner, segment, stage, category), named."""
        return self.meeting_desk.deals(request)

    def deal(self, request: DealRequest) -> DealInspection:
        """One deal inspected: its history and every risk signal with evidence (for the account executive)."""
        return self.meeting_desk.deal(request)

    def people(self) -> Directory:
        """Everyone in the users table: names, titles, reporting lines (names resolve to ids here)."""
        return self.meeting_desk.people()

    def data_through(self) -> date | None:
        """The date of the store's latest snapshot (the default as-of date when it is before the clock's today)."""
        return self.context.data_through()

    def waterfall(self, request: WaterfallRequest) -> WaterfallResult:
        """How a period's pipeline moved between two dates, reconciling exactly."""
        return self.forecast_desk.waterfall(request)

    def call_submit(self, request: CallSubmitRequest, progress: Progress | None = None) -> CallRecord:
        """Record a call (or a manager's adjustment, with its reason), check it with the honesty guard.

        ``node`` is a person's name or user id, or ``total``; a name that fits more than one person is refused.
        """
        return self.meeting_desk.call_submit(request, progress)

    def call_check(self, request: CallCheckRequest, progress: Progress | None = None) -> CallListResult:
        """Re-check the current calls of a period as of a date; store each verdict as the call's flag."""
        return self.meeting_desk.call_check(request, progress)

    def call_list(self, request: CallListRequest) -> CallListResult:
        """Current calls (or every version with --history), newest check included; ``node`` may be a name."""
        return self.meeting_desk.call_list(request)

    def seat_call(self, request: SeatCallRequest, progress: Progress | None = None) -> CallRecord:
        """The seat's own call for a period: the P50 of the total with its P10–P90, versioned."""
        return self.forecast_desk.seat_call(request, progress)

    def forecast_flags(self) -> list[CallCheck]:
        """Open honesty-guard flags on the current version of every call (for every briefing)."""
        return self.forecast_desk.forecast_flags()

    def forecast_backtest(self, request: BacktestRequest, progress: Progress | None = None) -> BacktestResult:
        """Walk-forward backtest of the forecast against both baselines."""
        return self.forecast_desk.forecast_backtest(request, progress)

    def forecast_accuracy(self, request: AccuracyRequest) -> AccuracyResult:
        """Submitted calls against what was booked, per node, shrunk toward the team."""
        return self.forecast_desk.forecast_accuracy(request)

    # --- the fleet -----------------------------------------------------------------------------
    def role_definition(self) -> RoleDefinition:
        """The role this seat plays (the bundled role file)."""
        return self.fleet_desk.role_definition()

    @property
    def outbox(self) -> Outbox:
        return self.fleet_desk.outbox

    @property
    def flag_book(self) -> FlagBook:
        return self.fleet_desk.flag_book

    def route_request(self, request: AskRequest) -> Route:
        """Where a request goes (no side effects): in lane, out of lane, mixed, or unclear."""
        return self.fleet_desk.route_request(request)

    def ask(self, request: AskRequest) -> AskResult:
        """Route a request; answer its in-lane part from the store and hand off the rest."""
        return self.fleet_desk.ask(request)

    def handoffs(self, request: HandoffsRequest | None = None) -> HandoffList:
        """The outbox: handoffs in issue order, optionally by status or receiving role."""
        return self.fleet_desk.handoffs(request)

    def update_handoff(self, request: HandoffUpdate) -> Handoff:
        """Acknowledge a handoff, or mark it done."""
        return self.fleet_desk.update_handoff(request)

    def set_peer(self, request: PeerRequest) -> Peer:
        """Record the A2A endpoint of a fleet role, for delivering its hand-offs."""
        return self.fleet_desk.set_peer(request)

    def peers(self) -> list[Peer]:
        """The fleet roles with an A2A endpoint."""
        return self.fleet_desk.peers()

    def deliver_handoffs(self, send: Send) -> DeliveryReport:
        """Send open hand-offs to their roles' peers; each attempt is recorded and retried later."""
        return self.fleet_desk.deliver_handoffs(send)

    def handoffs_jsonl(self, request: HandoffsRequest | None = None) -> str:
        """The outbox as JSON Lines."""
        return self.fleet_desk.handoffs_jsonl(request)

    def open_flags(self) -> list[Flag]:
        """The engagement's open flags."""
        return self.fleet_desk.open_flags()

    def run(self, request: RunRequest, progress: Progress | None = None, *, materialise: bool = True) -> WeeklyBriefing:
        """The weekly cadence: ingest, compute every mandate on the seat, raise flags, hand off, brief; then keep
        what the week's reads need on the store's answers shelf (``materialise``)."""
        briefing = self.fleet_desk.run(request, progress)
        if materialise:
            self.materialise(briefing.as_of)
        return briefing

    def materialise(self, as_of: date | None = None) -> MaterialiseReport:
        """Compute and keep the week's answers (forecast of this and next quarter, deal probabilities, coverage,
        stalls, scorecard, roster) so every face reads them from the store."""
        return materialise_week(self, as_of or self.today())

    def briefing_on(self, as_of: date) -> dict[str, Any]:
        """The stored summary of the briefing written for ``as_of``."""
        return self.fleet_desk.briefing_on(as_of)


def open_seat(
    store: str | Path | None = None,
    *,
    settings: Settings | None = None,
    engagement: str = "default",
    read_only: bool = False,
) -> Seat:
    """Open the seat over a store (default ``$SALESLEAD_STORE`` or ``./saleslead.duckdb``).

    Without ``settings``, the engagement's stored settings are used (``saleslead config``), else the defaults.
    """
    opened = Store.open(store, read_only=read_only)
    return Seat(opened, settings or stored_settings(Records(opened, engagement)), engagement)
