"""Requests and results of the forecast desk: their ``model_dump(mode="json")`` is the documented JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saleslead.evidence import Evidence
from saleslead.forecast._frozen import Frozen
from saleslead.format import money
from saleslead.store.shelf import AnswerSpec

__all__ = [
    "CALL_CHECK_ANSWER",
    "FIT_SETTINGS",
    "FORECAST_ANSWER",
    "FORECAST_SETTINGS",
    "MEASURES",
    "MEETING_CALL_CHECK_ANSWER",
    "MEETING_STALLS_ANSWER",
    "SORTS",
    "STALLS_ANSWER",
    "AccuracyRequest",
    "AccuracyResult",
    "BacktestPoint",
    "BacktestRequest",
    "BacktestResult",
    "BridgeDeal",
    "BridgeRequest",
    "BridgeResult",
    "BridgeStat",
    "BridgeStep",
    "CallCheck",
    "CallCheckRequest",
    "CallListRequest",
    "CallListResult",
    "CallRecord",
    "CallSubmitRequest",
    "DealForecast",
    "Factor",
    "ForecastMethod",
    "ForecastRequest",
    "ForecastResult",
    "LedgerRow",
    "Measure",
    "NodeBridge",
    "NodeForecast",
    "Outcome",
    "RiskKind",
    "RiskSignal",
    "SeatCallRequest",
    "SegmentForecast",
    "Sort",
    "StallItem",
    "StallSignal",
    "StallSort",
    "StallsRequest",
    "StallsResult",
    "WaterfallRequest",
    "WaterfallResult",
    "call_check_answer_request",
    "forecast_answer_request",
]


#: what ``saleslead deals`` lists (the measure behind a number of the grid) and how it sorts them
Measure = Literal["open", "closed-won", "commit", "best-case", "pipeline", "omitted", "in-period", "past-due"]
MEASURES: tuple[str, ...] = Measure.__args__  # type: ignore[attr-defined]
Sort = Literal["amount", "close_date", "days_in_stage", "pushes", "name", "owner", "stage"]
SORTS: tuple[str, ...] = Sort.__args__  # type: ignore[attr-defined]

RiskKind = Literal[
    "past-due", "pushed", "quiet", "stuck", "amount-cut", "stage-regression", "no-next-step", "single-threaded"
]


class RiskSignal(BaseModel):
    """One risk on a deal: what, the evidence in words, the figures, and the dated events behind it."""

    model_config = ConfigDict(frozen=True)

    kind: RiskKind
    text: str
    value: float | None = None
    threshold: float | None = None  # the learned norm it is compared with, where there is one
    beyond_norm: bool = True  # False: listed as context (e.g. one push, within what won deals had)
    events: list[str] = []

    def short(self) -> str:
        """The signal in a few words, for a table cell (the evidence is in ``text`` and ``events``)."""
        v = int(self.value) if self.value is not None else 0
        norm = f" (norm {self.threshold:.0f})" if self.threshold is not None else ""
        return {
            "past-due": f"past due {v}d",
            "quiet": f"quiet {v}d{norm}",
            "stuck": f"stuck {v}d{norm}",
            "pushed": f"pushed {v}×" + ("" if self.beyond_norm else " (normal)"),
            "amount-cut": f"amount cut {money(self.value or 0.0)}",
            "stage-regression": f"moved back {v}×",
            "no-next-step": "no next step",
            "single-threaded": f"{v} contact{'s' if v != 1 else ''}",
        }[self.kind]


class ForecastRequest(Frozen):
    period: str | None = None  # default: the quarter of as_of
    as_of: date | None = None  # default: today
    by: Literal["owner", "manager", "segment"] | None = None
    deals: bool = False
    scenarios: int | None = Field(None, ge=100)
    since: date | None = Field(None, description="also bridge the forecast from this earlier as-of date")


class Outcome(Frozen):
    """The distribution of a period's bookings (total, a node or a segment) and its parts.

    ``mean = closed_won + expected_open + expected_new`` exactly (expectations, not scenario averages);
    ``expected_in_period`` is the part of ``expected_open`` from the deals dated in the period
    (``open_in_period``, the pipeline coverage divides); the rest of ``expected_open`` comes from open deals
    dated outside it (pull-ins). P10/P50/P90 are quantiles of the scenarios.
    """

    closed_won: float
    p10: float
    p50: float
    p90: float
    mean: float
    expected_open: float = Field(0.0, description="expected bookings from deals open at the as-of date")
    expected_new: float = Field(0.0, description="expected bookings from pipeline not yet created")
    open_in_period: float = Field(0.0, description="amount of open deals whose close date is in the period")
    expected_in_period: float = Field(0.0, description="expected bookings from those deals")


class NodeForecast(Outcome):
    id: str
    name: str
    title: str
    level: int
    parent_id: str | None
    commit: float
    best_case: float
    pipeline: float
    omitted: float
    open_deals: int


class SegmentForecast(Outcome):
    segment: str
    new_pipeline_mean: float


class Factor(Frozen):
    factor: str
    value: str
    effect: float  # change in the weekly log-odds of winning vs an average deal


class DealForecast(Frozen):
    opportunity_id: str
    owner_id: str
    segment: str
    stage: str
    amount: float
    close_date: date | None
    forecast_category: str
    p_win_in_period: float
    expected_amount: float
    factors: list[Factor]
    name: str | None = None  # the deal's name and its owner's, where a face names them (call checks)
    owner_name: str | None = None


class ForecastMethod(Frozen):
    name: str
    description: str
    evidence: Evidence
    training_rows: int
    training_deals: int
    training_origins: int
    training_from: date
    training_to: date
    won_events: int
    lost_events: int
    calibration_rows: int
    shock_sd: float
    window_intercept: float
    window_slope: float
    window_segment_shifts: dict[str, float]
    model_weight: float  # of the deal model against the category rates (the category stack)
    category_rates: dict[str, float]  # amount won / amount open per category cell, over the past periods
    calibration_periods: int
    shock_groups: int
    shock_floor_used: bool
    new_pipeline_periods: list[str]
    seed: int


class Reliability(Frozen):
    """How the deal probability did out of sample: the calibration's replayed past origins scored."""

    bins: list[dict[str, float | int]]  # by tenths of P(won in period): low, high, deals, predicted, observed
    brier: float  # mean (p − won)² of the model's probability
    brier_stage: float  # the same for the CRM stage probability × [close date in the period]
    deals: int  # deal-origins scored
    method: str


