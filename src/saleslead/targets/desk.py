"""Mandate 2 — set and defend pipeline targets: the seat's actions for this package (a desk of the seat).

``coverage`` measures coverage two ways; ``set_targets`` turns a goal into a saved, versioned plan;
``targets`` shows saved plans; ``defend_targets`` tracks coverage week over week, raises flags once per
period and segment, and returns the creation gaps the cadence hands to the sales-development-rep.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from saleslead.context import Desk, SeatContext
from saleslead.errors import NotFoundError
from saleslead.forecast.schemas import ForecastResult
from saleslead.funnel import creation_yield, deals, pipeline_created, stage_conversion
from saleslead.periods import Period
from saleslead.targets.coverage import ALL, Coverage, compute_coverage
from saleslead.targets.defend import (
    CoverageFlag,
    CreationGap,
    CreationGapWeek,
    CreationWeek,
    Defense,
    WeeklyCoverage,
    find_flags,
)
from saleslead.targets.plan import TargetPlan, build_target_plan, resolve_targets
from saleslead.targets.schemas import (
    COVERAGE_ANSWER,
    PLAN,
    CoverageRequest,
    DefendRequest,
    TargetsRequest,
    TargetsShowRequest,
    coverage_answer_request,
)

__all__ = [
    "CoverageRequest",
    "DefendRequest",
    "Outlooks",
    "PlanVersion",
    "TargetsDesk",
    "TargetsRequest",
    "TargetsShowRequest",
    "TargetsShown",
]

FLAG = "targets.flag"


class PlanVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    version: int
    author: str
    set_at: datetime
    plan: TargetPlan


class TargetsShown(BaseModel):
    """Saved plans: the latest of every period, or every version of one period."""

    model_config = ConfigDict(frozen=True)

    plans: list[PlanVersion]


class Outlooks(Protocol):
    """What the targets desk needs of the forecast desk: the one outlook of a period as of a date."""

    def outlook_result(self, period: Period, as_of: date) -> ForecastResult | None: ...


class TargetsDesk(Desk):
    """Mandate 2 — set and defend pipeline targets (coverage reads the forecast desk's outlook)."""

    def __init__(self, context: SeatContext, outlooks: Outlooks | None = None) -> None:
        super().__init__(context)
        self.outlooks = outlooks

    def _outlook(self, period: Period, as_of: date) -> ForecastResult | None:
        """The forecast of ``period`` as of ``as_of`` — what coverage's expectations are — or None (no forecast)."""
        return self.outlooks.outlook_result(period, as_of) if self.outlooks is not None else None

    def _targets(
        self, period: Period, as_of: date, goal: float | None, segments: dict[str, float] | None, s: ir.Table | None
    ) -> tuple[dict[str, float], str]:
        if goal is None and not segments:
            saved = self.records.latest(PLAN, period.name)
            if saved is not None:
                plan = TargetPlan.model_validate(saved.payload)
                return {p.segment: p.target for p in plan.segments}, f"plan v{saved.version}"
        return resolve_targets(self.store, period, as_of, goal, segments, s)

    def coverage(self, request: CoverageRequest) -> Coverage:
        """Reported and real coverage of a period as of a date, in total and by segment, with the evidence."""
        period = self.period(request.period)
        as_of = request.as_of or self.today()

        def compute() -> Coverage:
            targets, source = self._targets(period, as_of, request.goal, request.segments, None)
            return compute_coverage(
                self.store, period, as_of, targets, target_source=source, settings=self.settings,
                periods=request.periods, outlook=self._outlook(period, as_of),
            )  # fmt: skip

        spec = COVERAGE_ANSWER
        key = coverage_answer_request(request, period.name)
        return self.answers.answer(spec.kind, as_of, key, Coverage, compute, settings=spec.settings,
                                   records=spec.records)  # fmt: skip

    def set_targets(self, request: TargetsRequest) -> TargetPlan:
        """Turn a goal into per-segment bookings, pipeline and weekly creation; save it as a new plan version."""
        period = self.period(request.period)
        as_of = request.as_of or self.today()
        d = deals(self.store, as_of).cache()
        targets, source = resolve_targets(self.store, period, as_of, request.goal, request.segments, None)
        cov = compute_coverage(
            self.store,
            period,
            as_of,
            targets,
            target_source=source,
            settings=self.settings,
            periods=request.periods,
            deal_table=d,
            outlook=self._outlook(period, as_of),
        )
        conf, n = self.settings.confidence, self.settings.min_sample
        yields = {
            y.group["segment"]: y
            for y in creation_yield(
                self.store,
                as_of,
                ["segment"],
                horizon_weeks=request.horizon_weeks,
                confidence=conf,
                min_sample=n,
                deal_table=d,
            )
        }
        for y in creation_yield(
            self.store, as_of, horizon_weeks=request.horizon_weeks, confidence=conf, min_sample=n, deal_table=d
        ):
            yields[ALL] = y
        by_segment = stage_conversion(self.store, as_of, ["segment"], confidence=conf, min_sample=n, deal_table=d)
        total = stage_conversion(self.store, as_of, confidence=conf, min_sample=n, deal_table=d)
        inputs: dict[str, Any] = {
            "goal": request.goal,
            "segments": request.segments,
            "as_of": as_of.isoformat(),
            "periods": request.periods,
            "horizon_weeks": request.horizon_weeks,
            "targets": targets,
        }
        previous = self.records.latest(PLAN, period.name)
        draft = build_target_plan(
            cov,
            period,
            yields,
            by_segment,
            total,
            goal_source=source,
            author=request.author,
            set_at=datetime.now(UTC).replace(tzinfo=None),
            inputs=inputs,
            version=(previous.version + 1) if previous else 1,
        )
        record = self.records.put(PLAN, period.name, draft.model_dump(mode="json"), author=request.author)
        return draft.model_copy(update={"version": record.version, "set_at": record.created_at})

    def targets(self, request: TargetsShowRequest | None = None) -> TargetsShown:
        """Saved plans: every version of one period, or the latest plan of every period."""
        if request is not None and request.period:
            name = self.period(request.period).name
            found = self.records.history(PLAN, name)
            if not found:
                raise NotFoundError(f"no target plan for {name}", hint="set one: saleslead targets set")
        else:
            found = self.records.current(PLAN)
        return TargetsShown(
            plans=[
                PlanVersion(
                    period=r.key,
                    version=r.version,
                    author=r.author,
                    set_at=r.created_at,
                    plan=TargetPlan.model_validate(r.payload).model_copy(update={"version": r.version}),
                )
                for r in found
            ]
        )

    def defend_targets(self, request: DefendRequest) -> Defense:
        """Coverage week over week, flags (raised once per period and segment) and creation gaps for the SDRs."""
        period = self.period(request.period)
        as_of = request.as_of or self.today()
        d = deals(self.store, as_of).cache()
        targets, source = self._targets(period, as_of, None, None, None)
        weekly: list[WeeklyCoverage] = []
        latest: Coverage | None = None
        # the latest week first: its outlook is the one the forecast of the week has just made (kept)
        for back in range(request.weeks):
            day = as_of - timedelta(days=7 * back)
            # Each week reads the stored events as of its own day (nothing later is seen).
            cov = compute_coverage(
                self.store,
                period,
                day,
                targets,
                target_source=source,
                settings=self.settings,
                deal_table=d if back == 0 else None,
                outlook=self._outlook(period, day),
            )
            latest = latest or cov
            for line in (cov, *cov.segments):
                weekly.append(
                    WeeklyCoverage(
                        as_of=day,
                        segment=line.segment,
                        reported_coverage=line.reported_coverage,
                        required_coverage=line.required_coverage,
                        real_coverage=line.real_coverage,
                        real_coverage_high=line.real_coverage_high,
                    )
                )
        assert latest is not None
        weekly.sort(key=lambda w: w.as_of)  # oldest first (stable: the lines of a week keep their order)
        names = [ALL, *(line.segment for line in latest.segments if line.target > 0)]
        flags: list[CoverageFlag] = []
        new: list[CoverageFlag] = []
        for flag in find_flags(period.name, weekly, names, as_of, request.drop):
            known = self.records.latest(FLAG, flag.key)
            if known is None:
                new.append(flag)
                if self.store.read_only:  # a read (the dashboard's page): shown as new, recorded by the next writer
                    flags.append(flag.model_copy(update={"new": True, "status": "open"}))
                else:
                    self.records.put(FLAG, flag.key, flag.model_dump(mode="json"), author=request.author)
        for record in self.records.current(FLAG):
            if record.key.startswith(f"{period.name}/"):
                old = CoverageFlag.model_validate(record.payload)
                is_new = any(f.key == record.key for f in new)
                flags.append(old.model_copy(update={"new": is_new, "status": record.status}))
        gaps, creation, method = self._creation_gaps(period, as_of, latest, d, request)
        return Defense(
            period=period.name,
            as_of=as_of,
            target_source=source,
            coverage=latest,
            weekly=weekly,
            flags=sorted(flags, key=lambda f: f.key),
            new_flags=new,
            creation_gaps=gaps,
            creation=creation,
            creation_method=method,
        )

    def _creation_gaps(
        self, period: Period, as_of: date, cov: Coverage, d: ir.Table, request: DefendRequest
    ) -> tuple[list[CreationGap], list[CreationWeek], str]:
        """The segments whose creation fell short (for the SDRs), every segment's weekly creation against its
        requirement, and how the requirement was set."""
        saved = self.records.latest(PLAN, period.name)
        steady: dict[str, float] = {}
        if saved is not None:
            plan = TargetPlan.model_validate(saved.payload)
            steady = {p.segment: p.creation.steady_per_week or 0.0 for p in plan.segments}
            method = f"plan v{saved.version} steady weekly creation"
        else:
            yields = creation_yield(self.store, as_of, ["segment"], deal_table=d)
            weeks_in = period.days / 7.0
            for y in yields:
                name, total = y.group["segment"], (y.cumulative[-1] if y.cumulative else 0.0)
                target = next((line.target for line in cov.segments if line.segment == name), 0.0)
                if total > 0 and target > 0:
                    steady[name] = target / (weeks_in * total)
            method = "steady weekly creation back-solved now (no saved plan)"
        start = as_of - timedelta(days=7 * request.weeks - 1)
        created = pipeline_created(self.store, start, as_of, ["segment"], deal_table=d)
        typical = {line.segment: line.typical_deal for line in cov.segments}
        out: list[CreationGap] = []
        weeks: list[CreationWeek] = []
        for name, need in sorted(steady.items()):
            rows = [w for w in created if w.group["segment"] == name]
            weeks.extend(
                CreationWeek(segment=name, week_start=w.week_start, created=w.value, created_deals=w.deals,
                             required=need)
                for w in rows
            )  # fmt: skip
            got = sum(w.value for w in rows)
            required = need * request.weeks
            if need <= 0 or got >= (1.0 - request.tolerance) * required:
                continue
            gap = required - got
            deal = typical.get(name)
            out.append(
                CreationGap(
                    period=period.name,
                    as_of=as_of,
                    segment=name,
                    weeks=[
                        CreationGapWeek(
                            week_start=w.week_start,
                            created=w.value,
                            created_deals=w.deals,
                            required=need,
                            gap=need - w.value,
                        )
                        for w in rows
                    ],
                    created=got,
                    required=required,
                    gap=gap,
                    gap_deals=gap / deal if deal else None,
                    typical_deal=deal,
                    required_per_week=need,
                    method=method,
                )
            )
        return out, weeks, method
