"""The coverage page: reported coverage against required by segment, week over week, with flags and the
creation gaps handed to the sales-development-rep.

``GET /api/coverage`` is ``saleslead coverage --json``; ``GET /api/targets/defend`` is ``saleslead targets
defend --json`` (it records each new flag once, as the CLI does); ``GET /api/targets`` the saved plans;
``POST /api/targets`` sets a period's targets (a write: token).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.format import currency_symbol
from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.targets.coverage import Coverage
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsRequest, TargetsShown, TargetsShowRequest
from saleslead.targets.plan import TargetPlan
from saleslead.web.charts import INK, PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, WriteAccess, config_of, render, seat

__all__ = ["router"]

router = APIRouter(tags=["targets"])
AsOf = Annotated[date | None, Query(description="as of the end of this date (default: today)")]
PeriodQuery = Annotated[str | None, Query(description="a period such as 2026-Q4 (default: the quarter of as_of)")]
Weeks = Annotated[int, Query(ge=1, le=26, description="weeks of coverage to look back on")]


def _period(request: Request, holder: SeatHolder, period: str | None, as_of: date | None) -> str:
    if period:
        return period
    fiscal = config_of(request).settings.fiscal_start_month
    return Period.quarter_of(as_of or holder.today(), fiscal).name


@router.get("/api/coverage", response_model=Coverage, dependencies=[ReadAccess])
def coverage_api(
    request: Request,
    period: PeriodQuery = None,
    as_of: AsOf = None,
    goal: Annotated[float | None, Query(gt=0, description="use this goal instead of the plan")] = None,
    periods: Annotated[int, Query(ge=1, le=12, description="earlier periods conversion is measured on")] = 4,
    s: SeatHolder = Depends(seat),
) -> Response:
    """Coverage two ways (reported and real) with the gap, in total and by segment."""
    asked = CoverageRequest(period=_period(request, s, period, as_of), as_of=as_of, goal=goal, periods=periods)
    return JSONResponse(s.read(Seat.coverage, asked).model_dump(mode="json"))


@router.get("/api/targets/defend", response_model=Defense, dependencies=[ReadAccess])
def defend_api(
    request: Request, period: PeriodQuery = None, as_of: AsOf = None, weeks: Weeks = 6, s: SeatHolder = Depends(seat)
) -> Response:
    """Coverage week over week, the flags (each recorded once) and the creation gaps for the SDRs."""
    asked = DefendRequest(period=_period(request, s, period, as_of), as_of=as_of, weeks=weeks)
    return JSONResponse(s.read(Seat.defend_targets, asked).model_dump(mode="json"))


@router.get("/api/targets", response_model=TargetsShown, dependencies=[ReadAccess])
def targets_api(
    period: Annotated[str | None, Query(description="every version of this period's plan")] = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    """Saved target plans: the latest of every period, or every version of one."""
    return JSONResponse(s.read(Seat.targets, TargetsShowRequest(period=period)).model_dump(mode="json"))


@router.post("/api/targets", response_model=TargetPlan, dependencies=[WriteAccess])
def set_targets_api(request: TargetsRequest, s: SeatHolder = Depends(seat)) -> Response:
    """Set a period's targets (saved as a new plan version); a write, so it needs the token."""
    return JSONResponse(s.write(Seat.set_targets, request).model_dump(mode="json"))


def _weekly_chart(defense: Defense) -> dict[str, Any]:
    names = list(dict.fromkeys(w.segment for w in defense.weekly))
    data: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        rows = [w for w in defense.weekly if w.segment == name]
        days = [w.as_of.isoformat() for w in rows]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{name} reported",
                "legendgroup": name,
                "x": days,
                "y": [w.reported_coverage for w in rows],
                "line": {"color": colour, "width": 3 if i == 0 else 2},
                "hovertemplate": name + " reported %{y:.2f}× on %{x}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{name} required",
                "legendgroup": name,
                "x": days,
                "y": [w.required_coverage for w in rows],
                "line": {"color": colour, "dash": "dash", "width": 1.5},
                "hovertemplate": name + " required %{y:.2f}× on %{x}<extra></extra>",
            }
        )
    whole = [w for w in defense.weekly if w.segment == (names[0] if names else "")]
    if whole:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{names[0]} real (right axis)",
                "x": [w.as_of.isoformat() for w in whole],
                "y": [w.real_coverage for w in whole],
                "yaxis": "y2",
                "line": {"color": PALETTE[3], "dash": "dot", "width": 2},
                "marker": {"symbol": "diamond"},
                "hovertemplate": names[0] + " real %{y:.2f}× on %{x}<extra></extra>",
            }
        )
    return figure(
        data,
        height=380,
        yaxis={"title": {"text": "coverage (pipeline ÷ remaining)"}, "ticksuffix": "×", "rangemode": "tozero"},
        yaxis2=_RATIO_AXIS,
    )


