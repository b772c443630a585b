"""The handoffs page: the outbox of work handed to other roles, filterable by role and status.

``GET /api/handoffs`` is the outbox (``HandoffList``); ``POST /api/handoffs/update`` acknowledges a handoff
or marks it done (a write: token).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from saleslead.role.desk import HandoffList, HandoffsRequest, HandoffUpdate
from saleslead.role.handoffs import Handoff, HandoffStatus
from saleslead.role.schema import load_role
from saleslead.seat import Seat
from saleslead.web.charts import figure, figure_json
from saleslead.web.context import ReadAccess, SeatHolder, WriteAccess, render, seat

__all__ = ["router"]

router = APIRouter(tags=["fleet"])
STATUSES: tuple[str, ...] = get_args(HandoffStatus)
_STATUS_COLOURS = {"open": "#f59e0b", "acknowledged": "#2563eb", "done": "#0f9d8a"}
Status = Annotated[HandoffStatus | None, Query(description="only handoffs in this status")]
Role = Annotated[str | None, Query(description="only handoffs to this role")]


@router.get("/api/handoffs", response_model=HandoffList, dependencies=[ReadAccess])
def handoffs_api(status: Status = None, to_role: Role = None, s: SeatHolder = Depends(seat)) -> Response:
    """The outbox, in issue order."""
    return JSONResponse(s.read(Seat.handoffs, HandoffsRequest(status=status, to_role=to_role)).model_dump(mode="json"))


@router.post("/api/handoffs/update", response_model=Handoff, dependencies=[WriteAccess])
def update_api(request: HandoffUpdate, s: SeatHolder = Depends(seat)) -> Response:
    """Acknowledge a handoff or mark it done (statuses only move forward); a write, so it needs the token."""
    return JSONResponse(s.write(Seat.update_handoff, request).model_dump(mode="json"))


def _chart(handoffs: list[Handoff], roles: list[str]) -> dict[str, Any]:
    counts: Counter[tuple[str, str]] = Counter((h.to_role, str(h.status)) for h in handoffs)
    data = [
        {
            "type": "bar",
            "name": status,
            "x": roles,
            "y": [counts[(role, status)] for role in roles],
            "marker": {"color": _STATUS_COLOURS[status]},
            "hovertemplate": "%{x}: %{y} " + status + "<extra></extra>",
        }
        for status in STATUSES
    ]
    return figure(
        data,
        height=280,
        barmode="stack",
        legend={"traceorder": "normal"},
        yaxis={"title": {"text": "handoffs"}, "rangemode": "tozero", "tickformat": ",d"},
    )


def _summary(handoff: Handoff) -> str:
    """What the payload carries, in a few words."""
    parts = []
    for name, value in handoff.payload.items():
        if isinstance(value, list):
            parts.append(f"{len(value)} {name}")
        elif isinstance(value, dict):
            inner = next((v for v in value.values() if isinstance(v, list)), None)
            parts.append(f"{name} ({len(inner)})" if inner is not None else name)
        else:
            parts.append(f"{name}: {value}")
    return ", ".join(parts)


@router.get("/handoffs", include_in_schema=False, dependencies=[ReadAccess])
def handoffs_page(
    request: Request, status: Status = None, to_role: Role = None, s: SeatHolder = Depends(seat)
) -> Response:
    outbox = s.read(Seat.handoffs, HandoffsRequest(status=status, to_role=to_role))
    roles = sorted({b.owner for b in load_role().boundaries} | {h.to_role for h in outbox.handoffs})
    return render(
        request,
        "handoffs.html",
        page="handoffs",
        outbox=outbox,
        rows=[(h, _summary(h)) for h in reversed(outbox.handoffs)],
        roles=roles,
        statuses=STATUSES,
        status=status,
        to_role=to_role,
        chart=figure_json(_chart(outbox.handoffs, roles)),
    )
