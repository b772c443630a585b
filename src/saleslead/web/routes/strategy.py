"""The strategy page: the scorecard as a heatmap of recommendations, each cell with its evidence.

``GET /api/strategy/scorecard`` is ``saleslead strategy score --json``; ``GET /api/strategy`` the strategy
decided (``strategy show``); ``POST /api/strategy/decide`` records a new version (a write: token).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.seat import Seat
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView
from saleslead.strategy.rules import RECOMMENDATIONS
from saleslead.strategy.scorecard import CellScore, Scorecard, ScoreRequest, parse_dimensions
from saleslead.web.charts import RECOMMENDATION_COLOURS, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, WriteAccess, render, seat

__all__ = ["router"]

router = APIRouter(tags=["strategy"])
AsOf = Annotated[date | None, Query(description="score as of the end of this date (default: today)")]
By = Annotated[
    str, Query(description="dimensions of a cell, comma-separated: segment, motion, channel, product, industry")
]
Lookback = Annotated[int, Query(ge=1, le=60, description="months of decided deals scored")]


def _score(holder: SeatHolder, as_of: date | None, by: str, lookback_months: int) -> Scorecard:
    request = ScoreRequest(as_of=as_of, by=parse_dimensions(by), lookback_months=lookback_months)
    return holder.read(Seat.strategy_score, request)


@router.get("/api/strategy/scorecard", response_model=Scorecard, dependencies=[ReadAccess])
def scorecard_api(
    as_of: AsOf = None, by: By = "segment,motion,channel", lookback_months: Lookback = 12, s: SeatHolder = Depends(seat)
) -> Response:
    """The ``saleslead strategy score --json`` scorecard."""
    return JSONResponse(_score(s, as_of, by, lookback_months).model_dump(mode="json"))


@router.get("/api/strategy", response_model=StrategyView, dependencies=[ReadAccess])
def strategy_api(
    version: Annotated[int | None, Query(ge=1, description="a version (default: the latest)")] = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    """The strategy decided (``saleslead strategy show --json``)."""
    return JSONResponse(s.read(Seat.strategy_show, ShowRequest(version=version)).model_dump(mode="json"))


@router.post("/api/strategy/decide", response_model=StrategyDecision, dependencies=[WriteAccess])
def decide_api(request: DecideRequest, s: SeatHolder = Depends(seat)) -> Response:
    """Record the strategy from the scorecard (a new version); a write, so it needs the token."""
    return JSONResponse(s.write(Seat.strategy_decide, request).model_dump(mode="json"))


def _heatmap(card: Scorecard) -> dict[str, Any]:
    dims = card.dimensions
    rows_dim, cols_dims = dims[0], dims[1:]

    def col(cell: CellScore) -> str:
        return " / ".join(str(getattr(cell, d)) for d in cols_dims) if cols_dims else "all"

    rows = sorted({str(getattr(c, rows_dim)) for c in card.cells})
    cols = sorted({col(c) for c in card.cells})
    code = {r: i for i, r in enumerate(RECOMMENDATIONS)}
    z: list[list[int | None]] = [[None] * len(cols) for _ in rows]
    text: list[list[str]] = [[""] * len(cols) for _ in rows]
    hover: list[list[str]] = [[""] * len(cols) for _ in rows]
    for c in card.cells:
        i, j = rows.index(str(getattr(c, rows_dim))), cols.index(col(c))
        z[i][j] = code[c.recommendation]
        win = "—" if c.win_rate is None else f"{c.win_rate:.0%}"
        text[i][j] = f"{win}<br>{c.deals:,}"
        yield_ = "—" if c.yield_ is None else f"{c.yield_:.0%}"
        hover[i][j] = (
            f"<b>{c.key}</b><br>{c.recommendation}<br>win rate {win} of {c.deals:,} decided"
            f"<br>yield {yield_}<br>trend {c.trend.direction}"
        )
    n = len(RECOMMENDATIONS)
    scale = []
    for i, name in enumerate(RECOMMENDATIONS):
        scale += [[i / n, RECOMMENDATION_COLOURS[name]], [(i + 1) / n, RECOMMENDATION_COLOURS[name]]]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": cols,
        "y": rows,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"color": "#ffffff", "size": 11},
        "customdata": hover,
        "hovertemplate": "%{customdata}<extra></extra>",
        "colorscale": scale,
        "zmin": -0.5,
        "zmax": n - 0.5,
        "xgap": 3,
        "ygap": 3,
        "colorbar": {
            "tickvals": list(range(n)),
            "ticktext": list(RECOMMENDATIONS),
            "thickness": 12,
            "outlinewidth": 0,
        },
    }
    return figure(
        [trace],
        height=max(260, 70 * len(rows) + 150),
        xaxis={"tickangle": -30, "side": "bottom", "showgrid": False, "title": {"text": " / ".join(cols_dims)}},
        yaxis={"showgrid": False, "title": {"text": rows_dim}, "autorange": "reversed"},
        margin={"l": 110, "b": 140},
    )


@router.get("/strategy", include_in_schema=False, dependencies=[ReadAccess])
def strategy_page(
    request: Request,
    as_of: AsOf = None,
    by: By = "segment,motion,channel",
    lookback_months: Lookback = 12,
    s: SeatHolder = Depends(seat),
) -> Response:
    card = _score(s, as_of, by, lookback_months)
    order = {r: i for i, r in enumerate(RECOMMENDATIONS)}
    cells = sorted(card.cells, key=lambda c: (order[c.recommendation], -(c.velocity or 0.0)))
    return render(
        request,
        "strategy.html",
        page="strategy",
        card=card,
        cells=cells,
        as_of=card.as_of,
        by=",".join(card.dimensions),
        lookback_months=card.lookback_months,
        heatmap=figure_json(_heatmap(card)),
    )
