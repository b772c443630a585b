"""Mandate 4 — forecast and call the number: the seat's actions for this package (a mixin of the seat)."""

from __future__ import annotations

from saleslead.context import Progress, SeatContext
from saleslead.forecast.outlook import forecast_result, run_outlook
from saleslead.forecast.schemas import ForecastRequest, ForecastResult

__all__ = ["ForecastDesk"]


class ForecastDesk(SeatContext):
    """Mandate 4 — forecast and call the number."""

    def forecast(self, request: ForecastRequest, progress: Progress | None = None) -> ForecastResult:
        """Call the period's number as of a date: P10/P50/P90 for the total, every node and segment."""
        as_of = request.as_of or self.today()
        period = self.period(request.period, as_of)
        outlook = run_outlook(self.store, self.settings, period, as_of, request.scenarios, progress)
        return forecast_result(outlook, self.settings, request.by, request.deals)
