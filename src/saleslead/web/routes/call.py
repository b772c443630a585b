"""The call page: the number with its P10–P90 range, its fan to the end of the period, the rollup by node and
segment (and, once the forecast desk records calls, the submitted calls with their honesty verdicts).

``GET /api/forecast`` is ``saleslead forecast --json``; ``GET /api/calls`` the calls recorded (``saleslead call
list``); ``POST /api/calls`` submits a call and checks it with the honesty guard (a write: token). The page reads
two things — the forecast and the calls recorded — so it makes two seat calls, both reads.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.forecast.schemas import (
    CallListRequest,
    CallListResult,
    CallRecord,
    CallSubmitRequest,
    ForecastRequest,
    ForecastResult,
)
from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.web.charts import PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, WriteAccess, config_of, render, seat

__all__ = ["router"]

router = APIRouter(tags=["forecast"])
AsOf = Annotated[date | None, Query(description="call as of the end of this date (default: today)")]
PeriodQuery = Annotated[str | None, Query(description="a period such as 2026-Q4 (default: the quarter of as_of)")]
Since = Annotated[date | None, Query(description="bridge the forecast from this earlier as-of date (same period)")]


@router.get("/api/forecast", response_model=ForecastResult, dependencies=[ReadAccess])
def forecast_api(
    period: PeriodQuery = None,
    as_of: AsOf = None,
    by: Annotated[Literal["owner", "manager", "segment"] | None, Query(description="nodes to list")] = None,
    deals: Annotated[bool, Query(description="list every open deal's forecast")] = False,
    since: Since = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    """P10/P50/P90 of the period's bookings for the total, every node and segment (``saleslead forecast``)."""
    asked = ForecastRequest(period=period, as_of=as_of, by=by, deals=deals, since=since)
    return JSONResponse(s.read(Seat.forecast, asked).model_dump(mode="json"))


@router.get("/api/calls", response_model=CallListResult, dependencies=[ReadAccess])
def calls_api(
    period: Annotated[str | None, Query(description="only calls of this period")] = None,
    node: Annotated[str | None, Query(description="only calls of this node (a user id, or total)")] = None,
    history: Annotated[bool, Query(description="every version, not only the current one")] = False,
    s: SeatHolder = Depends(seat),
) -> Response:
    """Calls recorded, each with its latest honesty check."""
    asked = CallListRequest(period=period, node=node, history=history)
    return JSONResponse(s.read(Seat.call_list, asked).model_dump(mode="json"))


@router.post("/api/calls", response_model=CallRecord, dependencies=[WriteAccess])
def submit_call_api(request: CallSubmitRequest, s: SeatHolder = Depends(seat)) -> Response:
    """Record a call and check it: supported, stretch, outruns-pipeline or sandbag (needs the token)."""
    return JSONResponse(s.write(Seat.call_submit, request).model_dump(mode="json"))


def _fan(result: ForecastResult, period: Period) -> dict[str, Any]:
    """From what is booked at as_of to the P10–P90 range at the period's last day."""
    t = result.total
    start, now, end = period.start.isoformat(), result.as_of.isoformat(), (period.end - timedelta(days=1)).isoformat()
    band = "rgba(37,99,235,0.16)"
    return figure(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [now, end],
                "y": [t.closed_won, t.p10],
                "line": {"color": PALETTE[0], "width": 1},
                "name": "P10",
                "hovertemplate": "P10 %{y:$,.0f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [now, end],
                "y": [t.closed_won, t.p90],
                "fill": "tonexty",
                "fillcolor": band,
                "line": {"color": PALETTE[0], "width": 1},
                "name": "P90",
                "hovertemplate": "P90 %{y:$,.0f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [now, end],
                "y": [t.closed_won, t.p50],
                "line": {"color": PALETTE[0], "width": 3, "dash": "dash"},
                "name": "P50 (the number)",
                "hovertemplate": "P50 %{y:$,.0f}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [now],
                "y": [t.closed_won],
                "marker": {"color": PALETTE[1], "size": 12},
                "text": ["booked to date"],
                "textposition": "top left",
                "name": "closed-won to date",
                "hovertemplate": "booked %{y:$,.0f} by %{x}<extra></extra>",
            },
        ],
        height=360,
        xaxis={"range": [start, end], "dtick": 14 * 86_400_000, "tickformat": "%b %d"},
        yaxis={"tickprefix": "$", "tickformat": "~s", "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.14, "x": 0},
        margin={"t": 48},
        hovermode="x unified",
    )


def _segments(result: ForecastResult) -> dict[str, Any]:
    names = [s.segment for s in result.segments]
    return figure(
        [
            {
                "type": "bar",
                "name": "closed-won",
                "x": names,
                "y": [s.closed_won for s in result.segments],
                "marker": {"color": PALETTE[1]},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "P50 with P10–P90",
                "x": names,
                "y": [s.p50 for s in result.segments],
                "marker": {"color": PALETTE[0], "size": 12, "symbol": "diamond"},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [s.p90 - s.p50 for s in result.segments],
                    "arrayminus": [s.p50 - s.p10 for s in result.segments],
                    "color": PALETTE[0],
                    "thickness": 2,
                    "width": 10,
                },
            },
        ],
        height=320,
        yaxis={"tickprefix": "$", "tickformat": "~s", "rangemode": "tozero"},
    )


@router.get("/call", include_in_schema=False, dependencies=[ReadAccess])
def call_page(
    request: Request,
    period: PeriodQuery = None,
    as_of: AsOf = None,
    since: Since = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    result = s.read(Seat.forecast, ForecastRequest(period=period, as_of=as_of, since=since))
    fiscal = config_of(request).settings.fiscal_start_month
    shown = Period.parse(result.period, fiscal)
    nodes = sorted(result.nodes, key=lambda n: (n.level, -n.p50))
    calls = s.read(Seat.call_list, CallListRequest(period=result.period))
    names = {n.id: n.name for n in result.nodes}
    return render(
        request,
        "call.html",
        page="call",
        f=result,
        nodes=nodes,
        calls=sorted(calls.calls, key=lambda c: c.recorded_at, reverse=True),
        names=names,
        as_of=result.as_of,
        period=result.period,
        week_before=week_before if (week_before := result.as_of - timedelta(days=7)) >= shown.start else None,
        fan=figure_json(_fan(result, shown)),
        by_segment=figure_json(_segments(result)),
    )
