"""Mandate 3 — build and manage the roster: the seat's actions for this package (a desk of the seat).

Actions: ``roster_show`` (who holds which seat, ramp, productivity, attainment, seasonality),
``roster_plan`` (hires by month and segment against a goal, the binding constraint, SDR math, quota check;
stored as a ``roster_plan`` record version), ``roster_scenarios`` (base / best / worst side by side),
``roster_diff`` (two stored versions), ``roster_rebalance`` (accounts to AEs) and ``roster_finance``
(the reconciliation table for the finance-analyst).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from saleslead.context import Desk, SeatContext
from saleslead.errors import InputError, NotFoundError
from saleslead.periods import Period
from saleslead.roster.config import RosterConfig
from saleslead.roster.finance import FINANCE_COLUMNS, FinanceRow, finance_rows, rows_to_csv
from saleslead.roster.goals import PeriodGoal, period_goal
from saleslead.roster.measures import Headcount, RosterMeasures, measure_roster
from saleslead.roster.pipeline import PipelineYield, outlook_checks
from saleslead.roster.plan import SCENARIOS, PlanWork, RosterPlan, RosterPlanRequest, build_roster_plan
from saleslead.roster.plan_models import stored_plan
from saleslead.roster.potential import account_book
from saleslead.roster.productivity import Attainment, Productivity
from saleslead.roster.ramp import RampProfile
from saleslead.roster.rebalance import AccountMove, RebalanceOptions, RepBalance, RepInput, rebalance
from saleslead.roster.scenarios import PLAN_KIND, REBALANCE_KIND, PlanDiff, ScenarioLine, diff_plans, scenario_line
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.seats import RosterSeat, month_start
from saleslead.targets.desk import Outlooks

__all__ = [
    "FinanceTable",
    "RebalanceResult",
    "RosterDesk",
    "RosterDiffRequest",
    "RosterFinanceRequest",
    "RosterPlan",
    "RosterPlanRequest",
    "RosterRebalanceRequest",
    "RosterScenarioRequest",
    "RosterShowRequest",
    "RosterView",
    "ScenarioSet",
    "SegmentView",
]

_AUTHOR = "sales-lead"


class RosterShowRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date | None = None
    config: RosterConfig = RosterConfig()
    include_leavers: bool = False


class SegmentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    headcount: Headcount
    ramp: RampProfile
    productivity: Productivity
    attainment: Attainment
    pipeline: PipelineYield | None
    full_quarterly_quota: float


class RosterView(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    seats: list[RosterSeat]
    segments: list[SegmentView]
    seasonality: Seasonality
    assumptions: RosterConfig


class RosterScenarioRequest(BaseModel):
    """Plan the same goal under several scenarios and store each as a version."""

    model_config = ConfigDict(frozen=True)

    plan: RosterPlanRequest
    scenarios: list[str] = Field(default_factory=lambda: ["base", "best", "worst"])


class ScenarioSet(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date
    lines: list[ScenarioLine]
    plans: list[RosterPlan]


class RosterDiffRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    key_a: str
    key_b: str | None = None  # default: the same key
    version_a: int | None = None  # default: the one before the latest (same key) or the latest
    version_b: int | None = None  # default: the latest


class RosterRebalanceRequest(RebalanceOptions):
    """Who to rebalance, and the solver's knobs (:class:`RebalanceOptions`, declared once)."""

    as_of: date | None = None
    segments: list[str] | None = None
    locked: list[str] = Field(default_factory=list, description="account ids that stay with their owner")
    config: RosterConfig = RosterConfig()
    save: bool = True


class RebalanceResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    accounts: int
    reps: list[RepBalance]
    moves: list[AccountMove]
    moved: int
    moved_potential_share: float
    within_band_before: int
    within_band_after: int
    spread_before: float  # standard deviation of potential ÷ target over reps
    spread_after: float
    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    formulation: str
    variables: int
    constraints: int
    skipped_accounts: int
    locked: int
    potential_method: str
    version: int | None = None


class RosterFinanceRequest(BaseModel):
    """The finance table of a plan: given as a request, or a stored version (key, version)."""

    model_config = ConfigDict(frozen=True)

    plan: RosterPlanRequest | None = None
    key: str | None = None
    version: int | None = None


class FinanceTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    period: str
    scenario: str
    plan_key: str | None
    plan_version: int | None
    columns: list[str]
    rows: list[FinanceRow]
    total_quota: float
    total_expected_bookings: float
    total_cost: float | None
    cost_basis: str

    def to_csv(self) -> str:
        return rows_to_csv(self.rows)


def _spread(values: list[float]) -> float:
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


