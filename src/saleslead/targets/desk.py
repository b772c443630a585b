"""Mandate 2 — set and defend pipeline targets: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import SeatContext

__all__ = ["TargetsDesk"]


class TargetsDesk(SeatContext):
    """Mandate 2 — set and defend pipeline targets."""
