"""The strategy as a versioned decision record, and the check that flags pipeline and effort where it says not to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from saleslead.errors import InputError, NotFoundError
from saleslead.seat import Seat
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.strategy.check import FLAG_KIND, CheckRequest
from saleslead.strategy.decisions import DecideRequest, ShowRequest

from .builders import export
from .test_strategy_scorecard import AS_OF, INBOUND, LOSER, PARTNER, RULES, company, deal


@pytest.fixture
def seat(tmp_path: Path) -> Iterator[Seat]:
    deals = [
        *company(),
        deal("NEW1", LOSER, date(2026, 1, 15), None, False, 700.0),  # created after the decision, in a banned cell
        deal("NEW2", INBOUND, date(2026, 1, 20), None, False, 300.0),  # created after, in a cell we compete in
    ]
    activities = [
        {"opportunity_id": "NEW1", "activity_date": date(2026, 1, 20)},
        {"opportunity_id": "NEW1", "activity_date": date(2026, 2, 1)},
        {"opportunity_id": "EV0", "activity_date": date(2026, 2, 3)},  # effort on an old deal of the banned cell
        {"opportunity_id": "IN0", "activity_date": date(2026, 2, 3)},
        {"opportunity_id": "EV1", "activity_date": date(2025, 12, 1)},  # before the decision: not flagged
    ]
    store = Store.open(tmp_path / "s.duckdb")
    store.ingest(
        export(
            datetime(2026, 3, 1),
            [o for o, _ in deals],
            [e for _, events in deals for e in events],
            activities=activities,
        )
    )
    with Seat(store, Settings(), "acme", clock=lambda: date(2026, 3, 1)) as opened:
        yield opened


def key(cell: tuple[str, str, str]) -> str:
    return " / ".join(cell)


def test_decide_adopts_the_scorecard_and_check_flags(seat: Seat) -> None:
    decision = seat.strategy_decide(DecideRequest(author="Ana Ruiz", as_of=AS_OF, rules=RULES, note="FY26 plan"))
    assert decision.version == 1
    assert (decision.author, decision.decided_on, decision.note) == ("Ana Ruiz", AS_OF, "FY26 plan")
    assert [c.key for c in decision.pursue] == [key(PARTNER)]
    assert [c.key for c in decision.do_not_compete] == [key(LOSER)]
    assert [c.key for c in decision.maintain] == [key(INBOUND)]
    assert decision.undecided == ["Mid-Market / Renewal / Inbound"]
    banned = decision.do_not_compete[0]
    assert banned.source == "scorecard"
    assert banned.cell == {"segment": "Enterprise", "motion": "New Business", "channel": "Event"}
    assert "Even the upper bound of its yield" in banned.reason

    result = seat.strategy_check(CheckRequest(as_of=date(2026, 2, 28)))
    assert (result.strategy_version, result.decided_on) == (1, AS_OF)
    assert [(f.kind, f.opportunity_id, f.new) for f in result.flags] == [
        ("pipeline", "NEW1", True),
        ("effort", None, True),
    ]
    assert result.pipeline_flagged == 700.0
    assert result.pipeline_deals == 1
    effort = result.flags[1]
    assert (effort.activities, effort.opportunities) == (3, 2)  # NEW1 twice, EV0 once; EV1 was before
    assert effort.amount == 700.0  # only NEW1 is still open
    assert result.flags[0].message.startswith("NEW1 (owner u1) was created on 2026-01-15 in Enterprise / New")

    again = seat.strategy_check(CheckRequest(as_of=date(2026, 2, 28)))
    assert again.new_flags == 0
    assert all(f.first_flagged == date(2026, 2, 28) for f in again.flags)
    remembered = seat.records.current(FLAG_KIND)
    assert [r.key for r in remembered] == ["v1/Enterprise / New Business / Event"]
    assert remembered[0].payload["pipeline"] == {"NEW1": "2026-02-28"}
    assert remembered[0].payload["effort"]["activities"] == 3
    assert remembered[0].version == 1  # unchanged on the second check: not written again
    later = seat.strategy_check(CheckRequest(as_of=date(2026, 3, 1)))
    assert [(f.new, f.first_flagged) for f in later.flags] == [(False, date(2026, 2, 28))] * 2

    early = seat.strategy_check(CheckRequest(as_of=date(2026, 1, 10)))
    assert early.flags == []
    with pytest.raises(NotFoundError):
        seat.strategy_check(CheckRequest(as_of=date(2025, 12, 30)))


def test_overrides_make_a_new_version(seat: Seat) -> None:
    seat.strategy_decide(DecideRequest(author="Ana Ruiz", as_of=AS_OF, rules=RULES))
    with pytest.raises(InputError):
        seat.strategy_decide(DecideRequest(author="Ana Ruiz", as_of=AS_OF, rules=RULES, pursue=(key(LOSER),)))
    with pytest.raises(InputError):
        seat.strategy_decide(DecideRequest(author="Ana", as_of=AS_OF, pursue=("SMB / Inbound",), reason="x"))
    v2 = seat.strategy_decide(
        DecideRequest(
            author="Ben Okafor",
            as_of=AS_OF,
            rules=RULES,
            pursue=("Enterprise/New Business/Event",),
            do_not_compete=(key(INBOUND),),
            reason="New events team from January",
        )
    )
    assert v2.version == 2
    assert [(c.key, c.source) for c in v2.pursue] == [(key(LOSER), "override"), (key(PARTNER), "scorecard")]
    assert v2.pursue[0].reason.startswith("New events team from January. The scorecard said do-not-compete:")
    assert [c.key for c in v2.do_not_compete] == [key(INBOUND)]

    view = seat.strategy_show()
    assert view.decision.version == 2
    assert [(v.version, v.author, v.pursue, v.do_not_compete) for v in view.versions] == [
        (1, "Ana Ruiz", 1, 1),
        (2, "Ben Okafor", 2, 1),
    ]
    assert [c.key for c in seat.strategy_show(ShowRequest(version=1)).decision.do_not_compete] == [key(LOSER)]
    with pytest.raises(NotFoundError):
        seat.strategy_show(ShowRequest(version=3))

    # Under v2 the banned cell is SMB Inbound: NEW2 is flagged, NEW1 no longer is.
    result = seat.strategy_check(CheckRequest(as_of=date(2026, 2, 28), remember=False))
    assert [(f.kind, f.opportunity_id) for f in result.flags] == [("pipeline", "NEW2"), ("effort", None)]
    assert result.activities_flagged == 1  # IN0 on 3 February
    assert seat.records.current(FLAG_KIND) == []


def test_nothing_decided_yet(seat: Seat) -> None:
    with pytest.raises(NotFoundError):
        seat.strategy_show()
