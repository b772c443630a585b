"""The forecast call meeting: the grid, calls and overrides by name, the deals behind each number, deal risks,
the as-of default, CSV safety and tables that fit 100 columns — on the demo company and the Salesforce sample."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.csvsafe import csv_text, safe_cell
from saleslead.errors import InputError
from saleslead.forecast.deals import DealsRequest
from saleslead.forecast.grid import GridRequest
from saleslead.forecast.guard import check_call
from saleslead.forecast.risk import DealRequest
from saleslead.forecast.schemas import CallListRequest, CallSubmitRequest, ForecastRequest, StallsRequest
from saleslead.seat import IngestRequest, Seat, StatusRequest, open_seat
from saleslead.settings import Settings
from saleslead.store.shelf import Shelf

from .conftest import DEMO_TODAY, copy_demo, shared_data

PERIOD = "2026-Q4"
runner = CliRunner()


def _rep_and_manager(seat: Seat) -> tuple[str, str, str, str]:
    """A rep who owns open deals in the period, and their manager: (rep id, rep name, manager id, manager name)."""
    people = seat.people()
    deals = seat.deals(DealsRequest(measure="commit", period=PERIOD, limit=0))
    for d in deals.deals:
        rep = people.people.get(d.owner_id)
        if rep and rep.manager_id and sum(p.name == rep.name for p in people.people.values()) == 1:
            return rep.id, rep.name, rep.manager_id, people.name(rep.manager_id)
    raise AssertionError("the demo has a rep with commit deals")


def test_names_resolve_and_ambiguity_lists_the_matches(demo_seat: Seat) -> None:
    people = demo_seat.people()
    rep_id, rep_name, _, _ = _rep_and_manager(demo_seat)
    assert people.resolve(rep_name) == rep_id
    assert people.resolve(rep_name.upper()) == rep_id
    assert people.resolve(rep_id) == rep_id
    assert people.resolve("total", allow_total=True) == "total"
    surname = rep_name.split()[-1]
    same = [p for p in people.people.values() if surname.lower() in p.name.lower()]
    if len(same) > 1:
        with pytest.raises(InputError) as error:
            people.resolve(surname)
        for p in same[:12]:
            assert f"{p.name} ({p.id}" in str(error.value)
    with pytest.raises(InputError, match="no person named"):
        people.resolve("Nobody Atall")


def test_grid_calls_overrides_and_the_deals_behind_every_number(demo_seat: Seat) -> None:
    demo_seat.settings = Settings(scenarios=1_000)
    rep_id, rep_name, boss_id, boss_name = _rep_and_manager(demo_seat)
    # a call by name, then the manager's override (a reason is required), every version kept
    # (no period: the quarter holding the as-of date)
    call = demo_seat.call_submit(CallSubmitRequest(node=rep_name, amount=250_000, author=rep_name))
    assert (call.node, call.node_name, call.version, call.period) == (rep_id, rep_name, 1, PERIOD)
    with pytest.raises(InputError, match="reason"):
        demo_seat.call_submit(CallSubmitRequest(node=rep_id, period=PERIOD, amount=90_000, author=boss_name))
    override = demo_seat.call_submit(
        CallSubmitRequest(node=rep_id, period=PERIOD, amount=90_000, author=boss_name, reason="Acme slips to Q1")
    )
    history = demo_seat.call_list(CallListRequest(period=PERIOD, node=rep_name, history=True)).calls
    assert [(c.version, c.amount, c.author) for c in history] == [(1, 250_000, rep_name), (2, 90_000, boss_name)]
    assert all(c.node_name == rep_name for c in history)

    grid = demo_seat.forecast_grid(GridRequest(period=PERIOD))
    assert grid.as_of == DEMO_TODAY
    assert grid.since == DEMO_TODAY - timedelta(days=7)
    rows = {r.node: r for r in grid.rows}
    total = grid.rows[0]
    assert total.node == "total"
    forecast = demo_seat.forecast(ForecastRequest(period=PERIOD))
    assert (total.p10, total.p50, total.p90, total.closed_won) == (
        forecast.total.p10, forecast.total.p50, forecast.total.p90, forecast.total.closed_won,
    )  # fmt: skip
    row = rows[rep_id]
    assert row.name == rep_name
    assert (row.call, row.call_author, row.override, row.override_author) == (250_000, rep_name, 90_000, boss_name)
    assert row.override_reason == "Acme slips to Q1"
    assert row.stands_on == 90_000
    outlook = demo_seat.forecast_desk._outlook(demo_seat.period(PERIOD), DEMO_TODAY)
    expected = check_call(outlook, rep_id, 90_000, "commit", 2, demo_seat.settings.guard)
    assert (row.verdict, row.p_at_least) == (expected.verdict, expected.p_outcome_at_least_call)
    assert override.check is not None
    assert override.check.verdict == row.verdict
    # quota, attainment and gap from the quotas table
    assert total.quota is not None
    assert total.quota > 0
    assert total.attainment == pytest.approx(total.closed_won / total.quota, abs=1e-4)
    assert total.gap_to_quota == pytest.approx(total.quota - total.p50, abs=0.01)
    # every number opens the deals behind it: the drill-down adds up to the grid, by another path (SQL vs arrays)
    for measure, field in (("commit", "commit"), ("best-case", "best_case"), ("pipeline", "pipeline")):
        mine = demo_seat.deals(DealsRequest(measure=measure, period=PERIOD, owner=rep_name, limit=0))
        assert mine.amount == pytest.approx(getattr(row, field), abs=0.01), measure
        team = demo_seat.deals(DealsRequest(measure=measure, period=PERIOD, team=boss_name, limit=0))
        assert team.amount == pytest.approx(getattr(rows[boss_id], field), abs=0.01), measure
        assert all(d.owner_name for d in team.deals)
    won = demo_seat.deals(DealsRequest(measure="closed-won", period=PERIOD, limit=0))
    assert won.amount == pytest.approx(total.closed_won, abs=0.01)
    # change since last week: the commit drill-down a week apart
    then = demo_seat.deals(DealsRequest(measure="commit", period=PERIOD, as_of=grid.since, limit=0))
    now = demo_seat.deals(DealsRequest(measure="commit", period=PERIOD, limit=0))
    assert total.change.commit == pytest.approx(now.amount - then.amount, abs=0.01)
    # bookings day by day end at closed-won; last quarter is there over its whole length; quota by segment adds up
    assert grid.bookings[-1].amount == pytest.approx(total.closed_won, abs=0.01)
    assert len(grid.bookings) == (DEMO_TODAY - demo_seat.period(PERIOD).start).days + 1
    assert grid.last_period == "2026-Q3"
    assert len(grid.last_bookings) == demo_seat.period("2026-Q3").days
    last = demo_seat.deals(DealsRequest(measure="closed-won", period="2026-Q3", limit=0))
    assert grid.last_bookings[-1].amount == pytest.approx(last.amount, abs=0.01)
    assert sum(grid.segment_quota.values()) == pytest.approx(total.quota, abs=0.01)
    # a team's grid is the manager and everyone under them
    team_grid = demo_seat.forecast_grid(GridRequest(period=PERIOD, team=boss_name))
    assert team_grid.rows[0].node == boss_id
    assert rep_id in {r.node for r in team_grid.rows}
    assert len(team_grid.rows) < len(grid.rows)
    # a call beyond the range names the deals it needs (deal and owner names, not ids)
    bold = demo_seat.call_submit(CallSubmitRequest(node="total", amount=total.p90 * 1.5, author="Test"))
    assert bold.check is not None
    assert bold.check.flagged
    assert bold.check.deals_needed
    names = demo_seat.deals(DealsRequest(measure="open", limit=0))
    by_id = {d.opportunity_id: (d.name, d.owner_name) for d in names.deals}
    for d in bold.check.deals_needed:
        assert (d.name, d.owner_name) == by_id[d.opportunity_id]


def test_stalls_list_options_and_deal_inspection(demo_seat: Seat) -> None:
    everything = demo_seat.stalls(StallsRequest())
    assert everything.matched is None
    late = [i for i in everything.items if i.past_due_days]
    assert late
    assert all(i.risks[0].kind == "past-due" for i in late)
    rep_id, rep_name, _, _ = _rep_and_manager(demo_seat)
    mine = demo_seat.stalls(StallsRequest(owner=rep_name, sort="amount", limit=2))
    theirs = [i for i in everything.items if i.owner_id == rep_id]
    assert mine.matched == len(theirs)
    assert [i.opportunity_id for i in mine.items] == [
        i.opportunity_id for i in sorted(theirs, key=lambda i: -i.amount)[:2]
    ]
    assert all(i.owner_name == rep_name for i in mine.items)
    smb = demo_seat.stalls(StallsRequest(segment="SMB"))
    assert smb.items
    assert all(i.segment == "SMB" for i in smb.items)
    # one deal, inspected by name: its pushes are dated and counted
    pushed = next(i for i in everything.items if i.pushes >= 2)
    deal = demo_seat.deal(DealRequest(deal=pushed.name or pushed.opportunity_id))
    assert deal.opportunity_id == pushed.opportunity_id
    signal = next(s for s in deal.signals if s.kind == "pushed")
    assert len(signal.events) == deal.pushes == pushed.pushes
    assert deal.not_assessed  # the demo exports neither NextStep nor OpportunityContactRole: said, not guessed


def test_as_of_defaults_to_the_last_snapshot(demo_seat: Seat) -> None:
    demo_seat.clock = lambda: DEMO_TODAY + timedelta(days=40)
    assert demo_seat.data_through() == DEMO_TODAY
    assert demo_seat.today() == DEMO_TODAY
    assert demo_seat.status(StatusRequest()).as_of == DEMO_TODAY
    demo_seat.clock = lambda: DEMO_TODAY - timedelta(days=3)  # a clock before the snapshot wins
    assert demo_seat.today() == DEMO_TODAY - timedelta(days=3)


def test_salesforce_sample_flags_every_past_due_open_deal(tmp_path: Path) -> None:
    sample = shared_data("salesforce-sample")
    with open_seat(tmp_path / "sf.duckdb") as seat:
        seat.ingest(IngestRequest(path=sample))
        assert seat.today() == date(2026, 3, 7)  # the export's last day, not the machine's
        status = seat.status()
        assert status.closed_won_quarter_to_date.period == "2026-Q1"
        result = seat.stalls(StallsRequest())
        open_deals = seat.deals(DealsRequest(measure="open", limit=0))
        past_due = seat.deals(DealsRequest(measure="past-due", limit=0))
    assert open_deals.count == 16
    assert past_due.count == 13  # three open deals close on 2026-03-31, after the export
    flagged = {i.opportunity_id for i in result.items if i.past_due_days}
    assert flagged == {d.opportunity_id for d in past_due.deals}
    for item in result.items:
        kinds = [r.kind for r in item.risks]
        assert "no-next-step" in kinds  # the sample exports NextStep, blank on every open deal
        assert item.past_due_days is not None
        assert item.past_due_days > 700


def test_contact_roles_make_single_threaded_deals(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(shared_data("salesforce-sample"), folder)
    (folder / "OpportunityContactRole.csv").write_text(
        "Id,OpportunityId,ContactId,Role,IsPrimary,IsDeleted\n"
        "00K1,006bm00000LKJNqAAP,003a,Decision Maker,true,false\n"
        "00K2,006bm00000LKJNqAAP,003b,Influencer,false,false\n"
        "00K3,006bm00000LKJNSAA5,003c,Decision Maker,true,false\n"
        "00K4,006bm00000LKJNSAA5,003d,Influencer,false,true\n"
    )
    with open_seat(tmp_path / "s.duckdb") as seat:
        seat.ingest(IngestRequest(path=folder))
        items = {i.opportunity_id: i for i in seat.stalls(StallsRequest()).items}
        two = seat.deal(DealRequest(deal="006bm00000LKJNqAAP"))
    threads = {k: [r.value for r in i.risks if r.kind == "single-threaded"] for k, i in items.items()}
    assert threads["006bm00000LKJNqAAP"] == []  # two contacts
    assert threads["006bm00000LKJNSAA5"] == [1]  # the second contact role was deleted
    assert threads["006bm00000LKJNcAAP"] == [0]
    assert two.contacts == 2
    assert not any("single-threaded" in m for m in two.not_assessed)


def test_csv_cells_that_would_run_as_formulas_are_neutralised() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    for text in ("+1+cmd", "-2+3", "@SUM(A1)", "\tx", "  =1+1"):
        assert str(safe_cell(text)).startswith("'")
    assert safe_cell(-1250.5) == -1250.5
    assert safe_cell("Acme - Renewal") == "Acme - Renewal"
    text = csv_text(["name", "amount"], [["=1+1", 5], [None, -3]])
    assert list(csv.reader(io.StringIO(text))) == [["name", "amount"], ["'=1+1", "5"], ["", "-3"]]


def test_cli_grid_and_lists_fit_100_columns_and_refuse_ambiguous_names(
    demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path
) -> None:
    store = copy_demo(demo_store_file, demo_shelf, tmp_path / "s.duckdb")
    env = {"SALESLEAD_STORE": str(store)}
    with open_seat(store) as seat:
        seat.clock = lambda: DEMO_TODAY
        rep_id, rep_name, _, boss_name = _rep_and_manager(seat)
        surname = rep_name.split()[-1]
        ambiguous = sum(surname.lower() in p.name.lower() for p in seat.people().people.values()) > 1
    result = runner.invoke(app, ["forecast", "grid", "--period", PERIOD, "--scenarios", "500"], env=env)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    assert rep_name in result.output
    assert rep_id not in result.output
    assert "end of the store's last snapshot" in result.output
    assert "gap to" in result.output  # quota − P50, signed as on the grid page and in docs/forecast.md
    result = runner.invoke(app, ["stalls", "--owner", rep_name, "--limit", "3", "--sort", "amount"], env=env)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    result = runner.invoke(app, ["deals", "--measure", "commit", "--team", boss_name, "--csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows
    assert all(r["owner_name"] and r["opportunity_id"] for r in rows)
    result = runner.invoke(app, ["stalls", "--sort", "sideways"], env=env)
    assert result.exit_code == 2
    if ambiguous:
        result = runner.invoke(
            app, ["call", "submit", "--node", surname, "--period", PERIOD, "--amount", "1", "--author", "x"], env=env
        )
        assert result.exit_code == 2
        assert "fits" in result.output


def test_handoffs_list_by_owner_segment_sort_and_limit() -> None:
    from datetime import datetime

    from saleslead.role.handoffs import Handoff
    from saleslead.role.outbox_view import select_handoffs

    def handoff(n: int, owner: str | None, segment: str | None, amount: float | None) -> Handoff:
        deal = {"owner_id": owner, "segment": segment, "amount": amount} if owner else None
        payload = {"deal": deal} if deal else {"segment": segment}
        return Handoff(
            id=f"ho-{n}", from_role="sales-lead", to_role="account-executive", relation="hands-off",
            boundary="deal-execution", reason="r", request=f"work deal {n}", payload_key="k", payload=payload,
            engagement="e", sequence=n, as_of=None, created_at=datetime(2026, 1, 1), status="open",
        )  # fmt: skip

    outbox = [handoff(1, "u1", "SMB", 10.0), handoff(2, "u2", "SMB", 30.0), handoff(3, "u1", "Enterprise", 20.0),
              handoff(4, None, "SMB", None)]  # fmt: skip
    assert [h.id for h in select_handoffs(outbox, owners={"u1"})] == ["ho-1", "ho-3"]
    assert [h.id for h in select_handoffs(outbox, segment="SMB")] == ["ho-1", "ho-2", "ho-4"]
    assert [h.id for h in select_handoffs(outbox, sort="amount", limit=2)] == ["ho-2", "ho-3"]
    assert [h.id for h in select_handoffs(outbox, owners={"u1"}, segment="SMB")] == ["ho-1"]
