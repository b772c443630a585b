"""Pipeline creation required per week, back-solved from the measured created→won lag and value yield.

With ``Y(k)`` the measured share of created value won within ``k`` weeks (``CreationYield.cumulative``)
and ``Y∞`` the yield within the horizon:

* *steady* — to book a target ``T`` every period of ``w`` weeks, creation must run at
  ``steady = T / (w × Y∞)`` per week (in steady state each week's creation yields ``Y∞`` in time);
* *catch-up* — what the rest of this period needs from pipeline not yet created,
  ``needed = max(remaining − expected_from_pipeline, 0)``, spread evenly over the ``W`` whole weeks left:
  creation in week ``k`` (0 = next week) has ``W − k`` weeks to land, so
  ``catch_up = needed / Σ_k Y(W − k)`` per week (None when nothing created now can land in time).

The schedule lists each week from the day after ``as_of`` to the end of the next period with
``required = steady + catch_up`` while the current period runs, ``steady`` after it.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence, Rate
from saleslead.funnel import CreationYield
from saleslead.periods import Period

__all__ = ["CreationPlan", "CreationWeekPlan", "back_solve_creation"]


class CreationWeekPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    week_start: date
    required: float
    steady: float
    catch_up: float


class CreationPlan(BaseModel):
    """Weekly pipeline creation a segment needs, in the value deals are created with."""

    model_config = ConfigDict(frozen=True)

    steady_per_week: float | None
    catch_up_per_week: float | None
    needed_from_new: float
    deals_per_week: float | None
    typical_deal: float | None
    value_yield: Rate
    median_lag_weeks: int | None
    p80_lag_weeks: int | None
    weekly: list[CreationWeekPlan]
    evidence: Evidence


def _landed(curve: list[float], weeks: int) -> float:
    """Share of created value won within ``weeks`` weeks (0 for none, capped at the horizon)."""
    if weeks <= 0 or not curve:
        return 0.0
    return curve[min(weeks, len(curve)) - 1]


def back_solve_creation(
    measured: CreationYield | None,
    period: Period,
    as_of: date,
    target: float,
    remaining: float,
    expected_from_pipeline: float | None,
) -> CreationPlan:
    """The weekly creation that books ``target`` each period and closes this period's gap."""
    weeks_in_period = period.days / 7.0
    curve = measured.cumulative if measured else []
    total = curve[-1] if curve else 0.0
    steady = target / (weeks_in_period * total) if total > 0 else None
    needed = max(remaining - (expected_from_pipeline or 0.0), 0.0)
    first = as_of + timedelta(days=1)
    whole_weeks = max((period.end - first).days // 7, 0)
    reach = sum(_landed(curve, whole_weeks - k) for k in range(whole_weeks))
    catch_up = needed / reach if reach > 0 else (0.0 if needed == 0 else None)
    typical = measured.typical_deal if measured else None
    weekly: list[CreationWeekPlan] = []
    end = period.shift(1).end
    day = first
    while day < end:
        extra = (catch_up or 0.0) if day + timedelta(days=6) < period.end else 0.0
        base = steady or 0.0
        weekly.append(CreationWeekPlan(week_start=day, required=base + extra, steady=base, catch_up=extra))
        day += timedelta(days=7)
    rate = measured.value_yield if measured else Rate(value=None, low=None, high=None, successes=0, trials=0)
    return CreationPlan(
        steady_per_week=steady,
        catch_up_per_week=catch_up,
        needed_from_new=needed,
        deals_per_week=steady / typical if steady is not None and typical else None,
        typical_deal=typical,
        value_yield=rate,
        median_lag_weeks=measured.median_lag_weeks if measured else None,
        p80_lag_weeks=measured.p80_lag_weeks if measured else None,
        weekly=weekly,
        evidence=measured.evidence
        if measured
        else Evidence(method="no created→won history", sample_size=0, thin=True, note="nothing measured"),
    )