class ForecastResult(Frozen):
    period: str
    as_of: date
    scenarios: int
    total: Outcome
    nodes: list[NodeForecast]
    segments: list[SegmentForecast]
    method: ForecastMethod
    deals: list[DealForecast] | None = None
    reliability: Reliability | None = None  # the reliability diagram's data and Brier scores
    bridge: BridgeResult | None = None  # with ``since``: how the forecast moved from that date


class BridgeRequest(Frozen):
    """Explain how a period's forecast moved between two as-of dates (``since`` < ``as_of``)."""

    period: str | None = None  # default: the quarter of as_of
    as_of: date | None = None  # default: today
    since: date
    node: str = "total"  # the node whose call is bridged (with ``call``)
    call: float | None = Field(None, description="bridge P(outcome ≥ call) of ``node`` too")
    scenarios: int | None = Field(None, ge=100)


class BridgeStat(Frozen):
    p10: float
    p50: float
    p90: float
    mean: float
    p_call: float | None = None  # P(outcome ≥ call), for the bridged call's node


class BridgeDeal(Frozen):
    opportunity_id: str
    owner_id: str
    amount: float  # the amount it moved with: as won, created or pulled in; else as at the earlier date


class BridgeStep(Frozen):
    """One component: the change of each statistic when this movement is applied (in the documented order)."""

    component: str
    description: str
    deals: int
    amount: float
    p10: float
    p50: float
    p90: float
    mean: float
    p_call: float | None = None
    top_deals: list[BridgeDeal] = Field(default_factory=list)


class NodeBridge(Frozen):
    node: str
    name: str
    start: BridgeStat
    end: BridgeStat
    steps: list[BridgeStep]


