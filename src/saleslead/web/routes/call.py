"""The call page: the number with its P10–P90 range, its fan to the end of the period, the rollup by node and
segment (and, once the forecast desk records calls, the submitted calls with their honesty verdicts); quota
and attainment from the grid, bookings day by day and last period's at the same point.

``GET /api/forecast`` is ``saleslead forecast --json``; ``GET /api/calls`` the calls recorded (``saleslead call
list``); ``POST /api/calls`` submits a call and checks it with the honesty guard (a write: token). The page reads
three things — the forecast, the calls recorded and the grid (quota, bookings to date) — three seat reads.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.forecast.grid import GridRequest, GridResult
from saleslead.forecast.schemas import (
    CallListRequest,
    CallListResult,
    CallRecord,
    CallSubmitRequest,
    ForecastRequest,
    ForecastResult,
)
from saleslead.format import currency_symbol
from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.web.charts import MUTED, PALETTE, figure, figure_json
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


def _context(grid: GridResult, period: Period) -> list[dict[str, Any]]:
    """Bookings to date day by day, last period's bookings at the same day of its period, and the quota."""
    day = [(period.start + timedelta(days=b.day)).isoformat() for b in grid.bookings]
    same = [b for b in grid.last_bookings if b.day < period.days]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter", "mode": "lines", "x": day, "y": [b.amount for b in grid.bookings],
            "line": {"color": PALETTE[1], "width": 3}, "name": "booked to date",
            "hovertemplate": "booked %{y:$,.0f} by %{x}<extra></extra>",
        },
        {
            "type": "scatter", "mode": "lines", "x": [(period.start + timedelta(days=b.day)).isoformat() for b in same],
            "y": [b.amount for b in same], "line": {"color": MUTED, "width": 2, "dash": "dot"},
            "name": f"{grid.last_period} at the same point",
            "hovertemplate": f"{grid.last_period}: %{{y:$,.0f}} by this day<extra></extra>",
        },
    ]  # fmt: skip
    quota = grid.rows[0].quota if grid.rows else None
    if quota:
        end = (period.end - timedelta(days=1)).isoformat()
        traces.append(
            {
                "type": "scatter", "mode": "lines", "x": [period.start.isoformat(), end], "y": [quota, quota],
                "line": {"color": PALETTE[3], "width": 2, "dash": "dash"}, "name": "quota",
                "hovertemplate": "quota %{y:$,.0f}<extra></extra>",
            }
        )  # fmt: skip
    return traces


def _fan(result: ForecastResult, period: Period, grid: GridResult) -> dict[str, Any]:
    """Booked day by day to as_of, then to the P10–P90 range at the period's last day; last period and quota."""
    t = result.total
    start, now, end = period.start.isoformat(), result.as_of.isoformat(), (period.end - timedelta(days=1)).isoformat()
    band = "rgba(37,99,235,0.16)"
    return figure(
        [
            *_context(grid, period),
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
        ],
        height=360,
        xaxis={"range": [start, end], "dtick": 14 * 86_400_000, "tickformat": "%b %d"},
        yaxis={"tickprefix": currency_symbol(), "tickformat": "~s", "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.14, "x": 0},
        margin={"t": 48},
        hovermode="x unified",
    )


def _segments(result: ForecastResult, grid: GridResult) -> dict[str, Any]:
    """Closed-won, P50 with its range, and quota per segment; attainment (won ÷ quota) on its own axis."""
    names = [s.segment for s in result.segments]
    quota = [grid.segment_quota.get(n) for n in names]
    return figure(
        [
            {"type": "bar", "name": "quota", "x": names, "y": quota, "marker": {"color": "#cbd2d9"}},
            {
                "type": "scatter",
                "mode": "markers",
                "name": "attainment (won ÷ quota)",
                "x": names,
                "yaxis": "y2",
                "y": [s.closed_won / q if q else None for s, q in zip(result.segments, quota, strict=True)],
                "marker": {"color": PALETTE[3], "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                "hovertemplate": "%{x}: %{y:.0%} of quota<extra></extra>",
            },
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
        barmode="group",
        yaxis={"tickprefix": currency_symbol(), "tickformat": "~s", "rangemode": "tozero"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "rangemode": "tozero",
            "showgrid": False,
            "title": {"text": "attainment"},
        },
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
    grid = s.read(Seat.forecast_grid, GridRequest(period=result.period, as_of=result.as_of))
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
        fan=figure_json(_fan(result, shown, grid)),
        by_segment=figure_json(_segments(result, grid)),
        quota=grid.rows[0].quota if grid.rows else None,
    )
