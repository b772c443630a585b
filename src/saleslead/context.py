"""What every desk of the seat shares: the store, the settings, the engagement and the clock.

The seat (:class:`saleslead.seat.Seat`) is composed of desks — data, strategy, targets, roster,
forecast and fleet — each an object holding its own state. They all read one :class:`SeatContext`;
a desk that needs another desk's actions gets it passed in (typed by a Protocol), never looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from saleslead.format import use_currency
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.answers import Answers, Shelf, shelf_root
from saleslead.store.records import Records

__all__ = ["Desk", "Progress", "SeatContext"]

Progress = Callable[[str, int, int], None]


@dataclass
class SeatContext:
    """The state one seat carries: every desk reads it; only the seat replaces its parts (e.g. the clock)."""

    store: Store
    settings: Settings
    engagement: str
    clock: Callable[[], date]
    #: where answers are kept (default: beside the store, see :func:`~saleslead.store.answers.shelf_root`)
    shelf: Shelf | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        use_currency(self.settings.currency)

    def use(self, settings: Settings) -> None:
        """Compute with these settings from now on (and write amounts in their currency)."""
        self.settings = settings
        use_currency(settings.currency)

    @property
    def records(self) -> Records:
        return Records(self.store, self.engagement)

    @property
    def answers(self) -> Answers:
        """The store's materialised answers, read with the seat's current settings and engagement."""
        if self.shelf is None:
            self.shelf = Shelf(shelf_root(self.store.location))
        return Answers(self.store, self.settings, self.engagement, self.shelf)

    def today(self) -> date:
        """The default as-of date: the end of the store's last snapshot, or the clock's today if that is earlier.

        On an export taken weeks ago, "today" would see a quarter the data never reached (closed-won to date: 0);
        the last day the store describes is the honest default. A store with nothing ingested uses the clock.
        """
        clock = self.clock()
        through = self.data_through()
        return min(clock, through) if through is not None else clock

    def data_through(self) -> date | None:
        """The date of the store's latest snapshot (the newest ingest's ``snapshot_at``), or None when empty."""
        ingests = self.store.table("ingests")
        value = ingests.snapshot_at.max().execute()
        if value is None or value != value:  # NULL or NaT on an empty table
            return None
        return date.fromisoformat(str(value)[:10])

    def period(self, text: str | None = None, as_of: date | None = None) -> Period:
        """The period named ``text`` (fiscal calendar of the settings), else the quarter holding ``as_of`` or today."""
        if text:
            return Period.parse(text, self.settings.fiscal_start_month)
        return Period.quarter_of(as_of or self.today(), self.settings.fiscal_start_month)


class Desk:
    """A desk of the seat: its actions over the shared context (read through these short names)."""

    def __init__(self, context: SeatContext) -> None:
        self.context = context

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def engagement(self) -> str:
        return self.context.engagement

    @property
    def records(self) -> Records:
        return self.context.records

    @property
    def answers(self) -> Answers:
        return self.context.answers

    def today(self) -> date:
        return self.context.today()

    def period(self, text: str | None = None, as_of: date | None = None) -> Period:
        return self.context.period(text, as_of)