class BridgeResult(Frozen):
    """``end − start = Σ steps``, to the cent, for every statistic and node (components telescope)."""

    period: str
    since: date
    as_of: date
    order: list[str]
    method: str
    call: float | None
    call_node: str
    total: NodeBridge
    nodes: list[NodeBridge]
    reconciles: bool


StallSort = Literal["risk", "amount", "days_in_stage", "pushes", "quiet", "close_date", "owner"]


class StallsRequest(Frozen):
    as_of: date | None = None
    owner: str | None = None  # a name or a user id: only this owner's deals
    team: str | None = None  # a manager (name or id): only deals owned in their team
    segment: str | None = None
    sort: StallSort = "risk"  # risk: most reasons first, then the largest
    limit: int | None = Field(None, ge=1)  # default: every stalled deal


class StallSignal(Frozen):
    """One reason a deal is flagged: its value, the learned threshold it is above, and what that rests on."""

    kind: Literal["stuck", "slipping", "quiet"]
    value: int  # days in stage, close-date pushes, or days since the last touch
    threshold: float  # flagged when value > threshold
    sample_size: int  # observations the threshold was learned from
    scope: str  # the deal's segment, or "all segments" when the segment's own sample was thin
    thin: bool = False  # the segment's own sample was below min_sample: the all-segment threshold is used


class StallItem(Frozen):
    opportunity_id: str
    name: str | None
    owner_id: str
    segment: str
    stage: str
    amount: float
    days_in_stage: int
    stage_p90_days: float | None
    pushes: int
    days_since_activity: int | None
    quiet_span_days: float | None
    reasons: list[str]
    to_role: str = "account-executive"
    push_limit: float | None = None  # flagged as slipping above this many pushes
    quiet_days: int | None = None  # days since the last touch: a logged activity, or the deal's creation
    signals: list[StallSignal] = Field(default_factory=list)
    owner_name: str | None = None
    close_date: date | None = None
    past_due_days: int | None = None  # the close date passed this many days before as_of, deal still open
    risks: list[RiskSignal] = Field(default_factory=list)  # every risk with its evidence (saleslead deal)


class StallsResult(Frozen):
    as_of: date
    items: list[StallItem]
    evidence: Evidence
    open_deals: int = 0  # open deals checked
    flagged_by_reason: dict[str, int] = Field(default_factory=dict)  # stuck, slipping, quiet, past-due (overlap)
    matched: int | None = None  # stalled deals that fit the filters, before --limit (None: no filter or limit)


class WaterfallRequest(Frozen):
    period: str
    start: date
    end: date


class WaterfallResult(Frozen):
    period: str
    start: date
    end: date
    starting_pipeline: float
    created: float
    pulled_in: float
    pushed_out: float
    amount_up: float
    amount_down: float
    won: float
    lost: float
    ending_pipeline: float
    deals: dict[str, int]
    reconciles: bool


class CallSubmitRequest(Frozen):
    node: str
    period: str | None = None  # default: the fiscal quarter holding as_of
    amount: float = Field(ge=0)
    category: str = "commit"
    as_of: date | None = None
    author: str = "unknown"
    reason: str | None = None  # required for an adjustment of someone else's call
    adjustment: bool = False


class CallCheck(Frozen):
    node: str
    period: str
    amount: float
    category: str
    version: int
    as_of: date
    p_outcome_at_least_call: float
    verdict: Literal["supported", "stretch", "outruns-pipeline", "sandbag"]
    node_p10: float
    node_p50: float
    node_p90: float
    closed_won: float
    gap_to_close: float
    deals_needed: list[DealForecast]
    flagged: bool
    #: sandbag: the deals, most expected first, that would have to slip or die for the outcome to fall to the call
    deals_to_slip: list[DealForecast] = Field(default_factory=list)
    cushion: float = 0.0  # sandbag: expected outcome (mean) minus the call


class CallRecord(Frozen):
    node: str
    period: str
    amount: float
    category: str
    as_of: date
    author: str
    reason: str | None
    adjustment: bool
    version: int
    recorded_at: datetime
    previous_amount: float | None
    p10: float | None = None
    p90: float | None = None
    check: CallCheck | None = None
    node_name: str | None = None  # the person's name (``total`` for the company)


