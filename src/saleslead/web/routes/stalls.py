"""The stalls page: open deals gone quiet beyond what won deals went through (stuck in stage or slipping
listed with it) — each one the account-executive's to work, with the evidence that named it.

``GET /api/stalls`` is ``saleslead stalls --json``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response

from saleslead.csvsafe import csv_text
from saleslead.forecast.schemas import StallsRequest, StallsResult
from saleslead.format import currency_symbol
from saleslead.seat import Seat
from saleslead.web.charts import PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, render, seat

__all__ = ["router"]

router = APIRouter(tags=["forecast"])
#: Rows in the page's table (largest amounts first); the chart and ``/api/stalls`` hold every stalled deal.
SHOWN = 250
AsOf = Annotated[date | None, Query(description="as of the end of this date (default: the last snapshot)")]


@router.get("/api/stalls", response_model=StallsResult, dependencies=[ReadAccess])
def stalls_api(as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    """Stalled open deals with their reasons, for the account executive."""
    return JSONResponse(s.read(Seat.stalls, StallsRequest(as_of=as_of)).model_dump(mode="json"))


def _chart(result: StallsResult) -> dict[str, Any]:
    stages = list(dict.fromkeys(i.stage for i in result.items))
    data = []
    for n, stage in enumerate(stages):
        items = [i for i in result.items if i.stage == stage]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": stage,
                "x": [i.days_in_stage for i in items],
                "y": [i.amount for i in items],
                "customdata": [[i.name or i.opportunity_id, i.pushes, i.segment] for i in items],
                "marker": {
                    "color": PALETTE[n % len(PALETTE)],
                    "size": [8 + 3 * min(i.pushes, 6) for i in items],
                    "opacity": 0.75,
                    "line": {"width": 0.5, "color": "#ffffff"},
                },
                "hovertemplate": "%{customdata[0]}<br>%{customdata[2]} · %{x} days in "
                + stage
                + " · %{customdata[1]} pushes<br>%{y:$,.0f}<extra></extra>",
            }
        )
    return figure(
        data,
        height=380,
        xaxis={"title": {"text": "days in stage"}},
        yaxis={"title": {"text": "amount"}, "tickprefix": currency_symbol(), "tickformat": "~s", "type": "log"},
    )


STALL_COLUMNS = (
    "opportunity_id", "name", "owner_name", "owner_id", "segment", "stage", "amount", "close_date", "past_due_days",
    "days_in_stage", "stage_p90_days", "pushes", "quiet_days", "to_role",
)  # fmt: skip


@router.get("/stalls.csv", include_in_schema=False, dependencies=[ReadAccess])
def stalls_download(as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    result = s.read(Seat.stalls, StallsRequest(as_of=as_of))
    rows = [[*(getattr(i, c) for c in STALL_COLUMNS), "; ".join(r.text for r in i.risks)] for i in result.items]
    return PlainTextResponse(
        csv_text([*STALL_COLUMNS, "risks"], rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stalls-{result.as_of}.csv"'},
    )


@router.get("/stalls", include_in_schema=False, dependencies=[ReadAccess])
def stalls_page(request: Request, as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    result = s.read(Seat.stalls, StallsRequest(as_of=as_of))
    return render(
        request,
        "stalls.html",
        page="stalls",
        r=result,
        rows=sorted(result.items, key=lambda i: -i.amount)[:SHOWN],
        as_of=result.as_of,
        total=sum(i.amount for i in result.items),
        chart=figure_json(_chart(result)),
    )
