"""The waterfall page: how a period's pipeline moved between two dates — created, pulled in, pushed out,
amounts changed, won, lost — reconciling exactly from start to end.

``GET /api/waterfall`` is ``saleslead waterfall --json``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.forecast.schemas import WaterfallRequest, WaterfallResult
from saleslead.format import currency_symbol, money
from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.web.charts import PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, config_of, render, seat

__all__ = ["router"]

router = APIRouter(tags=["forecast"])
PeriodQuery = Annotated[str | None, Query(description="the period whose pipeline moves (default: the quarter of end)")]
Start = Annotated[date | None, Query(description="from the end of this date (default: the day before the period)")]
End = Annotated[date | None, Query(description="to the end of this date (default: today)")]


def _request(
    request: Request, holder: SeatHolder, period: str | None, start: date | None, end: date | None
) -> WaterfallRequest:
    end = end or holder.today()
    fiscal = config_of(request).settings.fiscal_start_month
    shown = Period.parse(period, fiscal) if period else Period.quarter_of(end, fiscal)
    return WaterfallRequest(period=shown.name, start=start or shown.start - timedelta(days=1), end=end)


@router.get("/api/waterfall", response_model=WaterfallResult, dependencies=[ReadAccess])
def waterfall_api(
    request: Request, period: PeriodQuery = None, start: Start = None, end: End = None, s: SeatHolder = Depends(seat)
) -> Response:
    """The period's pipeline from ``start`` to ``end``, step by step."""
    return JSONResponse(s.read(Seat.waterfall, _request(request, s, period, start, end)).model_dump(mode="json"))


STEPS: tuple[tuple[str, str, int], ...] = (
    ("created", "created", 1),
    ("pulled in", "pulled_in", 1),
    ("pushed out", "pushed_out", -1),
    ("amount up", "amount_up", 1),
    ("amount down", "amount_down", -1),
    ("won", "won", -1),
    ("lost", "lost", -1),
)


def _chart(w: WaterfallResult) -> dict[str, Any]:
    labels = [f"pipeline {w.start}"] + [name for name, _, _ in STEPS] + [f"pipeline {w.end}"]
    values = [w.starting_pipeline] + [sign * getattr(w, field) for _, field, sign in STEPS] + [w.ending_pipeline]
    return figure(
        [
            {
                "type": "waterfall",
                "x": labels,
                "y": values,
                "measure": ["absolute"] + ["relative"] * len(STEPS) + ["total"],
                "connector": {"line": {"color": "#9aa5b1", "dash": "dot"}},
                "increasing": {"marker": {"color": PALETTE[1]}},
                "decreasing": {"marker": {"color": PALETTE[3]}},
                "totals": {"marker": {"color": PALETTE[0]}},
                "text": [money(abs(v)) for v in values],
                "textposition": "outside",
                "hovertemplate": "%{x}: " + currency_symbol() + "%{y:,.0f}<extra></extra>",
            }
        ],
        height=420,
        showlegend=False,
        yaxis={"tickprefix": currency_symbol(), "tickformat": "~s"},
    )


@router.get("/waterfall", include_in_schema=False, dependencies=[ReadAccess])
def waterfall_page(
    request: Request, period: PeriodQuery = None, start: Start = None, end: End = None, s: SeatHolder = Depends(seat)
) -> Response:
    w = s.read(Seat.waterfall, _request(request, s, period, start, end))
    steps = [(name, getattr(w, field), sign) for name, field, sign in STEPS]
    return render(request, "waterfall.html", page="waterfall", w=w, steps=steps, chart=figure_json(_chart(w)))
