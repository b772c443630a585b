"""What every mandate's actions on the seat may rely on: the store, settings, engagement, clock.

Each mandate package defines a *desk* — a mixin of :class:`SeatContext` holding that mandate's
actions — and :class:`saleslead.seat.Seat` combines the desks into the one facade.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.records import Records

__all__ = ["Progress", "SeatContext"]

Progress = Callable[[str, int, int], None]


class SeatContext:
    """The state a seat carries; desks read it, never replace it."""

    store: Store
    settings: Settings
    engagement: str
    clock: Callable[[], date]

    @property
    def records(self) -> Records:
        return Records(self.store, self.engagement)

    def today(self) -> date:
        return self.clock()

    def period(self, text: str | None = None, as_of: date | None = None) -> Period:
        """The period named ``text`` (fiscal calendar of the settings), else the quarter holding ``as_of`` or today."""
        if text:
            return Period.parse(text, self.settings.fiscal_start_month)
        return Period.quarter_of(as_of or self.today(), self.settings.fiscal_start_month)
