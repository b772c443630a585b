"""Mandate 4 — forecast and call the number: the seat's actions for this package (a desk of the seat)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from saleslead.context import Desk, Progress, SeatContext
from saleslead.errors import InputError, InsufficientDataError
from saleslead.evidence import Evidence
from saleslead.forecast.backtest import run_backtest
from saleslead.forecast.bridge import forecast_bridge
from saleslead.forecast.calls import CALL, FLAG, SEAT_CALL, call_key, call_record, check_adjustment, store_flag
from saleslead.forecast.fitted import fitted_outlook
from saleslead.forecast.guard import TOTAL, check_call
from saleslead.forecast.ledger import node_actuals, shrink
from saleslead.forecast.outlook import Outlook, forecast_result
from saleslead.forecast.panel import day_number, load_book
from saleslead.forecast.schemas import (
    CALL_CHECK_ANSWER,
    FORECAST_ANSWER,
    STALLS_ANSWER,
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
    LedgerRow,
    SeatCallRequest,
    StallsRequest,
    StallsResult,
    WaterfallRequest,
    WaterfallResult,
    call_check_answer_request,
    forecast_answer_request,
)
from saleslead.forecast.stalls import find_stalls
from saleslead.forecast.waterfall import pipeline_waterfall
from saleslead.periods import Period

__all__ = ["ForecastDesk"]


class ForecastDesk(Desk):
    """Mandate 4 — forecast and call the number.

    The desk keeps its last outlook (one forecast per period, as-of, settings and store contents), so
    the forecast, the seat's call and the honesty guard of one week share a single simulation.
    """

    def __init__(self, context: SeatContext) -> None:
        super().__init__(context)
        self._outlooks: dict[tuple[object, ...], Outlook] = {}

    def forget(self) -> None:
        """Drop the kept outlook (the next forecast simulates again)."""
        self._outlooks.clear()

    def _forecast_period(self, text: str | None, as_of: date) -> Period:
        if text:
            return Period.parse(text, self.settings.fiscal_start_month)
        return Period.quarter_of(as_of, self.settings.fiscal_start_month)

    def _outlook(
        self, period: Period, as_of: date, progress: Progress | None = None, scenarios: int | None = None
    ) -> Outlook:
        """One forecast per (period, as-of, settings, store contents), reused by calls and checks."""
        key = (period.name, as_of, scenarios, self.settings.model_dump_json(), self.store.count("ingests"))
        cache = self._outlooks
        if key not in cache:
            cache.clear()  # keep one: an outlook holds the whole deal book
            cache[key] = fitted_outlook(self.store, self.settings, self.answers, period, as_of, scenarios, progress)
        return cache[key]

    def period_for(self, text: str | None, as_of: date) -> Period:
        """The period named ``text``, else the fiscal quarter holding ``as_of`` (the forecast's default)."""
        return self._forecast_period(text, as_of)

    def outlook(
        self, period: Period, as_of: date, progress: Progress | None = None, scenarios: int | None = None
    ) -> Outlook:
        """The kept outlook of ``period`` as of ``as_of`` (simulated once; the grid and the call page share it)."""
        return self._outlook(period, as_of, progress, scenarios)

    def forecast(self, request: ForecastRequest, progress: Progress | None = None) -> ForecastResult:
        """Call the period's number as of a date: P10/P50/P90 for the total, every node and segment, and its
        parts (booked, expected from open deals, from pipeline not yet created); with ``since``, the bridge."""
        as_of = request.as_of or self.today()
        period = self._forecast_period(request.period, as_of)

        def compute() -> ForecastResult:
            outlook = self._outlook(period, as_of, progress, request.scenarios)
            result = forecast_result(outlook, self.settings, request.by, request.deals)
            if request.since is not None:
                result = result.model_copy(update={"bridge": self._bridge(outlook, request.since)})
            return result

        key = forecast_answer_request(request, period.name)
        return self.answers.answer(FORECAST_ANSWER.kind, as_of, key, ForecastResult, compute,
                                   settings=FORECAST_ANSWER.settings)  # fmt: skip

    def outlook_result(self, period: Period, as_of: date) -> ForecastResult | None:
        """The one outlook of ``period`` as of ``as_of`` (the kept one when it is the same), for the other desks;
        None when no forecast can be made: the date is outside the period, or the history is too thin."""
        if not period.start <= as_of < period.end:
            return None
        try:
            return self.forecast(ForecastRequest(period=period.name, as_of=as_of))
        except InsufficientDataError:
            return None

    def forecast_bridge(self, request: BridgeRequest, progress: Progress | None = None) -> BridgeResult:
        """How the period's forecast moved since an earlier as-of date: won, lost, pushed, pulled, created,
        amounts, owners, probabilities and the model refit — adding up to the change exactly."""
        as_of = request.as_of or self.today()
        period = self._forecast_period(request.period, as_of)
        outlook = self._outlook(period, as_of, progress, request.scenarios)
        return self._bridge(outlook, request.since, request.node, request.call)

    def _bridge(self, later: Outlook, since: date, node: str = TOTAL, call: float | None = None) -> BridgeResult:
        """The bridge from the forecast as of ``since`` (cut from ``later``'s deal book: the same forecast) to
        ``later``."""
        if not later.period.start <= since < later.as_of:
            raise InputError(
                f"since ({since}) must fall in {later.period} before the as-of date ({later.as_of})",
                hint=f"--since a date from {later.period.start} to the day before {later.as_of}",
            )
        scenarios = later.sim.scenarios
        # the earlier forecast's fits are kept (and found) as of ``since``, as the targets' weekly coverage reads
        earlier = fitted_outlook(self.store, self.settings, self.answers, later.period, since, scenarios,
                                 book=later.book)  # fmt: skip
        return forecast_bridge(self.store, self.settings, earlier, later, scenarios=scenarios, node=node, call=call)

    def stalls(self, request: StallsRequest) -> StallsResult:
        """Open deals gone quiet beyond won deals' norm (stuck or slipping listed), for the account executive."""
        as_of = request.as_of or self.today()
        return self.answers.answer(
            STALLS_ANSWER.kind, as_of, request, StallsResult,
            lambda: find_stalls(self.store, as_of, self.settings.min_sample, floors=self.settings.stalls),
            settings=STALLS_ANSWER.settings,
        )  # fmt: skip

    def waterfall(self, request: WaterfallRequest) -> WaterfallResult:
        """How a period's pipeline moved between two dates, reconciling exactly."""
        period = Period.parse(request.period, self.settings.fiscal_start_month)
        return pipeline_waterfall(self.store, period, request.start, request.end)

    # --- calls --------------------------------------------------------------------------------
    def call_submit(self, request: CallSubmitRequest, progress: Progress | None = None) -> CallRecord:
        """Record a call (or a manager's adjustment, with its reason), check it with the honesty guard."""
        as_of = request.as_of or self.today()
        period = self._forecast_period(request.period, as_of)
        self._known_node(request.node)
        key = call_key(period.name, request.node)
        previous = self.records.latest(CALL, key)
        check_adjustment(previous, request.author, request.adjustment, request.reason)
        version = (previous.version + 1) if previous else 1
        check = check_call(
            self._outlook(period, as_of, progress), request.node, request.amount, request.category, version,
            self.settings.guard,
        )  # fmt: skip
        payload = {
            "node": request.node,
            "period": period.name,
            "amount": request.amount,
            "category": request.category,
            "as_of": as_of.isoformat(),
            "author": request.author,
            "reason": request.reason,
            "adjustment": request.adjustment or (previous is not None and previous.author != request.author),
            "previous_amount": previous.payload.get("amount") if previous else None,
            "check": check.model_dump(mode="json"),
        }
        record = self.records.put(CALL, key, payload, author=request.author)
        store_flag(self.records, check, request.author)
        return call_record(record)

    def call_check(self, request: CallCheckRequest, progress: Progress | None = None) -> CallListResult:
        """Re-check the current calls of a period as of a date; store each verdict as the call's flag."""
        as_of = request.as_of or self.today()
        period = self._forecast_period(request.period, as_of)
        current = [r for r in self.records.current(CALL) if r.payload.get("period") == period.name]
        if request.node:
            current = [r for r in current if r.payload.get("node") == request.node]
        if not current:
            return CallListResult(calls=[])
        answers = self.answers
        out: list[CallRecord] = []
        for record in current:
            body = record.payload

            def compute(body: dict[str, object] = body, version: int = record.version) -> CallCheck:
                outlook = self._outlook(period, as_of, progress, request.scenarios)
                return check_call(
                    outlook, str(body["node"]), float(str(body["amount"])), str(body["category"]), version,
                    self.settings.guard,
                )  # fmt: skip

            call = call_check_answer_request(period.name, body, record.version, request.scenarios)
            check = answers.answer(CALL_CHECK_ANSWER.kind, as_of, call, CallCheck, compute,
                                   settings=CALL_CHECK_ANSWER.settings)  # fmt: skip
            store_flag(self.records, check, "saleslead")
            out.append(call_record(record).model_copy(update={"check": check}))
        return CallListResult(calls=out)

    def call_list(self, request: CallListRequest) -> CallListResult:
        """Current calls (or every version with --history), newest check included."""
        records = []
        for kind in (CALL, SEAT_CALL):
            for current in self.records.current(kind):
                records.extend(self.records.history(kind, current.key) if request.history else [current])
        calls = [call_record(r) for r in records]
        if request.period:
            calls = [c for c in calls if c.period == request.period]
        if request.node:
            calls = [c for c in calls if c.node == request.node]
        return CallListResult(calls=sorted(calls, key=lambda c: (c.period, c.node, c.version)))

    def seat_call(self, request: SeatCallRequest, progress: Progress | None = None) -> CallRecord:
        """The seat's own call for a period: the P50 of the total with its P10–P90, versioned."""
        as_of = request.as_of or self.today()
        period = self._forecast_period(request.period, as_of)
        outlook = self._outlook(period, as_of, progress, request.scenarios)
        result = forecast_result(outlook, self.settings, "segment", False)
        previous = self.records.latest(SEAT_CALL, period.name)
        check = check_call(outlook, TOTAL, result.total.p50, "seat-call", (previous.version + 1) if previous else 1,
                           self.settings.guard)  # fmt: skip
        payload = {
            "node": TOTAL,
            "period": period.name,
            "amount": result.total.p50,
            "category": "seat-call",
            "as_of": as_of.isoformat(),
            "author": "saleslead",
            "reason": f"P50 of {result.scenarios} scenarios; {result.method.name}",
            "adjustment": False,
            "previous_amount": previous.payload.get("amount") if previous else None,
            "p10": result.total.p10,
            "p90": result.total.p90,
            "check": check.model_dump(mode="json"),
        }
        return call_record(self.records.put(SEAT_CALL, period.name, payload, author="saleslead"))

    def forecast_flags(self) -> list[CallCheck]:
        """Open honesty-guard flags on the current version of every call (for every briefing)."""
        current = {r.key: r.version for r in self.records.current(CALL)}
        flags = []
        for record in self.records.current(FLAG):
            check = CallCheck.model_validate(record.payload)
            if record.status == "open" and current.get(record.key) == check.version:
                flags.append(check)
        return flags

    def _known_node(self, node: str) -> None:
        if node == TOTAL:
            return
        users = self.store.table("users")
        if not users.filter(users.user_id == node).count().execute():
            raise InputError(f"no user {node!r} to call for", hint="use a user id from the users table, or 'total'")

    # --- accuracy ----------------------------------------------------------------------------
    def forecast_backtest(self, request: BacktestRequest, progress: Progress | None = None) -> BacktestResult:
        """Walk-forward backtest of the forecast against both baselines."""
        return run_backtest(self.store, self.settings, request, progress, answers=self.answers)

    def forecast_accuracy(self, request: AccuracyRequest) -> AccuracyResult:
        """Submitted calls against what was booked, per node, shrunk toward the team."""
        as_of = request.as_of or self.today()
        book = load_book(self.store, as_of)
        errors: dict[str, list[float]] = {}
        by_period: dict[str, list[tuple[str, float]]] = {}
        for current in self.records.current(CALL):
            period = Period.parse(str(current.payload["period"]), self.settings.fiscal_start_month)
            if period.end > as_of:
                continue
            made = [
                r
                for r in self.records.history(CALL, current.key)
                if date.fromisoformat(str(r.payload["as_of"])) < period.end
            ]
            if made:
                by_period.setdefault(period.name, []).append(
                    (str(made[-1].payload["node"]), float(made[-1].payload["amount"]))
                )
        for name, calls in by_period.items():
            period = Period.parse(name, self.settings.fiscal_start_month)
            actual = node_actuals(self.store, book, period, day_number(as_of), {n for n, _ in calls})
            for node, amount in calls:
                if actual.get(node, 0.0) > 0:
                    errors.setdefault(node, []).append((amount - actual[node]) / actual[node])
        table, team, k = shrink(errors)
        rows = [
            LedgerRow(
                node=node,
                calls=len(errors[node]),
                mean_error=v[0],
                bias_shrunk=v[1],
                abs_error=v[2],
                abs_error_shrunk=v[3],
                thin=len(errors[node]) < self.settings.min_sample,
            )
            for node, v in sorted(table.items())
        ]
        n = sum(len(v) for v in errors.values())
        return AccuracyResult(
            as_of=as_of,
            rows=rows,
            team_bias=team,
            prior_strength=k,
            evidence=Evidence(
                method="relative error of the last call before period end; empirical-Bayes shrinkage to the team",
                sample_size=n,
                thin=n < self.settings.min_sample,
                note=f"recorded {datetime.now(UTC).date().isoformat()}",
            ),
        )
