"""Defend the targets: coverage week over week, flags, and the creation gap handed to the SDR team.

*Weekly coverage* — real coverage of the period as of the same weekday for the last ``weeks`` weeks.

*Flags* (per segment and in total, raised once per period and segment, remembered as records of kind
``targets.flag`` keyed ``<period>/<segment>``):

* ``below_required`` — real coverage is below 1 (reported below required) **and** still below 1 at the
  optimistic end of the measured conversion interval: the shortfall is not noise;
* ``dropping`` — real coverage fell more than ``drop`` (default 20%) below the least-squares trend of the
  earlier weeks projected to this week (at least three earlier weeks needed), is left with less
  than that cushion above covered (real coverage < 1 + ``drop``): a fall from 2.3 to 1.6 is no risk to
  the number, a fall from 1.2 to 0.9 is — and even its optimistic end (``real_coverage_high``: the
  outlook's P90) is below the trend: a dip inside the outlook's own range is noise, not a drop.

*Creation gap* — pipeline created per week in the last ``weeks`` weeks against the plan's steady weekly
requirement (the saved plan's, or one back-solved now): a segment whose creation fell short by more
than ``tolerance`` (default 15%) of the requirement yields a :class:`CreationGap` for the
sales-development-rep.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from saleslead.targets.coverage import Coverage

__all__ = ["CoverageFlag", "CreationGap", "CreationGapWeek", "Defense", "WeeklyCoverage", "find_flags"]


class WeeklyCoverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    segment: str
    reported_coverage: float | None
    required_coverage: float | None
    real_coverage: float | None
    real_coverage_high: float | None


class CoverageFlag(BaseModel):
    """A raised flag: why, the numbers behind it, and whether this run raised it."""

    model_config = ConfigDict(frozen=True)

    key: str
    period: str
    segment: str
    reason: str
    as_of: date
    reported_coverage: float | None
    required_coverage: float | None
    real_coverage: float | None
    real_coverage_high: float | None
    trend: float | None
    message: str
    new: bool = True
    status: str = "open"


class CreationGapWeek(BaseModel):
    model_config = ConfigDict(frozen=True)

    week_start: date
    created: float
    created_deals: int
    required: float
    gap: float


class CreationWeek(BaseModel):
    """One segment's pipeline created in one week against the weekly creation the targets need (every segment,
    short or not: the picture of creation against the back-solved target)."""

    model_config = ConfigDict(frozen=True)

    segment: str
    week_start: date
    created: float
    created_deals: int
    required: float


class CreationGap(BaseModel):
    """The structured payload the sales-development-rep receives when pipeline creation falls short."""

    model_config = ConfigDict(frozen=True)

    to_role: str = "sales-development-rep"
    period: str
    as_of: date
    segment: str
    weeks: list[CreationGapWeek]
    created: float
    required: float
    gap: float
    gap_deals: float | None
    typical_deal: float | None
    required_per_week: float
    method: str


class Defense(BaseModel):
    """The ``saleslead targets defend`` result: what the cadence delivers."""

    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date
    target_source: str
    coverage: Coverage
    weekly: list[WeeklyCoverage]
    flags: list[CoverageFlag]
    new_flags: list[CoverageFlag]
    creation_gaps: list[CreationGap]
    #: every segment's weekly creation against its requirement over the weeks looked back on, and how the
    #: requirement was set (the saved plan's steady creation, or back-solved now)
    creation: list[CreationWeek] = Field(default_factory=list)
    creation_method: str = ""


def trend_at(values: list[float]) -> float | None:
    """Least-squares line through ``values`` (oldest first), projected one step past the last."""
    if len(values) < 3:
        return None
    x = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(x, np.asarray(values, dtype=float), 1)
    return float(slope * len(values) + intercept)


def find_flags(
    period: str, weekly: list[WeeklyCoverage], segments: list[str], as_of: date, drop: float = 0.2
) -> list[CoverageFlag]:
    """Flags the latest week warrants, per segment (not yet deduplicated against earlier runs)."""
    out: list[CoverageFlag] = []
    for segment in segments:
        series = sorted((w for w in weekly if w.segment == segment), key=lambda w: w.as_of)
        if not series or series[-1].as_of != as_of:
            continue
        now = series[-1]
        earlier = [w.real_coverage for w in series[:-1] if w.real_coverage is not None]
        trend = trend_at(earlier)
        reason = None
        real = now.real_coverage
        if real is not None and real < 1.0 and now.real_coverage_high is not None and now.real_coverage_high < 1.0:
            reason = "below_required"
            message = (
                f"{segment} {period}: real coverage {real:.2f} — the pipeline converts, as measured, to "
                f"{real:.0%} of what is left to book (reported {now.reported_coverage or 0:.1f}× against "
                f"{now.required_coverage or 0:.1f}× required)"
            )
        elif (
            real is not None
            and trend is not None
            and real < (1.0 - drop) * trend
            and real < 1.0 + drop
            and (now.real_coverage_high is None or now.real_coverage_high < trend)
        ):
            reason = "dropping"
            message = f"{segment} {period}: real coverage {real:.2f} dropped below its trend {trend:.2f}"
        if reason is None:
            continue
        out.append(
            CoverageFlag(
                key=f"{period}/{segment}",
                period=period,
                segment=segment,
                reason=reason,
                as_of=as_of,
                reported_coverage=now.reported_coverage,
                required_coverage=now.required_coverage,
                real_coverage=real,
                real_coverage_high=now.real_coverage_high,
                trend=trend,
                message=message,
            )
        )
    return out
