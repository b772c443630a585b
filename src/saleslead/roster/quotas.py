"""Ramped quotas per seat, and whether the quota assigned is consistent with the attainment measured.

* Full quarterly quota of a ramped AE: ``quota_per_ramped_seat`` when given, else the median of the
  latest quotas of the segment's AEs on the roster.
* A seat's quota in a month: ``full ÷ 3 × ramp(tenure month)`` — a new hire's quota ramps like its
  productivity — weighted by the chance the seat is still held; summed over the AEs on the roster, the
  planned hires and the expected backfills that is ``full ÷ 3 × ramped_equivalents`` of the month.
* Check: ``Σ quota × expected attainment ≥ goal``, expected attainment the segment's measured attainment
  (``Σ bookings ÷ Σ quota`` of ramped AE-quarters; 1.0 and called thin when nothing was measured).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.config import RosterConfig
from saleslead.roster.productivity import Attainment
from saleslead.roster.seats import RosterSeat

__all__ = ["QuotaCheck", "full_quota", "quota_check"]


class QuotaCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    full_quarterly_quota: float
    period_quota: float  # Σ ramped quota of every seat over the period
    goal: float
    over_assignment: float | None  # period_quota ÷ goal
    expected_attainment: float
    expected_from_quota: float  # period_quota × expected attainment
    consistent: bool  # expected_from_quota ≥ goal
    evidence: Evidence


def full_quota(seats: list[RosterSeat], segment: str, config: RosterConfig) -> tuple[float, Evidence]:
    if segment in config.quota_per_ramped_seat:
        value = config.quota_per_ramped_seat[segment]
        return value, Evidence(method="configured quota of a ramped seat", sample_size=0, thin=False)
    quotas = [s.quota for s in seats if s.role == "AE" and s.segment == segment and s.active and s.quota]
    if not quotas:
        return 0.0, Evidence(method="no quota in the store for this segment", sample_size=0, thin=True)
    return float(np.median(quotas)), Evidence(
        method="median of the latest quarterly quota of the segment's AEs on the roster",
        sample_size=len(quotas),
        thin=len(quotas) < 5,
    )


def quota_check(
    segment: str, full: float, full_evidence: Evidence, period_quota: float, goal: float, attainment: Attainment
) -> QuotaCheck:
    expected = attainment.overall if attainment.overall is not None else 1.0
    thin = attainment.overall is None or attainment.evidence.thin or full_evidence.thin
    return QuotaCheck(
        segment=segment,
        full_quarterly_quota=full,
        period_quota=period_quota,
        goal=goal,
        over_assignment=period_quota / goal if goal > 0 else None,
        expected_attainment=expected,
        expected_from_quota=period_quota * expected,
        consistent=period_quota * expected >= goal,
        evidence=Evidence(
            method=f"Σ ramped quota × attainment ({attainment.evidence.method}); quota: {full_evidence.method}",
            sample_size=attainment.rep_quarters,
            thin=thin,
            note="no attainment measured: 100% assumed" if attainment.overall is None else attainment.evidence.note,
        ),
    )
