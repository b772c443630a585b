"""One module per page: each holds the page and its JSON endpoints."""

from __future__ import annotations

from fastapi import APIRouter

from saleslead.web.routes import call, coverage, handoffs, roster, status, strategy

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    status.router,
    call.router,
    coverage.router,
    roster.router,
    strategy.router,
    handoffs.router,
)
