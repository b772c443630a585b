"""The quota and capacity plan as a reconciliation-ready table for the finance-analyst.

One row per month × seat: the AEs on the roster, each planned hire, and one row per segment-month for
the expected backfills (not yet named people). For a seat of tenure ``τ`` in a month:

* ``presence`` — the chance the seat is still held: ``Π (1 − h − w(τ'))`` over the months since ``as_of``
  (since the start month for a hire);
* ``quota = presence × full quarterly quota ÷ 3 × ramp(τ)``;
* ``expected_bookings = presence × ramp(τ) × productivity × seasonality``;
* ``cost = presence × cost_per_seat_month[role]`` when a cost is given.

The backfill row is what the capacity model expects beyond the named seats, so that for every segment
and month the rows add up to the capacity of the plan exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from saleslead.csvsafe import csv_text
from saleslead.roster.capacity import MonthCapacity
from saleslead.roster.config import RosterConfig
from saleslead.roster.ramp import RampProfile
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.seats import RosterSeat, month_start

__all__ = ["FINANCE_COLUMNS", "FinanceRow", "finance_rows", "rows_to_csv"]

FINANCE_COLUMNS = (
    "month",
    "quarter",
    "seat_id",
    "name",
    "segment",
    "role",
    "status",
    "tenure_month",
    "ramp_factor",
    "presence",
    "quota",
    "expected_bookings",
    "cost",
)


class FinanceRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    quarter: str
    seat_id: str
    name: str | None
    segment: str
    role: str
    status: str  # on roster | planned hire | expected backfills
    tenure_month: int | None
    ramp_factor: float
    presence: float
    quota: float
    expected_bookings: float
    cost: float | None


def _hazard(tenure: int, config: RosterConfig) -> float:
    extra = config.monthly_washout if tenure <= config.washout_months else 0.0
    return min(1.0, config.monthly_attrition + extra)


def finance_rows(
    segment: str,
    seats: list[RosterSeat],
    hires: Mapping[int, int],
    months: list[MonthCapacity],
    first_month: int,
    period_first: int,
    ramp: RampProfile,
    season: Seasonality,
    full_quota: float,
    quarter_of: Mapping[int, str],
    config: RosterConfig,
) -> list[FinanceRow]:
    """Rows of one segment for the months ``period_first..`` of ``months`` (which start at ``first_month``)."""
    cost_month = config.cost_per_seat_month.get("AE")
    holders: list[tuple[str, str | None, str, int, int]] = []  # id, name, status, start month, tenure then
    for s in seats:
        holders.append((s.user_id, s.name, "on roster", first_month - 1, s.tenure_months))
    for start, count in sorted(hires.items()):
        day = month_start(start)
        for k in range(count):
            holders.append((f"hire:{segment}:{day:%Y-%m}:{k + 1}", None, "planned hire", start, 1))
    rows: list[FinanceRow] = []
    for offset, m in enumerate(months):
        t = first_month + offset
        if t < period_first:
            continue
        name = f"{month_start(t):%Y-%m}"
        named_bookings = named_equivalents = named_presence = 0.0
        for seat_id, who, status, start, tenure0 in holders:
            if t < start:
                continue
            presence = 1.0
            for j in range(t - start):
                presence *= 1.0 - _hazard(tenure0 + j, config)
            tenure = tenure0 + (t - start)
            factor = ramp.factor(tenure)
            bookings = presence * factor * m.productivity * m.seasonality
            quota = presence * full_quota / 3.0 * factor
            named_bookings += bookings
            named_equivalents += presence * factor
            named_presence += presence
            rows.append(
                FinanceRow(
                    month=name,
                    quarter=quarter_of[t],
                    seat_id=seat_id,
                    name=who,
                    segment=segment,
                    role="AE",
                    status=status,
                    tenure_month=tenure,
                    ramp_factor=factor,
                    presence=presence,
                    quota=quota,
                    expected_bookings=bookings,
                    cost=presence * cost_month if cost_month is not None else None,
                )
            )
        backfill_presence = max(0.0, m.heads - named_presence)
        backfill_equivalents = max(0.0, m.ramped_equivalents - named_equivalents)
        bookings = m.capacity - named_bookings
        rows.append(
            FinanceRow(
                month=name,
                quarter=quarter_of[t],
                seat_id=f"backfills:{segment}",
                name=None,
                segment=segment,
                role="AE",
                status="expected backfills",
                tenure_month=None,
                ramp_factor=backfill_equivalents / backfill_presence if backfill_presence > 1e-12 else 0.0,
                presence=backfill_presence,
                quota=full_quota / 3.0 * backfill_equivalents,
                expected_bookings=bookings,
                cost=backfill_presence * cost_month if cost_month is not None else None,
            )
        )
    return rows


def rows_to_csv(rows: list[FinanceRow]) -> str:
    """The finance table as CSV, every cell made safe for a spreadsheet (``csvsafe``)."""
    dumped = (row.model_dump(mode="json") for row in rows)
    return csv_text(FINANCE_COLUMNS, [[d[c] for c in FINANCE_COLUMNS] for d in dumped])
