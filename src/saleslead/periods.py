"""Periods ("2026-Q1", "2026-03", "FY2026") with a configurable fiscal start month, and as-of arithmetic.

A fiscal year is named after the calendar year in which it *ends*... unless it starts in January,
when the two coincide. With ``fiscal_start_month=2`` (February), FY2026 runs 2025-02-01..2026-01-31
and "2026-Q1" is 2025-02-01..2025-04-30.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from saleslead.errors import InputError

__all__ = ["DAY_WINDOW", "Period", "check_day", "parse_date", "week_index", "weeks_between"]

#: Every date a request may name: beyond it, date arithmetic (a quarter's end, the day after) overflows.
DAY_WINDOW = (date(1970, 1, 1), date(2199, 12, 31))


def check_day(day: date, what: str = "date") -> date:
    """``day`` itself, or an :class:`InputError` when it lies outside :data:`DAY_WINDOW`."""
    low, high = DAY_WINDOW
    if not low <= day <= high:
        raise InputError(
            f"{what} {day.isoformat()} is out of range",
            column=what.lstrip("-").replace("-", "_"),
            hint=f"expected a date from {low} to {high}",
        )
    return day


_QUARTER = re.compile(r"^(?:FY)?(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^FY(\d{4})$", re.IGNORECASE)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _fiscal_year_start(year: int, fiscal_start_month: int) -> date:
    return date(year if fiscal_start_month == 1 else year - 1, fiscal_start_month, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A half-open span of days ``[start, end)`` with a name."""

    start: date
    end: date  # exclusive
    name: str
    fiscal_start_month: int = field(default=1, compare=False)

    @classmethod
    def parse(cls, text: str, fiscal_start_month: int = 1) -> Period:
        """Parse ``YYYY-Qn``, ``YYYY-MM`` or ``FYYYYY``."""
        value = text.strip()
        if not 1 <= fiscal_start_month <= 12:
            raise InputError(f"fiscal start month must be 1..12, got {fiscal_start_month}")
        written = re.search(r"\d{4}", value)
        if written is not None and not DAY_WINDOW[0].year < int(written.group()) < DAY_WINDOW[1].year:
            raise InputError(
                f"the period {value!r} is out of range",
                column="period",
                hint=f"expected a year after {DAY_WINDOW[0].year} and before {DAY_WINDOW[1].year}",
            )
        if match := _QUARTER.match(value):
            year, quarter = int(match.group(1)), int(match.group(2))
            start = _add_months(_fiscal_year_start(year, fiscal_start_month), 3 * (quarter - 1))
            return cls(start, _add_months(start, 3), f"{year}-Q{quarter}", fiscal_start_month)
        if match := _YEAR.match(value):
            start = _fiscal_year_start(int(match.group(1)), fiscal_start_month)
            return cls(start, _add_months(start, 12), f"FY{match.group(1)}", fiscal_start_month)
        if match := _MONTH.match(value):
            year, month = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12:
                start = date(year, month, 1)
                return cls(start, _add_months(start, 1), f"{year}-{month:02d}", fiscal_start_month)
        raise InputError(f"not a period: {text!r}", hint="write periods as YYYY-Qn, YYYY-MM or FYYYYY")

    @classmethod
    def quarter_of(cls, day: date, fiscal_start_month: int = 1) -> Period:
        """The fiscal quarter that contains ``day``."""
        months_in = (day.month - fiscal_start_month) % 12
        first = date(day.year, day.month, 1)
        fy_start = _add_months(first, -months_in)
        fy_name = fy_start.year if fiscal_start_month == 1 else fy_start.year + 1
        start = _add_months(fy_start, 3 * (months_in // 3))
        return cls(start, _add_months(start, 3), f"{fy_name}-Q{months_in // 3 + 1}", fiscal_start_month)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def shift(self, steps: int) -> Period:
        """The period of the same length ``steps`` later (negative: earlier)."""
        start = _add_months(self.start, self.months * steps)
        if self.months == 3:
            return Period.quarter_of(start, self.fiscal_start_month)
        if self.months == 12:
            name = start.year if self.fiscal_start_month == 1 else start.year + 1
            return Period(start, _add_months(start, 12), f"FY{name}", self.fiscal_start_month)
        return Period(
            start, _add_months(start, self.months), f"{start.year}-{start.month:02d}", self.fiscal_start_month
        )

    def weeks(self) -> Iterator[date]:
        """The first day of each week of the period (week 1 starts on the period's first day)."""
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=7)

    def __str__(self) -> str:
        return self.name


def week_index(period: Period, as_of: date) -> int:
    """1-based week of the period in which ``as_of`` falls (0 before the period, clipped at the end)."""
    if as_of < period.start:
        return 0
    return min((as_of - period.start).days // 7 + 1, (period.days + 6) // 7)


def weeks_between(start: date, end: date) -> float:
    return (end - start).days / 7.0


def parse_date(text: str | date | datetime, what: str = "date") -> date:
    """Parse an ISO date given on a command line or in a request."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} must be an ISO date (YYYY-MM-DD), got {text!r}") from None
    return check_day(day, what)
