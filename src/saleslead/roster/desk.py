"""Mandate 3 — build and manage the roster: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import SeatContext

__all__ = ["RosterDesk"]


class RosterDesk(SeatContext):
    """Mandate 3 — build and manage the roster."""
