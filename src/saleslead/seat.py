"""The seat: one object per engagement, the facade every face calls.

The CLI, the web app and the MCP server parse their input into a request, call one method of
:class:`Seat`, and format the result. The seat is composed of desks — objects each holding one part
of the work and its state — wired together here with their collaborators passed in:

* ``data`` (:class:`~saleslead.data.desk.DataDesk`): ingest, status, the demo company;
* ``strategy``, ``targets``, ``roster``, ``forecast``: the four mandates;
* ``fleet`` (:class:`~saleslead.role.desk.FleetDesk`): lanes, ``ask``, handoffs, flags, the weekly cadence.

Most public methods of the seat are a desk's method itself, declared in one line
(``forecast = Delegated(forecast_desk_of, ForecastDesk.forecast)``, :mod:`saleslead.delegate`): the parameters,
result and docstring are the desk method's, typed for mypy as written there. The few that compose (``demo``,
``sync``, ``run``, ``materialise``) are written out. The desks are reachable too (``seat.forecast_desk``,
``seat.fleet_desk``…), and the action table binds each action to the same accessor and desk method.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from saleslead.briefing import pipeline_briefing
from saleslead.briefing.weekly import briefing_markdown
from saleslead.config import stored_settings
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
from saleslead.delegate import Delegated
from saleslead.errors import InsufficientDataError
from saleslead.forecast.desk import ForecastDesk
from saleslead.forecast.meeting import MeetingDesk
from saleslead.materialise import MaterialiseReport, materialise_week
from saleslead.periods import Period
from saleslead.role.desk import (
    FleetDesk,
    RunRequest,
)
from saleslead.role.flags import FlagBook
from saleslead.role.handoffs import Outbox
from saleslead.role.report import WeeklyBriefing
from saleslead.role.week import Mandates
from saleslead.roster.desk import (
    RosterDesk,
)
from saleslead.settings import Settings
from saleslead.status import StatusReport
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.strategy.desk import StrategyDesk
from saleslead.targets.desk import (
    TargetsDesk,
)

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
    "data_desk_of",
    "fleet_desk_of",
    "forecast_desk_of",
    "meeting_desk_of",
    "open_seat",
    "roster_desk_of",
    "strategy_desk_of",
    "targets_desk_of",
]


def _utc_today() -> date:
    return datetime.now(UTC).date()


# --- the desks, as the seat's methods and the action table reach them ---------------------------------------
def data_desk_of(seat: Seat) -> DataDesk:
    return seat.data_desk


def strategy_desk_of(seat: Seat) -> StrategyDesk:
    return seat.strategy_desk


def targets_desk_of(seat: Seat) -> TargetsDesk:
    return seat.targets_desk


def roster_desk_of(seat: Seat) -> RosterDesk:
    return seat.roster_desk


def forecast_desk_of(seat: Seat) -> ForecastDesk:
    return seat.forecast_desk


def meeting_desk_of(seat: Seat) -> MeetingDesk:
    return seat.meeting_desk


def fleet_desk_of(seat: Seat) -> FleetDesk:
    return seat.fleet_desk


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
    ingest = Delegated(data_desk_of, DataDesk.ingest)
    ingest_export = Delegated(data_desk_of, DataDesk.ingest_export)

    def sync(
        self, request: SalesforceSyncRequest | HubSpotSyncRequest | WarehouseRequest, progress: Progress | None = None
    ) -> SyncReport:
        """Pull a live source (a CRM's changes since the last sync, warehouse tables), checked and written as ingest."""
        from saleslead.sync.source import sync_source

        return sync_source(self.data_desk, request, progress)

    status = Delegated(data_desk_of, DataDesk.status)
    config_show = Delegated(data_desk_of, DataDesk.config_show)
    config_set = Delegated(data_desk_of, DataDesk.config_set)
    config_load = Delegated(data_desk_of, DataDesk.config_load)

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
    strategy_score = Delegated(strategy_desk_of, StrategyDesk.strategy_score)
    strategy_decide = Delegated(strategy_desk_of, StrategyDesk.strategy_decide)
    strategy_show = Delegated(strategy_desk_of, StrategyDesk.strategy_show)
    strategy_check = Delegated(strategy_desk_of, StrategyDesk.strategy_check)

    # --- targets -------------------------------------------------------------------------------
    coverage = Delegated(targets_desk_of, TargetsDesk.coverage)
    set_targets = Delegated(targets_desk_of, TargetsDesk.set_targets)
    targets = Delegated(targets_desk_of, TargetsDesk.targets)
    defend_targets = Delegated(targets_desk_of, TargetsDesk.defend_targets)

    # --- roster --------------------------------------------------------------------------------
    roster_show = Delegated(roster_desk_of, RosterDesk.roster_show)
    roster_plan = Delegated(roster_desk_of, RosterDesk.roster_plan)
    roster_scenarios = Delegated(roster_desk_of, RosterDesk.roster_scenarios)
    roster_diff = Delegated(roster_desk_of, RosterDesk.roster_diff)
    roster_finance = Delegated(roster_desk_of, RosterDesk.roster_finance)
    roster_rebalance = Delegated(roster_desk_of, RosterDesk.roster_rebalance)

    # --- forecast ------------------------------------------------------------------------------
    forecast = Delegated(forecast_desk_of, ForecastDesk.forecast)
    forecast_bridge = Delegated(forecast_desk_of, ForecastDesk.forecast_bridge)
    stalls = Delegated(meeting_desk_of, MeetingDesk.stalls)
    forecast_grid = Delegated(meeting_desk_of, MeetingDesk.forecast_grid)
    deals = Delegated(meeting_desk_of, MeetingDesk.deals)
    deal = Delegated(meeting_desk_of, MeetingDesk.deal)
    people = Delegated(meeting_desk_of, MeetingDesk.people)

    def data_through(self) -> date | None:
        """The date of the store's latest snapshot (the default as-of date when it is before the clock's today)."""
        return self.context.data_through()

    waterfall = Delegated(forecast_desk_of, ForecastDesk.waterfall)
    call_submit = Delegated(meeting_desk_of, MeetingDesk.call_submit)
    call_check = Delegated(meeting_desk_of, MeetingDesk.call_check)
    call_list = Delegated(meeting_desk_of, MeetingDesk.call_list)
    seat_call = Delegated(forecast_desk_of, ForecastDesk.seat_call)
    forecast_flags = Delegated(forecast_desk_of, ForecastDesk.forecast_flags)
    forecast_backtest = Delegated(forecast_desk_of, ForecastDesk.forecast_backtest)
    forecast_accuracy = Delegated(forecast_desk_of, ForecastDesk.forecast_accuracy)

    # --- the fleet -----------------------------------------------------------------------------
    role_definition = Delegated(fleet_desk_of, FleetDesk.role_definition)

    @property
    def outbox(self) -> Outbox:
        return self.fleet_desk.outbox

    @property
    def flag_book(self) -> FlagBook:
        return self.fleet_desk.flag_book

    route_request = Delegated(fleet_desk_of, FleetDesk.route_request)
    ask = Delegated(fleet_desk_of, FleetDesk.ask)
    handoffs = Delegated(fleet_desk_of, FleetDesk.handoffs)
    update_handoff = Delegated(fleet_desk_of, FleetDesk.update_handoff)
    set_peer = Delegated(fleet_desk_of, FleetDesk.set_peer)
    peers = Delegated(fleet_desk_of, FleetDesk.peers)
    deliver_handoffs = Delegated(fleet_desk_of, FleetDesk.deliver_handoffs)
    handoffs_jsonl = Delegated(fleet_desk_of, FleetDesk.handoffs_jsonl)
    open_flags = Delegated(fleet_desk_of, FleetDesk.open_flags)

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

    briefing_on = Delegated(fleet_desk_of, FleetDesk.briefing_on)


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
    try:
        return Seat(opened, settings or stored_settings(Records(opened, engagement)), engagement)
    except BaseException:  # e.g. stored settings that no longer validate: the store is not left open (nor its gate)
        opened.close(publish=False)
        raise
