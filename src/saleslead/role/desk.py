"""The seat in the fleet: lanes, handoffs, the weekly cadence: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import SeatContext

__all__ = ["FleetDesk"]


class FleetDesk(SeatContext):
    """The seat in the fleet: lanes, handoffs, the weekly cadence."""
