"""The forecast grid, the deals behind a number, and one deal inspected — the pages of the weekly call meeting.

``GET /api/grid`` is ``saleslead forecast grid --json``; ``GET /grid.csv`` its CSV. ``GET /api/deals`` is
``saleslead deals --json`` (``/deals.csv`` its CSV); ``GET /api/deal/{id}`` is ``saleslead deal ID --json``.
Submitting a call or a manager's override from the grid posts to ``/api/calls`` (a write: the token).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response

from saleslead.forecast.deals import DealsRequest, DealsResult, Measure, Sort, deals_csv
from saleslead.forecast.grid import GridRequest, GridResult, grid_csv
from saleslead.forecast.risk import DealInspection, DealRequest
from saleslead.format import currency_symbol
from saleslead.seat import Seat
from saleslead.web.charts import PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, render, seat

__all__ = ["router"]

router = APIRouter(tags=["forecast"])
AsOf = Annotated[date | None, Query(description="as of the end of this date (default: the store's last snapshot)")]
PeriodQuery = Annotated[str | None, Query(description="a period such as 2026-Q4 (default: the quarter of as_of)")]
Team = Annotated[str | None, Query(description="a manager (name or user id): their team only")]


def _csv(text: str, name: str) -> Response:
    return PlainTextResponse(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/api/grid", response_model=GridResult, dependencies=[ReadAccess])
def grid_api(
    period: PeriodQuery = None, as_of: AsOf = None, team: Team = None, s: SeatHolder = Depends(seat)
) -> Response:
    """Per node: quota, closed-won, categories, P50 and range, call, override, verdict, gap, the week's change."""
    result = s.read(Seat.forecast_grid, GridRequest(period=period, as_of=as_of, team=team))
    return JSONResponse(result.model_dump(mode="json"))


@router.get("/grid.csv", include_in_schema=False, dependencies=[ReadAccess])
def grid_download(
    period: PeriodQuery = None, as_of: AsOf = None, team: Team = None, s: SeatHolder = Depends(seat)
) -> Response:
    result = s.read(Seat.forecast_grid, GridRequest(period=period, as_of=as_of, team=team))
    return _csv(grid_csv(result), f"grid-{result.period}-{result.as_of}.csv")


def _attainment(grid: GridResult) -> dict[str, Any]:
    """Quota, closed-won and the P50 per manager (bars), attainment on its own axis (markers)."""
    rows = [r for r in grid.rows if r.quota and any(o.parent_id == r.node for o in grid.rows)]
    names = [r.name for r in rows]
    return figure(
        [
            {"type": "bar", "name": "quota", "x": names, "y": [r.quota for r in rows], "marker": {"color": "#cbd2d9"}},
            {
                "type": "bar",
                "name": "closed-won",
                "x": names,
                "y": [r.closed_won for r in rows],
                "marker": {"color": PALETTE[1]},
            },
            {"type": "bar", "name": "P50", "x": names, "y": [r.p50 for r in rows], "marker": {"color": PALETTE[0]}},
            {
                "type": "scatter",
                "mode": "markers",
                "name": "attainment (won ÷ quota)",
                "x": names,
                "y": [r.attainment for r in rows],
                "yaxis": "y2",
                "marker": {"color": PALETTE[3], "size": 10},
            },
        ],
        height=340,
        barmode="group",
        yaxis={
            "title": {"text": currency_symbol().strip()},
            "tickprefix": currency_symbol(),
            "tickformat": "~s",
            "rangemode": "tozero",
        },
        yaxis2={
            "title": {"text": "attainment"},
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )


def _distribution(grid: GridResult) -> dict[str, Any]:
    """How the reps (nodes with nobody under them) are spread by attainment so far."""
    parents = {r.parent_id for r in grid.rows}
    reps = [r for r in grid.rows if r.node not in parents and r.attainment is not None]
    return figure(
        [
            {
                "type": "histogram",
                "x": [r.attainment for r in reps],
                "xbins": {"size": 0.1},
                "name": "reps",
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{x} attainment: %{y} reps<extra></extra>",
            }
        ],
        height=300,
        xaxis={"title": {"text": "attainment to date (closed-won ÷ quota)"}, "tickformat": ".0%"},
        yaxis={"title": {"text": "reps"}},
        bargap=0.05,
    )


@router.get("/grid", include_in_schema=False, dependencies=[ReadAccess])
def grid_page(
    request: Request, period: PeriodQuery = None, as_of: AsOf = None, team: Team = None, s: SeatHolder = Depends(seat)
) -> Response:
    result = s.read(Seat.forecast_grid, GridRequest(period=period, as_of=as_of, team=team))
    full = result if not team else s.read(Seat.forecast_grid, GridRequest(period=period, as_of=as_of))
    parents = {r.parent_id for r in full.rows}
    managers = [r for r in full.rows if r.node in parents and r.node != "total"]
    return render(
        request,
        "grid.html",
        page="grid",
        g=result,
        as_of=result.as_of,
        period=result.period,
        team=team or "",
        managers=managers,
        attainment=figure_json(_attainment(result)),
        distribution=figure_json(_distribution(result)),
    )


def _deals_request(
    measure: Measure, period: str | None, as_of: date | None, team: str | None, owner: str | None,
    segment: str | None, stage: str | None, category: str | None, sort: Sort, limit: int,
) -> DealsRequest:  # fmt: skip
    return DealsRequest(
        measure=measure, period=period or None, as_of=as_of, team=team or None, owner=owner or None,
        segment=segment or None, stage=stage or None, category=category or None, sort=sort, limit=limit,
    )  # fmt: skip


Filter = Annotated[str | None, Query()]


def _deals_chart(result: DealsResult) -> dict[str, Any]:
    """Each listed deal at its close date and amount, one colour per stage (hover: the deal and its owner)."""
    stages = list(dict.fromkeys(d.stage for d in result.deals))
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": stage,
            "x": [d.close_date for d in result.deals if d.stage == stage],
            "y": [d.amount for d in result.deals if d.stage == stage],
            "customdata": [[d.name or d.opportunity_id, d.owner_name] for d in result.deals if d.stage == stage],
            "marker": {"color": PALETTE[n % len(PALETTE)], "size": 9, "opacity": 0.8},
            "hovertemplate": "%{customdata[0]}<br>%{customdata[1]} · %{y:$,.0f} · closes %{x}<extra></extra>",
        }
        for n, stage in enumerate(stages)
    ]
    return figure(
        data,
        height=300,
        xaxis={"title": {"text": "close date"}, "type": "date"},
        yaxis={"title": {"text": "amount"}, "tickprefix": currency_symbol(), "tickformat": "~s"},
        shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": str(result.as_of), "x1": str(result.as_of),
                 "y0": 0, "y1": 1, "line": {"color": "#9aa5b1", "dash": "dot"}}],
    )  # fmt: skip


