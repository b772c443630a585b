"""The accuracy page: submitted calls against what was booked, per node — each node's bias raw and shrunk
toward the team, so a node with two calls is not judged on two calls alone.

``GET /api/accuracy`` is ``saleslead accuracy --json``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.forecast.schemas import AccuracyRequest, AccuracyResult
from saleslead.seat import Seat
from saleslead.web.charts import INK, PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, render, seat

__all__ = ["router"]

router = APIRouter(tags=["forecast"])
AsOf = Annotated[date | None, Query(description="judge the calls of periods ended by this date (default: today)")]


@router.get("/api/accuracy", response_model=AccuracyResult, dependencies=[ReadAccess])
def accuracy_api(as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    """Calls against actuals per node: mean relative error, bias shrunk toward the team."""
    return JSONResponse(s.read(Seat.forecast_accuracy, AccuracyRequest(as_of=as_of)).model_dump(mode="json"))


def _chart(result: AccuracyResult) -> dict[str, Any]:
    nodes = [r.node for r in result.rows]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "bias, raw",
            "x": nodes,
            "y": [r.mean_error for r in result.rows],
            "marker": {"color": PALETTE[2]},
            "customdata": [r.calls for r in result.rows],
            "hovertemplate": "%{x}: %{y:+.1%} over %{customdata} calls<extra></extra>",
        },
        {
            "type": "bar",
            "name": "bias, shrunk toward the team",
            "x": nodes,
            "y": [r.bias_shrunk for r in result.rows],
            "marker": {"color": PALETTE[0]},
            "hovertemplate": "%{x}: %{y:+.1%} shrunk<extra></extra>",
        },
    ]
    shapes = []
    if result.team_bias is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": result.team_bias,
                "y1": result.team_bias,
                "line": {"color": INK, "dash": "dash", "width": 1.5},
            }
        )
    return figure(
        data,
        height=340,
        barmode="group",
        shapes=shapes,
        xaxis={"type": "category", "title": {"text": "node"}},
        yaxis={"tickformat": "+.0%", "title": {"text": "(call − actual) ÷ actual"}, "zeroline": True},
    )


@router.get("/accuracy", include_in_schema=False, dependencies=[ReadAccess])
def accuracy_page(request: Request, as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    result = s.read(Seat.forecast_accuracy, AccuracyRequest(as_of=as_of))
    return render(
        request, "accuracy.html", page="accuracy", a=result, as_of=result.as_of, chart=figure_json(_chart(result))
    )