def _error(values: list[float | None], bounds: list[float | None]) -> list[float | None]:
    """Distances from each value to its bound (for Plotly's asymmetric error bars)."""
    return [abs(b - v) if v is not None and b is not None else None for v, b in zip(values, bounds, strict=True)]


#: the right-hand axis: real coverage is a ratio (1.0× = the expected bookings cover what is left)
_RATIO_AXIS = {
    "title": {"text": "real coverage (expected ÷ remaining)"},
    "overlaying": "y",
    "side": "right",
    "ticksuffix": "×",
    "rangemode": "tozero",
    "showgrid": False,
    "zeroline": False,
    "automargin": True,
}


def _segment_chart(cov: Coverage) -> dict[str, Any]:
    """Multiples of what is left (reported, required) as bars on the left axis; the ratio of expected bookings to
    what is left (real coverage, P10–P90) as markers on the right axis with the 1.0× line — scales apart."""
    lines = cov.segments
    names = [line.segment for line in lines]
    required = [line.required_coverage for line in lines]
    real = [line.real_coverage for line in lines]
    return figure(
        [
            {"type": "bar", "name": "reported (pipeline ÷ remaining)", "x": names,
             "y": [x.reported_coverage for x in lines], "marker": {"color": PALETTE[0]}},
            {"type": "bar", "name": "required", "x": names, "y": required, "marker": {"color": "#cbd2d9"},
             "error_y": {"type": "data", "symmetric": False, "color": "#52606d",
                         "array": _error(required, [x.required_coverage_high for x in lines]),
                         "arrayminus": _error(required, [x.required_coverage_low for x in lines])}},
            {"type": "scatter", "mode": "markers", "name": "real (expected ÷ remaining, P10–P90)", "x": names,
             "y": real, "yaxis": "y2", "marker": {"color": PALETTE[3], "size": 12, "symbol": "diamond"},
             "error_y": {"type": "data", "symmetric": False, "color": PALETTE[3],
                         "array": _error(real, [x.real_coverage_high for x in lines]),
                         "arrayminus": _error(real, [x.real_coverage_low for x in lines])},
             "hovertemplate": "%{x}: real coverage %{y:.2f}×<extra></extra>"},
        ],
        height=340,
        barmode="group",
        yaxis={"title": {"text": "multiple of what is left"}, "ticksuffix": "×", "rangemode": "tozero"},
        yaxis2=_RATIO_AXIS,
        shapes=[{"type": "line", "xref": "paper", "yref": "y2", "x0": 0, "x1": 1, "y0": 1, "y1": 1,
                 "line": {"color": PALETTE[3], "dash": "dot", "width": 1}}],
    )  # fmt: skip


def _creation_chart(defense: Defense) -> dict[str, Any]:
    """Pipeline created each week, stacked by segment, against the weekly creation the targets need (the line)."""
    weeks = sorted({w.week_start for w in defense.creation})
    names = list(dict.fromkeys(w.segment for w in defense.creation))
    need = {n: next(w.required for w in defense.creation if w.segment == n) for n in names}
    data: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        got = {w.week_start: w for w in defense.creation if w.segment == name}
        data.append(
            {
                "type": "bar",
                "name": f"{name} created",
                "x": [str(d) for d in weeks],
                "y": [got[d].created if d in got else 0.0 for d in weeks],
                "customdata": [[got[d].created_deals if d in got else 0, need[name]] for d in weeks],
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": name + " week of %{x}: %{y:$,.0f} created in %{customdata[0]} deals "
                "(needs %{customdata[1]:$,.0f} a week)<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "needed a week (all segments)",
            "x": [str(d) for d in weeks],
            "y": [sum(need.values())] * len(weeks),
            "line": {"color": INK, "dash": "dash", "width": 2},
            "hovertemplate": "needed %{y:$,.0f} a week<extra></extra>",
        }
    )
    return figure(
        data,
        height=340,
        barmode="stack",
        xaxis={"title": {"text": "week starting"}, "type": "date"},
        yaxis={
            "title": {"text": "pipeline created"},
            "tickprefix": currency_symbol(),
            "tickformat": "~s",
            "rangemode": "tozero",
        },
    )


@router.get("/coverage", include_in_schema=False, dependencies=[ReadAccess])
def coverage_page(
    request: Request, period: PeriodQuery = None, as_of: AsOf = None, weeks: Weeks = 6, s: SeatHolder = Depends(seat)
) -> Response:
    asked = DefendRequest(period=_period(request, s, period, as_of), as_of=as_of, weeks=weeks)
    defense = s.read(Seat.defend_targets, asked)
    return render(
        request,
        "coverage.html",
        page="coverage",
        d=defense,
        cov=defense.coverage,
        as_of=defense.as_of,
        period=defense.period,
        weeks=weeks,
        weekly_chart=figure_json(_weekly_chart(defense)),
        segment_chart=figure_json(_segment_chart(defense.coverage)),
        creation_chart=figure_json(_creation_chart(defense)) if defense.creation else None,
    )
