"""Mandate 1 — own the sales strategy: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import SeatContext

__all__ = ["StrategyDesk"]


class StrategyDesk(SeatContext):
    """Mandate 1 — own the sales strategy."""
