"""The cadence with every mandate: stalls handed to the AEs, the call and its guard, staffing, the finance plan.

One copy of the demo store and one open seat for the module (the forecast's outlook is reused by the
forecast, the seat's call and the guard within the seat). A vice-president submits a call three times
the P90 before the first run; the run must flag it as outrunning the pipeline.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from saleslead.briefing.weekly import WeeklyBriefing, briefing_markdown
from saleslead.forecast.schemas import CallListRequest, CallSubmitRequest, StallsRequest, StallsResult
from saleslead.format import money
from saleslead.role.desk import AskRequest, RunRequest
from saleslead.roster.plan import RosterPlan
from saleslead.roster.scenarios import PLAN_KIND
from saleslead.seat import Seat, open_seat
from saleslead.store.shelf import Shelf
from saleslead.targets.coverage import quota_targets

from .conftest import DEMO_TODAY, DEMO_WEEK, share_demo_shelf

pytestmark = [pytest.mark.slow, DEMO_WEEK]  # fits the forecast and runs the week on the demo company


@dataclass
class Week:
    seat: Seat
    first: WeeklyBriefing
    second: WeeklyBriefing
    stalls: StallsResult
    bold_call: float
    p90: float


@pytest.fixture(scope="module")
def week(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    path = tmp_path_factory.mktemp("cadence-mandates") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    share_demo_shelf(path, demo_shelf)  # the week's models: fitted once for every test module on the demo
    seat = open_seat(path)
    seat.clock = lambda: DEMO_TODAY
    stalls = seat.stalls(StallsRequest(as_of=DEMO_TODAY))
    submitted = seat.call_submit(
        CallSubmitRequest(node="total", period="2026-Q4", amount=1.0, as_of=DEMO_TODAY, author="vp-sales")
    )
    assert submitted.check is not None
    p90 = submitted.check.node_p90
    bold = round(3 * p90, 2)
    bold_call = CallSubmitRequest(node="total", period="2026-Q4", amount=bold, as_of=DEMO_TODAY, author="vp-sales")
    seat.call_submit(bold_call)
    first = seat.run(RunRequest(as_of=DEMO_TODAY))
    second = seat.run(RunRequest(as_of=DEMO_TODAY))
    yield Week(seat, first, second, stalls, bold, p90)
    seat.close()


def test_every_stalled_deal_goes_to_its_account_executive_with_the_evidence(week: Week) -> None:
    stalled = {i.opportunity_id: i for i in week.stalls.items}
    assert len(stalled) > 0
    to_ae = [h for h in week.first.handoffs if h.boundary == "deal-execution"]
    assert {h.payload["deal"]["opportunity_id"] for h in to_ae} == set(stalled)
    for h in to_ae:
        item = stalled[h.payload["deal"]["opportunity_id"]]
        assert (h.to_role, h.relation, h.status) == ("account-executive", "owns", "open")
        assert h.payload_key == f"stall/{item.opportunity_id}/{item.stage}"
        deal = h.payload["deal"]
        assert (deal["days_in_stage"], deal["pushes"], deal["amount"]) == (
            item.days_in_stage,
            item.pushes,
            item.amount,
        )
        assert deal["reasons"] == item.reasons
        assert deal["reasons"]
        assert h.payload["evidence"]["method"] == week.stalls.evidence.method
    flags = {f.id for f in week.first.flags if f.kind == "stall"}
    assert flags == {f"stall/{o}" for o in stalled}
    section = next(s for s in week.first.sections if s.id == "stalls")
    assert section.data["stalled"] == len(stalled)
    assert section.data["amount"] == pytest.approx(sum(i.amount for i in stalled.values()))


def test_the_call_is_the_seats_p50_with_its_range_and_the_bold_call_is_flagged(week: Week) -> None:
    call = week.first.call
    assert call is not None
    stored = [c for c in week.seat.call_list(CallListRequest(period="2026-Q4")).calls if c.category == "seat-call"]
    assert len(stored) == 1  # the second run reused this week's call instead of storing it again
    [mine] = stored
    assert (call.call, call.low, call.high, call.version) == (mine.amount, mine.p10, mine.p90, 1)
    assert call.low is not None
    assert call.high is not None
    assert call.low < call.call < call.high
    assert call.verdict == "supported"  # the P50: P(outcome ≥ call) is one half
    forecast = next(s for s in week.first.sections if s.id == "forecast")
    assert forecast.data["total"]["p50"] == call.call  # one outlook: the section and the call agree

    [guard] = [f for f in week.first.flags if f.kind == "call-guard"]
    assert guard.id == "call-guard/2026-Q4/total/v2"  # the version of the call it judges
    assert guard.severity == "critical"
    assert guard.evidence["verdict"] == "outruns-pipeline"
    assert guard.evidence["amount"] == week.bold_call
    assert guard.evidence["amount"] > guard.evidence["node_p90"]
    assert "OUTRUNS THE PIPELINE" in guard.message
    assert guard.id in week.first.new_flags


def test_staffing_against_the_gap_and_the_finance_plan(week: Week) -> None:
    section = next(s for s in week.first.sections if s.id == "roster_plan")
    assert section.available
    assert section.data["period"] == "2027-Q1"  # hires land next quarter: the cadence staffs it
    goal = quota_targets(week.seat.store, week.seat.period("2026-Q4"))  # no 2027-Q1 quota: Q4's carried forward
    assert section.data["goal"] == pytest.approx(sum(goal.values()))
    record = week.seat.records.latest(PLAN_KIND, "weekly/2027-Q1")
    assert record is not None
    assert record.version == 1
    plan = RosterPlan.model_validate(record.payload)
    assert section.data["total_hires"] == plan.total_hires
    assert section.data["binding_constraint"] == plan.binding_constraint
    short = {f"capacity-short/2027-Q1/{s.segment}": s for s in plan.segments if s.base_capacity < s.goal}
    flags = {f.id: f for f in week.first.flags if f.kind == "capacity-short"}
    assert set(flags) == set(short)
    assert flags
    for fid, s in short.items():
        assert flags[fid].severity == ("warning" if s.reachable else "critical")
        assert flags[fid].evidence["base_capacity"] == pytest.approx(s.base_capacity)

    [finance] = [h for h in week.first.handoffs if h.to_role == "finance-analyst"]
    assert (finance.boundary, finance.relation) == ("financial-model", "feeds")
    table = finance.payload["finance"]
    assert (table["plan_key"], table["plan_version"]) == ("weekly/2027-Q1", 1)
    assert table["total_expected_bookings"] == pytest.approx(sum(s.capacity for s in plan.segments))
    assert table["total_quota"] == pytest.approx(sum(r["quota"] for r in table["rows"]))
    assert table["total_expected_bookings"] == pytest.approx(sum(r["expected_bookings"] for r in table["rows"]))
    hires = {s.segment: [h.model_dump() for h in s.hires] for s in plan.segments}
    assert {s["segment"]: s["hires"] for s in finance.payload["plan"]["segments"]} == hires


def test_a_second_run_issues_nothing_new_and_keeps_the_flags(week: Week) -> None:
    assert week.second.new_flags == []
    assert week.second.new_handoffs == []
    assert week.second.resolved_flags == []
    assert [f.id for f in week.second.flags] == [f.id for f in week.first.flags]
    assert [h.id for h in week.second.handoffs] == [h.id for h in week.first.handoffs]
    assert "call-guard/2026-Q4/total/v2" in {f.id for f in week.second.flags}  # shown until the call changes


def test_the_briefing_shows_the_call_staffing_and_the_flags(week: Week) -> None:
    text = briefing_markdown(week.second)
    call = week.second.call
    assert call is not None
    assert call.low is not None
    assert call.high is not None
    assert f"**The call for 2026-Q4: {money(call.call)}** (range {money(call.low)}–{money(call.high)}" in text
    assert "## Staffing against the gap" in text
    assert "Staffing 2027-Q1 against a" in text
    assert "OUTRUNS THE PIPELINE" in text.split("## Where the funnel leaks")[0]  # right under the call
    flags = text.split("## Open flags")[1].split("## Handoffs")[0]
    assert "[critical]" in flags
    assert "capacity-short" not in flags
    assert "more stall flags" in flags or len(week.stalls.items) <= 5
    assert "**account-executive**" in text
    assert "**finance-analyst**" in text


def test_ask_answers_from_the_mandates_and_feeds_finance_the_plan(week: Week) -> None:
    asked = week.seat.ask(AskRequest(text="Which deals are stuck?", as_of=DEMO_TODAY))
    [stalls] = asked.answers
    assert stalls.action == "stalls"
    assert stalls.available
    assert stalls.data["stalled"] == len(week.stalls.items)
    staffing = week.seat.ask(AskRequest(text="How many reps should we hire?", as_of=DEMO_TODAY))
    assert [a.action for a in staffing.answers] == ["roster_plan"]
    roster = next(s for s in week.first.sections if s.id == "roster_plan")
    assert staffing.answers[0].data["total_hires"] == roster.data["total_hires"]
    assert week.seat.records.latest(PLAN_KIND, "weekly/2027-Q1").version == 1  # type: ignore[union-attr]
    books = week.seat.ask(AskRequest(text="Reconcile the quotas to the books", as_of=DEMO_TODAY))
    [h] = books.handoffs
    assert h.to_role == "finance-analyst"
    assert h.payload["quota_plan"]["period"] == "2026-Q4"
    assert h.payload["finance"]["plan_key"] == "weekly/2027-Q1"
    assert h.payload["finance"]["total_quota"] == pytest.approx(
        next(x for x in week.first.handoffs if x.to_role == "finance-analyst").payload["finance"]["total_quota"]
    )
