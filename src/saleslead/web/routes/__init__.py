"""One module per page: each holds the page and its JSON endpoints."""

from __future__ import annotations

from fastapi import APIRouter

from saleslead.web.routes import (
    accuracy,
    call,
    coverage,
    grid,
    handoffs,
    roster,
    stalls,
    status,
    strategy,
    waterfall,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    call.router,
    grid.router,
    coverage.router,
    waterfall.router,
    stalls.router,
    accuracy.router,
    roster.router,
    strategy.router,
    handoffs.router,
)
