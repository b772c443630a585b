"""Lanes: table-driven routing, several phrasings per boundary, in lane, mixed, unclear, typed intents."""

from __future__ import annotations

import pytest

from saleslead.errors import InputError
from saleslead.role.router import route
from saleslead.role.schema import load_role

ROLE = load_role()

OUT_OF_LANE = [
    # working a deal → account-executive
    ("Can you work the Acme Networks deal this week?", "account-executive"),
    ("Help me close the Globex deal before Friday", "account-executive"),
    ("Negotiate the renewal price with Initech", "account-executive"),
    ("What discount should we give Umbrella to get it signed?", "account-executive"),
    ("Please follow up with the champion at Stark and unstick it", "account-executive"),
    ("Draft the proposal for Wayne Enterprises", "account-executive"),
    # building a prospect list / booking meetings → sales-development-rep
    ("Build a prospect list of fintech companies in Berlin", "sales-development-rep"),
    ("Book meetings with the top 20 target accounts", "sales-development-rep"),
    ("Can you set up a meeting with the CFO of Hooli?", "sales-development-rep"),
    ("Write an outbound sequence for healthcare CIOs", "sales-development-rep"),
    ("Qualify the inbound leads from the webinar", "sales-development-rep"),
    ("Cold call the trade-show list", "sales-development-rep"),
    # reconciling quotas to the books → finance-analyst
    ("Reconcile the Q3 quotas to the books", "finance-analyst"),
    ("Tie out the commission payout with the general ledger", "finance-analyst"),
    ("Reconcile quota attainment with booked revenue", "finance-analyst"),
    ("Do the rev rec for the Enterprise deals", "finance-analyst"),
    ("True up the P&L for the sales org", "finance-analyst"),
]

IN_LANE = [
    ("What's the forecast for Q4?", "forecast"),
    ("Will we hit the number this quarter?", "forecast"),
    ("Do we have enough pipeline to cover the goal?", "coverage"),
    ("What's our coverage in Mid-Market?", "coverage"),
    ("How much pipeline do we need to create each week?", "targets"),
    ("Which deals are stalled?", "stalls"),
    ("Show me the deals pushed more than twice", "stalls"),
    ("How many reps do we need to hire next quarter?", "roster_plan"),
    ("Is the call realistic?", "call_check"),
    ("Where does the funnel leak?", "pipeline"),
    ("Which segment should we focus on, and where do we not compete?", "strategy_score"),
]


@pytest.mark.parametrize(("text", "owner"), OUT_OF_LANE)
def test_out_of_lane_goes_to_the_owner(text: str, owner: str) -> None:
    r = route(ROLE, text)
    assert r.verdict == "out_of_lane", r
    assert r.owners == [owner]
    assert r.actions == []


@pytest.mark.parametrize(("text", "action"), IN_LANE)
def test_in_lane_names_the_action(text: str, action: str) -> None:
    r = route(ROLE, text)
    assert r.verdict == "in_lane", r
    assert r.actions[0] == action
    assert r.boundaries == []


def test_boundary_words_are_set_aside_before_the_seat_reads_its_own() -> None:
    # "quota" alone is in the seat's vocabulary, but "reconcile … books" makes it finance's
    r = route(ROLE, "Reconcile the quota plan to the books")
    assert (r.verdict, r.owners, r.actions) == ("out_of_lane", ["finance-analyst"], [])


@pytest.mark.parametrize(
    ("text", "actions", "owners"),
    [
        ("What's our Q4 forecast, and book meetings with the top 20 accounts", ["forecast"], ["sales-development-rep"]),
        ("Which deals are stalled? Then work the Acme deal for me", ["stalls"], ["account-executive"]),
        ("Give me the coverage and reconcile it to the books", ["coverage"], ["finance-analyst"]),
    ],
)
def test_mixed_answers_in_lane_and_hands_off_the_rest(text: str, actions: list[str], owners: list[str]) -> None:
    r = route(ROLE, text)
    assert r.verdict == "mixed"
    assert (r.actions, r.owners) == (actions, owners)


@pytest.mark.parametrize("text", ["What's the weather in Paris?", "hello", ""])
def test_unclear_asks(text: str) -> None:
    r = route(ROLE, text)
    assert r.verdict == "unclear"
    assert r.question == ROLE.unclear_question


def test_typed_intents() -> None:
    assert route(ROLE, intent="forecast").verdict == "in_lane"
    r = route(ROLE, intent="top-of-funnel")
    assert (r.verdict, r.owners) == ("out_of_lane", ["sales-development-rep"])
    assert route(ROLE, intent="finance-analyst").boundaries == ["financial-model"]
    with pytest.raises(InputError):
        route(ROLE, intent="bake-a-cake")


def test_routing_is_deterministic_and_records_what_matched() -> None:
    a = route(ROLE, "Help me close the Globex deal")
    assert a == route(ROLE, "Help me close the Globex deal")
    assert [(m.kind, m.id, m.text) for m in a.matches] == [("boundary", "deal-execution", "close the globex deal")]
