"""A deal hand-off carries the deals the request names, and says which names matched nothing."""

from __future__ import annotations

from saleslead.funnel.state import state_as_of
from saleslead.role.desk import AskRequest
from saleslead.role.named import names_in
from saleslead.seat import Seat

from .conftest import DEMO_TODAY


def test_names_are_the_capitalised_runs_after_the_first_word() -> None:
    assert names_in("can you work the Acme deal?") == ["Acme"]
    assert names_in("Close the Blue Harbor Systems deal this week") == ["Blue Harbor Systems"]
    assert names_in("what is the CFO's view of Q4") == []


def test_a_named_account_hands_over_its_open_deals(demo_seat: Seat) -> None:
    state = state_as_of(demo_seat.store, DEMO_TODAY)
    accounts = demo_seat.store.table("accounts")
    open_deals = state.filter(~state.is_closed).join(accounts, "account_id")
    row = open_deals.select("account_id", account=accounts.name).limit(1).to_pyarrow().to_pylist()[0]
    result = demo_seat.ask(AskRequest(text=f"can you work the {row['account']} deal?", as_of=DEMO_TODAY))
    [handoff] = result.handoffs
    assert handoff.to_role == "account-executive"
    deals = handoff.payload["deals"]
    assert deals, handoff.payload
    ids = {d["opportunity_id"] for d in deals}
    owned = state.filter(state.account_id == row["account_id"]).opportunity_id.to_pyarrow().to_pylist()
    assert ids <= set(owned)
    assert handoff.payload["unmatched"] == []


def test_a_name_nothing_matches_is_said(demo_seat: Seat) -> None:
    result = demo_seat.ask(AskRequest(text="can you work the Zyxwvut deal?", as_of=DEMO_TODAY))
    [handoff] = result.handoffs
    assert handoff.payload["deals"] == []
    assert handoff.payload["unmatched"] == ["Zyxwvut"]