class CallCheckRequest(Frozen):
    period: str | None = None  # default: the fiscal quarter holding as_of
    node: str | None = None
    as_of: date | None = None
    scenarios: int | None = Field(None, ge=100)  # default: settings.scenarios


class CallListRequest(Frozen):
    period: str | None = None
    node: str | None = None
    history: bool = False


class CallListResult(Frozen):
    calls: list[CallRecord]


class SeatCallRequest(Frozen):
    period: str | None = None
    as_of: date | None = None
    scenarios: int | None = Field(None, ge=100)  # default: settings.scenarios


class BacktestRequest(Frozen):
    start: date
    end: date
    #: quarter-week: weeks 1..13 of each quarter, counted from its first day (the level table's buckets)
    every: Literal["week", "month", "quarter-week"] = "week"
    scenarios: int = Field(2_000, ge=100)
    refit_weeks: int = Field(4, ge=1)
    best_case_share: float = Field(0.5, ge=0, le=1)
    #: quarter-week only: score just these weeks of each quarter (1..13; none: every week)
    weeks: tuple[int, ...] | None = None


class BacktestPoint(Frozen):
    as_of: date
    period: str
    week_of_quarter: int
    actual: float
    p10: float
    p50: float
    p90: float
    mean: float
    stage_weighted: float
    categories: float
    crps: float


class BacktestResult(Frozen):
    points: list[BacktestPoint]
    summary: dict[str, dict[str, float | int | None]]
    by_week: list[dict[str, float | int | None]]
    calibration: list[dict[str, float | int]]
    brier: float
    brier_stage: float
    deals_scored: int
    method: str
    #: calibration by level (total, manager, rep) × week bucket (early, mid, late): see forecast/levels.py
    levels: list[dict[str, float | int | str]] = Field(default_factory=list)


class AccuracyRequest(Frozen):
    as_of: date | None = None


class LedgerRow(Frozen):
    node: str
    calls: int
    mean_error: float  # (call - actual) / actual, averaged
    bias_shrunk: float
    abs_error: float
    abs_error_shrunk: float
    thin: bool


class AccuracyResult(Frozen):
    as_of: date
    rows: list[LedgerRow]
    team_bias: float | None
    prior_strength: float
    evidence: Evidence


ForecastResult.model_rebuild()  # its bridge is defined after it


# --- what the stored answers of the forecast desk read (the desk and stored reads share these) ---------------
#: the settings a fit reads
FIT_SETTINGS = ("fiscal_start_month", "min_sample")
#: the settings a forecast's result reads (the fit's, the scenario count and the seed of the simulation)
FORECAST_SETTINGS = (*FIT_SETTINGS, "scenarios", "seed")
FORECAST_ANSWER = AnswerSpec("forecast", FORECAST_SETTINGS)
STALLS_ANSWER = AnswerSpec("stalls", ("min_sample", "stalls"))
#: a call's check reads the forecast and the guard's thresholds
CALL_CHECK_ANSWER = AnswerSpec("call-check", (*FORECAST_SETTINGS, "guard"))
#: the stalls and a period's call checks as the meeting desk serves them (filtered, people and deals named):
#: what a stored read serves without the seat. A check reads the calls and their flags, and keeps its verdicts
#: as flags: it is kept under the flags as they stand after it, so one found has nothing left to write.
MEETING_STALLS_ANSWER = AnswerSpec("meeting.stalls", STALLS_ANSWER.settings)
MEETING_CALL_CHECK_ANSWER = AnswerSpec(
    "meeting.call-check", CALL_CHECK_ANSWER.settings, ("forecast.call", "forecast.flag")
)


def forecast_answer_request(request: ForecastRequest, period: str) -> dict[str, object]:
    """The request part of a forecast answer's key: the request with its period resolved."""
    return request.model_dump(mode="json") | {"period": period}


def call_check_answer_request(
    period: str, call: dict[str, object], version: int, scenarios: int | None
) -> dict[str, object]:
    """The request part of a call check's key: the call's period, node, amount, category and version."""
    return {
        "period": period,
        "node": call["node"],
        "amount": call["amount"],
        "category": call["category"],
        "version": version,
        "scenarios": scenarios,
    }