class RosterDesk(Desk):
    """Mandate 3 — build and manage the roster (its pipeline check shows the forecast desk's outlook)."""

    def __init__(self, context: SeatContext, outlooks: Outlooks | None = None) -> None:
        super().__init__(context)
        self.outlooks = outlooks

    def roster_show(self, request: RosterShowRequest | None = None) -> RosterView:
        """The roster as of a date: seats, headcount and ramp by segment, productivity, attainment."""
        request = request or RosterShowRequest()
        as_of = request.as_of or self.today()
        shown = request
        return self.answers.answer("roster-show", as_of, request, RosterView, lambda: self._roster_view(shown, as_of))

    def _roster_view(self, request: RosterShowRequest, as_of: date) -> RosterView:
        m = measure_roster(self.store, as_of, request.config, self.settings)
        return RosterView(
            as_of=as_of,
            seats=[s for s in m.seats if s.active or request.include_leavers],
            segments=[
                SegmentView(
                    segment=s.segment,
                    headcount=s.headcount,
                    ramp=s.ramp,
                    productivity=s.productivity,
                    attainment=s.attainment,
                    pipeline=s.pipeline,
                    full_quarterly_quota=s.full_quota,
                )
                for s in m.segments.values()
            ],
            seasonality=m.season,
            assumptions=request.config,
        )

    def _plan(self, request: RosterPlanRequest) -> tuple[RosterPlan, RosterMeasures, PlanWork]:
        as_of = request.as_of or self.today()
        measures = measure_roster(self.store, as_of, request.config, self.settings)
        plan, work = build_roster_plan(
            request.model_copy(update={"as_of": as_of}),
            measures,
            self.settings.fiscal_start_month,
            self._targets_of(request.period),
        )
        plan = self._with_outlook(plan, as_of)
        if request.save:
            key = request.name or f"{plan.period}/{plan.scenario}"
            record = self.records.put(PLAN_KIND, key, plan.model_dump(mode="json"), author=_AUTHOR)
            plan = plan.model_copy(update={"key": key, "version": record.version})
        return plan, measures, work

    def _with_outlook(self, plan: RosterPlan, as_of: date) -> RosterPlan:
        """Each segment's pipeline check with the period's outlook beside it (the forecast's numbers), when the
        plan's period holds ``as_of``."""
        period = Period.parse(plan.period, self.settings.fiscal_start_month)
        outlook = self.outlooks.outlook_result(period, as_of) if self.outlooks is not None else None
        if outlook is None:
            return plan
        checks = outlook_checks(outlook, {s.segment: s.goal for s in plan.segments})
        segments = [
            s.model_copy(update={"pipeline": s.pipeline.model_copy(update={"outlook": checks.get(s.segment)})})
            for s in plan.segments
        ]
        return plan.model_copy(update={"segments": segments})

    def _targets_of(self, period: str) -> PeriodGoal | None:
        """The period's goal by segment (roster.goals): its targets plan or Σ quota, or the previous period's."""
        return period_goal(self.store, self.records, Period.parse(period, self.settings.fiscal_start_month))

    def roster_plan(self, request: RosterPlanRequest) -> RosterPlan:
        """The fewest AE hires by month and segment that reach the goal with the buffer, and what binds."""
        return self._plan(request)[0]

    def roster_scenarios(self, request: RosterScenarioRequest) -> ScenarioSet:
        """Base, best and worst plans of the same goal side by side (each stored as a version)."""
        unknown = [s for s in request.scenarios if s not in SCENARIOS]
        if unknown:
            raise InputError(f"unknown scenario(s) {unknown}", hint=f"scenarios: {sorted(SCENARIOS)}")
        plans = [
            self.roster_plan(
                request.plan.model_copy(
                    update={"scenario": s, "name": f"{request.plan.name}/{s}" if request.plan.name else None}
                )
            )
            for s in request.scenarios
        ]
        return ScenarioSet(
            period=plans[0].period, as_of=plans[0].as_of, lines=[scenario_line(p) for p in plans], plans=plans
        )

    def _stored_plan(self, key: str, version: int | None) -> RosterPlan:
        versions = self.records.history(PLAN_KIND, key)
        if not versions:
            raise NotFoundError(f"no roster plan {key!r}", hint="list plans with `saleslead roster scenario`")
        chosen = versions[-1] if version is None else next((r for r in versions if r.version == version), None)
        if chosen is None:
            raise NotFoundError(f"roster plan {key!r} has no version {version}")
        plan = stored_plan(chosen.payload)
        if plan is None:
            raise InputError(
                f"roster plan {key!r} v{chosen.version} was stored by an earlier version of saleslead",
                hint="make the plan again (saleslead roster plan ...), then compare or export the new version",
            )
        return plan.model_copy(update={"key": key, "version": chosen.version})

    def roster_diff(self, request: RosterDiffRequest) -> PlanDiff:
        """What changed between two stored plan versions (default: the last two versions of one key)."""
        key_b = request.key_b or request.key_a
        version_a = request.version_a
        if version_a is None and key_b == request.key_a:
            versions = self.records.history(PLAN_KIND, request.key_a)
            if len(versions) < 2 and request.version_b is None:
                raise NotFoundError(f"roster plan {request.key_a!r} has fewer than two versions to compare")
            version_a = versions[-2].version if len(versions) >= 2 else None
        return diff_plans(self._stored_plan(request.key_a, version_a), self._stored_plan(key_b, request.version_b))

    def roster_finance(self, request: RosterFinanceRequest) -> FinanceTable:
        """Month × seat × quota × expected bookings × cost: the plan as finance reconciles it."""
        stored: RosterPlan | None = None
        if request.plan is not None:
            plan_request = request.plan.model_copy(update={"save": False})
        elif request.key is not None:
            stored = self._stored_plan(request.key, request.version)
            plan_request = stored.request.model_copy(update={"save": False})
        else:
            raise InputError("give a plan request or a stored plan key")
        plan, measures, work = self._plan(plan_request)
        if stored is not None:
            same = [(s.segment, s.hires) for s in plan.segments] == [(s.segment, s.hires) for s in stored.segments]
            if not same:
                raise InputError(
                    f"the store has changed since plan {stored.key} v{stored.version} was made: its hires no longer "
                    "reproduce",
                    hint="make the plan again, then export it",
                )
            plan = plan.model_copy(update={"key": stored.key, "version": stored.version})
        span = max((len(v) for v in work.months.values()), default=0)
        quarter_of = {
            t: Period.quarter_of(month_start(t), self.settings.fiscal_start_month).name
            for t in range(work.first_month, work.first_month + span)
        }
        rows: list[FinanceRow] = []
        for seg, months in work.months.items():
            rows.extend(
                finance_rows(
                    seg,
                    measures.active(seg, "AE"),
                    work.hires[seg],
                    months,
                    work.first_month,
                    work.period_first,
                    work.ramps[seg],
                    measures.season,
                    measures.segments[seg].full_quota,
                    quarter_of,
                    work.config,
                )
            )
        costs = [r.cost for r in rows if r.cost is not None]
        basis = work.config.cost_per_seat_month
        return FinanceTable(
            as_of=plan.as_of,
            period=plan.period,
            scenario=plan.scenario,
            plan_key=plan.key,
            plan_version=plan.version,
            columns=list(FINANCE_COLUMNS),
            rows=rows,
            total_quota=sum(r.quota for r in rows),
            total_expected_bookings=sum(r.expected_bookings for r in rows),
            total_cost=sum(costs) if costs else None,
            cost_basis=(
                f"cost per AE seat-month {basis['AE']:,.0f} × expected presence" if "AE" in basis else "no cost given"
            ),
        )

    def roster_rebalance(self, request: RosterRebalanceRequest | None = None) -> RebalanceResult:
        """Reassign accounts across AEs to bring potential and workload within bands, moving as little as may be."""
        request = request or RosterRebalanceRequest()
        as_of = request.as_of or self.today()
        measures = measure_roster(self.store, as_of, request.config, self.settings)
        segments = request.segments or list(measures.segments)
        reps = [
            RepInput(s.user_id, s.name, seg, measures.segments[seg].ramp.factor(s.tenure_months))
            for seg in segments
            if seg in measures.segments
            for s in measures.active(seg, "AE")
        ]
        if not reps:
            raise InputError(f"no active AEs in {segments} as of {as_of}")
        book = account_book(self.store, as_of, request.config)
        locked = set(request.locked)
        out = rebalance(book, reps, locked, request)
        total = float(sum(book.potential[i] for i in range(len(book)) if book.segment[i] in set(segments)))
        result = RebalanceResult(
            as_of=as_of,
            accounts=len(book) - out.skipped_accounts,
            reps=out.reps,
            moves=out.moves,
            moved=len(out.moves),
            moved_potential_share=sum(m.potential for m in out.moves) / total if total > 0 else 0.0,
            within_band_before=sum(r.within_band_before for r in out.reps),
            within_band_after=sum(r.within_band_after for r in out.reps),
            spread_before=_spread([r.potential_before / r.target_potential for r in out.reps if r.target_potential]),
            spread_after=_spread([r.potential_after / r.target_potential for r in out.reps if r.target_potential]),
            status=out.status,
            objective=out.objective,
            bound=out.bound,
            gap=out.gap,
            seconds=out.seconds,
            formulation=out.formulation,
            variables=out.variables,
            constraints=out.constraints,
            skipped_accounts=out.skipped_accounts,
            locked=len(locked & set(book.account_id)),
            potential_method=(
                "closed-won in the 12 months to as_of + open amount × stage probability; accounts with neither: "
                f"{request.config.whitespace_share:.0%} of the segment median"
            ),
        )
        if request.save:
            record = self.records.put(REBALANCE_KIND, str(as_of), result.model_dump(mode="json"), author=_AUTHOR)
            result = result.model_copy(update={"version": record.version})
        return result
