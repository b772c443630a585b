"""The roster page: who holds the seats today, and — given a goal — capacity against that goal by month and
the hires planned.

``GET /api/roster`` is ``saleslead roster show --json``; ``GET /api/roster/plan`` computes a plan without
saving it; ``POST /api/roster/plan`` stores it as a new version (a write: token). Without a goal, the plan
takes the period's own (its targets plan or Σ quota, else the previous period's) — the goal the CLI and the
weekly briefing use.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.errors import InputError
from saleslead.format import currency_symbol
from saleslead.periods import Period
from saleslead.roster.desk import RosterShowRequest, RosterView
from saleslead.roster.plan import RosterPlan, RosterPlanRequest
from saleslead.roster.plan_text import reach_label
from saleslead.seat import Seat
from saleslead.web.charts import INK, PALETTE, figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, WriteAccess, config_of, render, seat

__all__ = ["router"]

router = APIRouter(tags=["roster"])
AsOf = Annotated[date | None, Query(description="as of the end of this date (default: today)")]
PeriodQuery = Annotated[str | None, Query(description="the period to staff, e.g. 2027-Q1 (default: the next quarter)")]
Goal = Annotated[
    float | None, Query(gt=0, description="bookings goal of the period, all segments (default: the period's target)")
]
PageGoal = Annotated[str | None, Query(description="bookings goal of the period; empty: the period's target")]
Buffer = Annotated[float, Query(ge=0, le=2, description="capacity must reach goal × (1 + buffer)")]
Scenario = Annotated[Literal["base", "best", "worst"], Query(description="planning scenario")]


@router.get("/api/roster", response_model=RosterView, dependencies=[ReadAccess])
def roster_api(as_of: AsOf = None, s: SeatHolder = Depends(seat)) -> Response:
    """Seats, headcount and ramp by segment, productivity and attainment, as of a date."""
    return JSONResponse(s.read(Seat.roster_show, RosterShowRequest(as_of=as_of)).model_dump(mode="json"))


def _plan_request(
    request: Request,
    holder: SeatHolder,
    period: str | None,
    goal: float | None,
    buffer: float,
    scenario: str,
    as_of: date | None,
) -> RosterPlanRequest:
    if period is None:
        fiscal = config_of(request).settings.fiscal_start_month
        period = Period.quarter_of(as_of or holder.today(), fiscal).shift(1).name
    return RosterPlanRequest(period=period, goal=goal, buffer=buffer, scenario=scenario, as_of=as_of, save=False)


@router.get("/api/roster/plan", response_model=RosterPlan, dependencies=[ReadAccess])
def plan_api(
    request: Request,
    period: PeriodQuery = None,
    goal: Goal = None,
    buffer: Buffer = 0.1,
    scenario: Scenario = "base",
    as_of: AsOf = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    """The fewest AE hires by month and segment that reach the goal, and what binds (not saved)."""
    asked = _plan_request(request, s, period, goal, buffer, scenario, as_of)
    return JSONResponse(s.read(Seat.roster_plan, asked).model_dump(mode="json"))


@router.post("/api/roster/plan", response_model=RosterPlan, dependencies=[WriteAccess])
def save_plan_api(request: RosterPlanRequest, s: SeatHolder = Depends(seat)) -> Response:
    """Plan and store the plan as a new version of kind roster_plan; a write, so it needs the token."""
    return JSONResponse(s.write(Seat.roster_plan, request).model_dump(mode="json"))


def _capacity_chart(plan: RosterPlan) -> dict[str, Any]:
    months = sorted({m.month for m in plan.months})
    segments = list(dict.fromkeys(m.segment for m in plan.months))
    goal: dict[str, float] = defaultdict(float)
    base: dict[str, float] = defaultdict(float)
    data: list[dict[str, Any]] = []
    for i, seg in enumerate(segments):
        rows = {m.month: m for m in plan.months if m.segment == seg}
        for month, m in rows.items():
            goal[month] += m.goal
            base[month] += m.base_capacity
        data.append(
            {
                "type": "bar",
                "name": f"{seg} capacity",
                "x": months,
                "y": [rows[m].capacity if m in rows else 0 for m in months],
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": seg + " %{x}: %{y:$,.0f} expected bookings<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"goal × (1 + {plan.buffer:.0%} buffer)",
            "x": months,
            "y": [goal[m] for m in months],
            "line": {"color": INK, "width": 3},
            "hovertemplate": "goal %{x}: %{y:$,.0f}<extra></extra>",
        }
    )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "capacity without hires",
            "x": months,
            "y": [base[m] for m in months],
            "line": {"color": INK, "width": 1.5, "dash": "dot"},
            "hovertemplate": "without hires %{x}: %{y:$,.0f}<extra></extra>",
        }
    )
    return figure(
        data,
        height=380,
        barmode="stack",
        legend={"traceorder": "normal"},
        xaxis={"type": "category"},
        yaxis={"tickprefix": currency_symbol(), "tickformat": "~s"},
    )


def _headcount_chart(view: RosterView) -> dict[str, Any]:
    names = [s.segment for s in view.segments]
    return figure(
        [
            {
                "type": "bar",
                "name": "AEs",
                "x": names,
                "y": [s.headcount.aes for s in view.segments],
                "marker": {"color": PALETTE[0]},
            },
            {
                "type": "bar",
                "name": "ramped equivalents",
                "x": names,
                "y": [round(s.headcount.ae_ramped_equivalents, 1) for s in view.segments],
                "marker": {"color": PALETTE[1]},
            },
            {
                "type": "bar",
                "name": "SDRs",
                "x": names,
                "y": [s.headcount.sdrs for s in view.segments],
                "marker": {"color": PALETTE[2]},
            },
        ],
        height=320,
        barmode="group",
        yaxis={"title": {"text": "people"}},
    )


def _ramp_chart(view: RosterView) -> dict[str, Any]:
    return figure(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "name": s.segment,
                "x": [p.tenure_month for p in s.ramp.points],
                "y": [p.factor for p in s.ramp.points],
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 2.5},
            }
            for i, s in enumerate(view.segments)
        ],
        height=320,
        xaxis={"title": {"text": "tenure month"}},
        yaxis={"tickformat": ".0%", "title": {"text": "share of ramped productivity"}, "range": [0, 1.05]},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        margin={"t": 40},
    )


def _page_goal(text: str | None) -> float | None:
    """The form's goal: empty means the period's own target."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text.replace(",", "").replace(currency_symbol().strip(), "").replace("$", ""))
    except ValueError:
        raise InputError(
            f"goal must be an amount, got {text!r}", hint="leave it empty for the period's target"
        ) from None
    if value <= 0:
        raise InputError(f"goal must be positive, got {text!r}")
    return value


@router.get("/roster", include_in_schema=False, dependencies=[ReadAccess])
def roster_page(
    request: Request,
    period: PeriodQuery = None,
    goal: PageGoal = None,
    buffer: Buffer = 0.1,
    scenario: Scenario = "base",
    as_of: AsOf = None,
    s: SeatHolder = Depends(seat),
) -> Response:
    amount = _page_goal(goal)
    if amount is None and period is None:
        view = s.read(Seat.roster_show, RosterShowRequest(as_of=as_of))
        return render(
            request,
            "roster.html",
            page="roster",
            view=view,
            plan=None,
            as_of=view.as_of,
            headcount=figure_json(_headcount_chart(view)),
            ramp=figure_json(_ramp_chart(view)),
            next_period=_plan_request(request, s, period, None, buffer, scenario, view.as_of).period,
        )
    plan = s.read(Seat.roster_plan, _plan_request(request, s, period, amount, buffer, scenario, as_of))
    return render(
        request,
        "roster.html",
        page="roster",
        view=None,
        plan=plan,
        asked_goal=amount,
        reach_label=reach_label,
        as_of=plan.as_of,
        capacity=figure_json(_capacity_chart(plan)),
        next_period=plan.period,
    )
