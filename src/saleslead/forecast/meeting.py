"""The forecast call meeting's actions on the seat: the grid, the deals behind a number, one deal inspected.

They extend the forecast desk (mandate 4): the grid reads the same forecast the call page shows; names are
accepted wherever a person is asked for (``call submit --node "Dana Reyes"``), and an ambiguous name is an
error that lists who it fits.
"""

from __future__ import annotations

from saleslead.context import Desk, Progress, SeatContext
from saleslead.forecast.deals import DealsRequest, DealsResult, list_deals
from saleslead.forecast.desk import ForecastDesk
from saleslead.forecast.grid import GridRequest, GridResult, build_grid
from saleslead.forecast.inspect import inspect_deal
from saleslead.forecast.risk import DealInspection, DealRequest
from saleslead.forecast.schemas import (
    MEETING_CALL_CHECK_ANSWER,
    MEETING_STALLS_ANSWER,
    CallCheck,
    CallCheckRequest,
    CallListRequest,
    CallListResult,
    CallRecord,
    CallSubmitRequest,
    StallsRequest,
    StallsResult,
)
from saleslead.forecast.stalls import select_stalls
from saleslead.names import TOTAL, Directory, deal_names, directory

__all__ = ["MeetingDesk"]


class MeetingDesk(Desk):
    """The forecast desk's meeting views: grid, drill-down, deal inspection; names for ids.

    It reads the forecast desk's kept outlook (the grid and the call page share one simulation) and wraps
    its calls and stalls so that people may be named instead of given by id.
    """

    def __init__(self, context: SeatContext, forecast: ForecastDesk) -> None:
        super().__init__(context)
        self.forecast = forecast

    def people(self) -> Directory:
        """Everyone in the users table (names, titles, reporting lines)."""
        return directory(self.store)

    def forecast_grid(self, request: GridRequest, progress: Progress | None = None) -> GridResult:
        """The forecast grid: per node quota, closed-won, categories, P50 and range, call, override, verdict."""
        as_of = request.as_of or self.today()
        period = self.forecast.period_for(request.period, as_of)
        people = self.people()
        grid = build_grid(self.forecast.outlook(period, as_of, progress, request.scenarios), self.settings, self.store,
                          self.records, people)  # fmt: skip
        if not request.team:
            return grid
        boss = people.resolve(request.team, "team")
        team = people.team(boss)
        return grid.model_copy(update={"rows": [r for r in grid.rows if r.node in team]})

    def deals(self, request: DealsRequest) -> DealsResult:
        """The deals behind a number: a measure over a slice (team, owner, segment, stage, category), named."""
        as_of = request.as_of or self.today()
        period = self.forecast.period_for(request.period, as_of)
        return list_deals(self.store, request, as_of, period, self.people())

    def deal(self, request: DealRequest) -> DealInspection:
        """One deal inspected: its history and every risk signal with evidence (for the account executive)."""
        as_of = request.as_of or self.today()
        return inspect_deal(self.store, request.deal, as_of, self.settings.min_sample, self.people())

    def stalls(self, request: StallsRequest) -> StallsResult:
        """Open deals gone quiet beyond won deals' norm, or past their close date, for the account executive."""
        spec = MEETING_STALLS_ANSWER
        return self.answers.answer(spec.kind, request.as_of or self.today(), request, StallsResult,
                                   lambda: self._stalls(request), settings=spec.settings)  # fmt: skip

    def _stalls(self, request: StallsRequest) -> StallsResult:
        people = self.people()
        owners: set[str] | None = None
        if request.owner:
            owners = {people.resolve(request.owner, "owner")}
        if request.team:
            team = people.team(people.resolve(request.team, "team"))
            owners = team if owners is None else owners & team
        result = self.forecast.stalls(request)
        named = [i.model_copy(update={"owner_name": people.name(i.owner_id)}) for i in result.items]
        return select_stalls(
            result.model_copy(update={"items": named}), owners, request.segment, request.sort, request.limit
        )

    def call_submit(self, request: CallSubmitRequest, progress: Progress | None = None) -> CallRecord:
        """Record a call (or a manager's adjustment, with its reason), check it with the honesty guard.

        ``node`` is a person's name or user id, or ``total``; a name that fits more than one person is refused.
        """
        people = self.people()
        node = people.resolve(request.node, "node", allow_total=True)
        record = self.forecast.call_submit(request.model_copy(update={"node": node}), progress)
        return self._named(CallListResult(calls=[record]), people).calls[0]

    def call_check(self, request: CallCheckRequest, progress: Progress | None = None) -> CallListResult:
        """Re-check the current calls of a period as of a date (``node`` may be a name); store each verdict."""
        spec = MEETING_CALL_CHECK_ANSWER
        return self.answers.answer(
            spec.kind, request.as_of or self.today(), request, CallListResult,
            lambda: self._call_check(request, progress), settings=spec.settings, records=spec.records, writes=True,
        )  # fmt: skip

    def _call_check(self, request: CallCheckRequest, progress: Progress | None) -> CallListResult:
        people = self.people()
        if request.node and request.node != TOTAL:
            request = request.model_copy(update={"node": people.resolve(request.node, "node", True)})
        return self._named(self.forecast.call_check(request, progress), people)

    def call_list(self, request: CallListRequest) -> CallListResult:
        """Current calls (or every version with --history), newest check included; ``node`` may be a name."""
        people = self.people()
        if request.node and request.node != TOTAL:
            request = request.model_copy(update={"node": people.resolve(request.node, "node", True)})
        return self._named(self.forecast.call_list(request), people)

    def _named(self, result: CallListResult, people: Directory) -> CallListResult:
        """The calls with people's and deals' names (the deals a flagged call needs to close, or to slip)."""
        checks = [c.check for c in result.calls if c.check is not None]
        deals = deal_names(self.store, [d.opportunity_id for k in checks for d in (*k.deals_needed, *k.deals_to_slip)])

        def check(k: CallCheck | None) -> CallCheck | None:
            if k is None:
                return None
            return k.model_copy(update={
                part: [d.model_copy(update={"name": deals.get(d.opportunity_id), "owner_name": people.name(d.owner_id)})
                       for d in getattr(k, part)]
                for part in ("deals_needed", "deals_to_slip")
            })  # fmt: skip

        return result.model_copy(
            update={"calls": [c.model_copy(update={"node_name": people.name(c.node), "check": check(c.check)})
                              for c in result.calls]}
        )  # fmt: skip