@router.get("/api/deals", response_model=DealsResult, dependencies=[ReadAccess])
def deals_api(
    measure: Measure = "open", period: PeriodQuery = None, as_of: AsOf = None, team: Team = None,
    owner: Filter = None, segment: Filter = None, stage: Filter = None, category: Filter = None,
    sort: Sort = "amount", limit: Annotated[int, Query(ge=0, le=100_000)] = 100, s: SeatHolder = Depends(seat),
) -> Response:  # fmt: skip
    """The deals behind a number: a measure over a slice, people named (``saleslead deals``)."""
    asked = _deals_request(measure, period, as_of, team, owner, segment, stage, category, sort, limit)
    return JSONResponse(s.read(Seat.deals, asked).model_dump(mode="json"))


@router.get("/deals.csv", include_in_schema=False, dependencies=[ReadAccess])
def deals_download(
    measure: Measure = "open", period: PeriodQuery = None, as_of: AsOf = None, team: Team = None,
    owner: Filter = None, segment: Filter = None, stage: Filter = None, category: Filter = None,
    sort: Sort = "amount", s: SeatHolder = Depends(seat),
) -> Response:  # fmt: skip
    asked = _deals_request(measure, period, as_of, team, owner, segment, stage, category, sort, 0)
    result = s.read(Seat.deals, asked)
    return _csv(deals_csv(result), f"deals-{result.measure}-{result.as_of}.csv")


@router.get("/deals", include_in_schema=False, dependencies=[ReadAccess])
def deals_page(
    request: Request, measure: Measure = "open", period: PeriodQuery = None, as_of: AsOf = None, team: Team = None,
    owner: Filter = None, segment: Filter = None, stage: Filter = None, category: Filter = None,
    sort: Sort = "amount", limit: Annotated[int, Query(ge=0, le=100_000)] = 250, s: SeatHolder = Depends(seat),
) -> Response:  # fmt: skip
    asked = _deals_request(measure, period, as_of, team, owner, segment, stage, category, sort, limit)
    result = s.read(Seat.deals, asked)
    query = {k: v for k, v in asked.model_dump(mode="json").items() if v not in (None, "") and k != "limit"}
    query["as_of"] = result.as_of.isoformat()
    query["period"] = result.period
    return render(
        request, "deals.html", page="deals", r=result, as_of=result.as_of, asked=asked,
        chart=figure_json(_deals_chart(result)),
        query="&".join(f"{k}={v}" for k, v in query.items()), measures=list(Measure.__args__),  # type: ignore[attr-defined]
        sorts=list(Sort.__args__),  # type: ignore[attr-defined]
    )  # fmt: skip


@router.get("/api/deal/{deal}", response_model=DealInspection, dependencies=[ReadAccess])
def deal_api(deal: str, as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    """One deal inspected: history and every risk with its evidence (``saleslead deal``)."""
    return JSONResponse(s.read(Seat.deal, DealRequest(deal=deal, as_of=as_of)).model_dump(mode="json"))


@router.get("/deal/{deal}", include_in_schema=False, dependencies=[ReadAccess])
def deal_page(request: Request, deal: str, as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    result = s.read(Seat.deal, DealRequest(deal=deal, as_of=as_of))
    return render(request, "deal.html", page="deals", d=result, as_of=result.as_of)
