"""The goal of a period by segment — one resolution shared by the roster plan, the weekly briefing and the
dashboard, so a segment has one goal wherever it is shown.

In this order (the first that exists wins):

1. the targets desk's saved plan of the period (``saleslead targets set``) — its bookings target by segment
   and its steady creation per week;
2. Σ quota (``ForecastingQuota``) starting inside the period, by the owner's segment — what ``targets`` and
   ``coverage`` use when no plan is saved;
3. the previous period's saved targets plan, else its Σ quota, carried forward (quotas of the next quarter
   are often not loaded yet) — and so on up to ``CARRY_BACK`` periods back, the latest first.

A total goal given without a split is divided in the same proportions as the period's resolved goal (so
``--goal`` moves every segment's goal by one factor and the shares match the briefing's), else by each
segment's closed-won share of the productivity window.
"""

from __future__ import annotations

from dataclasses import dataclass

from saleslead.periods import Period
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.targets.coverage import quota_targets
from saleslead.targets.plan import TargetPlan
from saleslead.targets.schemas import PLAN as TARGETS_PLAN

__all__ = ["CARRY_BACK", "PeriodGoal", "TargetsInput", "period_goal"]

#: how many periods back a target is carried forward from
CARRY_BACK = 4


@dataclass(frozen=True)
class TargetsInput:
    """The targets desk's saved plan of a period: bookings target and steady creation per week by segment."""

    version: int
    target: dict[str, float]
    creation_per_week: dict[str, float | None]


@dataclass(frozen=True)
class PeriodGoal:
    """A period's goal by segment and where it came from."""

    by_segment: dict[str, float]
    source: str
    targets: TargetsInput | None  # the saved targets plan it came from, if any (its creation targets too)


def _targets_plan(records: Records, period: Period) -> TargetsInput | None:
    record = records.latest(TARGETS_PLAN, period.name)
    if record is None:
        return None
    saved = TargetPlan.model_validate(record.payload)
    return TargetsInput(
        version=record.version,
        target={s.segment: s.target for s in saved.segments},
        creation_per_week={s.segment: s.creation.steady_per_week for s in saved.segments},
    )


def period_goal(store: Store, records: Records, period: Period) -> PeriodGoal | None:
    """The period's goal by segment (see the module doc), or None when neither it nor the ``CARRY_BACK`` periods
    before it have one."""
    for back in range(CARRY_BACK + 1):
        source = period.shift(-back)
        carried = f" carried forward: none set for {period.name} yet" if back else ""
        targets = _targets_plan(records, source)
        if targets is not None and targets.target:
            name = f"the targets plan v{targets.version} of {source.name}{carried}"
            return PeriodGoal(dict(targets.target), name, targets)
        quotas = quota_targets(store, source)
        if quotas:
            return PeriodGoal(quotas, f"Σ quota of {source.name}{carried}", None)
    return None
