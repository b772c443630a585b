"""Mandate 4 — forecast and call the number: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import SeatContext

__all__ = ["ForecastDesk"]


class ForecastDesk(SeatContext):
    """Mandate 4 — forecast and call the number."""
