"""The pipeline page (``/``) and ``GET /api/status``: what the store holds and the open pipeline as of a date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.format import currency_symbol
from saleslead.seat import Seat, StatusRequest
from saleslead.status import StatusReport
from saleslead.web.charts import PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, render, seat

__all__ = ["router"]

router = APIRouter(dependencies=[ReadAccess])
AsOf = Annotated[date | None, Query(description="compute as of the end of this date (default: today)")]


@router.get("/api/status", response_model=StatusReport, tags=["seat"])
def status_api(as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    """The ``saleslead status --json`` report."""
    return JSONResponse(s.read(Seat.status, StatusRequest(as_of=as_of)).model_dump(mode="json"))


def _charts(report: StatusReport) -> tuple[str, str]:
    stages = list(reversed(report.open_by_stage))
    by_stage = figure(
        [
            {
                "type": "bar",
                "orientation": "h",
                "y": [s.name for s in stages],
                "x": [s.amount for s in stages],
                "customdata": [s.count for s in stages],
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{y}: %{x:$,.0f} in %{customdata:,} deals<extra></extra>",
            }
        ],
        height=320,
        xaxis={"tickprefix": currency_symbol(), "tickformat": "~s", "title": {"text": "open amount"}},
        margin={"l": 140},
    )
    by_segment = figure(
        [
            {
                "type": "pie",
                "hole": 0.55,
                "labels": [s.name for s in report.open_by_segment],
                "values": [s.amount for s in report.open_by_segment],
                "sort": False,
                "textinfo": "label+percent",
                "hovertemplate": "%{label}: %{value:$,.0f}<extra></extra>",
                "marker": {"colors": list(PALETTE)},
            }
        ],
        height=320,
        showlegend=False,
        margin={"l": 24, "r": 24, "t": 24, "b": 24},
    )
    return figure_json(by_stage), figure_json(by_segment)


@router.get("/", include_in_schema=False)
def status_page(request: Request, as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    report = s.read(Seat.status, StatusRequest(as_of=as_of))
    by_stage, by_segment = _charts(report)
    return render(
        request,
        "status.html",
        page="status",
        report=report,
        as_of=report.as_of,
        by_stage=by_stage,
        by_segment=by_segment,
    )
