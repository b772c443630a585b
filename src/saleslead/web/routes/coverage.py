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

from saleslead.periods import Period
from saleslead.seat import Seat
from saleslead.targets.coverage import Coverage
from saleslead.targets.defend import Defense
from saleslead.targets.desk import CoverageRequest, DefendRequest, TargetsRequest, TargetsShown, TargetsShowRequest
from saleslead.targets.plan import TargetPlan
from saleslead.web.charts import PALETTE, figure, figure_json
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
    return figure(data, height=380, yaxis={"title": {"text": "coverage (pipeline ÷ remaining)"}, "ticksuffix": "×"})


def _segment_chart(cov: Coverage) -> dict[str, Any]:
    names = [line.segment for line in cov.segments]
    low = [
        (line.required_coverage - line.required_coverage_low)
        if line.required_coverage is not None and line.required_coverage_low is not None
        else None
        for line in cov.segments
    ]
    high = [
        (line.required_coverage_high - line.required_coverage)
        if line.required_coverage is not None and line.required_coverage_high is not None
        else None
        for line in cov.segments
    ]
    return figure(
        [
            {"type": "bar", "name": "reported", "x": names, "y": [x.reported_coverage for x in cov.segments]},
            {
                "type": "bar",
                "name": "required",
                "x": names,
                "y": [x.required_coverage for x in cov.segments],
                "error_y": {"type": "data", "symmetric": False, "array": high, "arrayminus": low, "color": "#52606d"},
            },
            {"type": "bar", "name": "real", "x": names, "y": [x.real_coverage for x in cov.segments]},
        ],
        height=320,
        barmode="group",
        yaxis={"ticksuffix": "×"},
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
    )
