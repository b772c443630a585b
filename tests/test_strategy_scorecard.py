"""Strategy scorecard: a hand-built company whose answers are known, leakage, and the demo company."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

from saleslead.errors import InputError, InsufficientDataError
from saleslead.funnel import state_as_of
from saleslead.seat import Seat
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.strategy.rules import StrategyRules
from saleslead.strategy.scorecard import CellScore, Scorecard, ScoreRequest, months_back, parse_dimensions, score

from .builders import export

AS_OF = date(2025, 12, 31)
RULES = StrategyRules(min_deals=4, min_cohort=4, maturity_days=60)


def deal(
    oid: str,
    cell: tuple[str, str, str],
    created: date,
    closed: date | None,
    won: bool,
    created_amount: float,
    final_amount: float | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One opportunity (its static attributes) and its history: created, then won or lost on ``closed``."""
    segment, motion, channel = cell
    final = created_amount if final_amount is None else final_amount
    events = [
        {
            "opportunity_id": oid,
            "changed_at": datetime.combine(created, datetime.min.time()),
            "stage": "Qualify",
            "amount": created_amount,
            "close_date": created + timedelta(days=45),
        }
    ]
    if closed is not None:
        events.append(
            {
                "opportunity_id": oid,
                "changed_at": datetime.combine(closed, datetime.min.time()),
                "stage": "Won" if won else "Lost",
                "amount": final,
                "close_date": closed,
            }
        )
    opp = {
        "opportunity_id": oid,
        "owner_id": "u1",
        "segment": segment,
        "motion": motion,
        "channel": channel,
        "product": "Core",
        "created_at": datetime.combine(created, datetime.min.time()),
    }
    return opp, events


INBOUND = ("SMB", "New Business", "Inbound")
PARTNER = ("SMB", "New Business", "Partner")
LOSER = ("Enterprise", "New Business", "Event")
THIN = ("Mid-Market", "Renewal", "Inbound")


def company() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Four cells with built-in answers (all deals created and decided in 2025, as of 31 Dec 2025).

    * Inbound: 10 deals created at 100, 5 won at 120 after 30 days, 5 lost → maintain
    * Partner: 10 deals at 100, 8 won after 20 days → pursue
    * Event (Enterprise): 10 deals at 1,000, none won → do-not-compete (it only loses money)
    * Mid-Market Renewal: 2 deals → insufficient-evidence
    """
    deals = []
    for i in range(10):
        start = date(2025, 3, 1) + timedelta(days=i)
        deals.append(deal(f"IN{i}", INBOUND, start, start + timedelta(days=30), i < 5, 100.0, 120.0 if i < 5 else None))
        deals.append(deal(f"PA{i}", PARTNER, start, start + timedelta(days=20), i < 8, 100.0))
        deals.append(deal(f"EV{i}", LOSER, start, start + timedelta(days=40), False, 1000.0))
    deals.append(deal("TH0", THIN, date(2025, 4, 1), date(2025, 5, 1), True, 50.0))
    deals.append(deal("TH1", THIN, date(2025, 4, 2), date(2025, 5, 2), False, 50.0))
    return deals


def build(path: Path, deals: list[tuple[dict[str, Any], list[dict[str, Any]]]], snapshot: datetime) -> Store:
    store = Store.open(path)
    store.ingest(export(snapshot, [o for o, _ in deals], [e for _, events in deals for e in events]))
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with build(tmp_path / "s.duckdb", company(), datetime(2026, 1, 1)) as built:
        yield built


def card_of(store: Store, as_of: date = AS_OF, **kw: Any) -> Scorecard:
    kw.setdefault("rules", RULES)
    return score(store, ScoreRequest(as_of=as_of, **kw), Settings(), as_of)


def cell(card: Scorecard, key: tuple[str, ...]) -> CellScore:
    return next(c for c in card.cells if c.key == " / ".join(key))


def test_cells_by_hand(store: Store) -> None:
    card = card_of(store)
    assert [c.key for c in card.cells] == [
        "Enterprise / New Business / Event",
        "Mid-Market / Renewal / Inbound",
        "SMB / New Business / Inbound",
        "SMB / New Business / Partner",
    ]
    inbound = cell(card, INBOUND)
    assert (inbound.deals, inbound.won) == (10, 5)
    assert inbound.win_rate == pytest.approx(0.5)
    # Wilson at 90%: z = 1.6449, z² = 2.7055; centre 0.5, half = z·√(0.025 + z²/400) / (1 + z²/10) = 0.23075
    assert inbound.win_rate_low == pytest.approx(0.26925, abs=1e-4)
    assert inbound.win_rate_high == pytest.approx(0.73075, abs=1e-4)
    assert inbound.win_rate_value == pytest.approx(600 / 1100)  # 5 × 120 won of 600 + 500 decided
    assert inbound.avg_deal == pytest.approx(120.0)
    assert inbound.cycle_days == pytest.approx(30.0)
    assert inbound.velocity == pytest.approx(10 * 0.5 * 120 / 30)  # 20 dollars a day
    assert inbound.created_amount == pytest.approx(1000.0)  # created at 100 each, before they grew to 120
    assert inbound.yield_ == pytest.approx(0.6)  # 600 won of 1,000 created
    assert inbound.required_coverage == pytest.approx(1 / 0.6)
    assert inbound.recommendation == "maintain"

    partner = cell(card, PARTNER)
    assert partner.velocity == pytest.approx(10 * 0.8 * 100 / 20)  # 40
    assert partner.yield_ == pytest.approx(0.8)
    assert partner.recommendation == "pursue"
    assert "1.33× the median" in partner.evidence  # 0.8 against the median cell's 0.6

    assert card.company.median_yield == pytest.approx(0.6)  # median of 0.6, 0.8, 0 (the thin cell not counted)
    assert card.company.median_velocity == pytest.approx(20.0)  # median of 20, 40, 0
    assert card.company.judged_cells == 3
    assert card.company.deals == 32
    assert card.lookback_from == date(2024, 12, 31)
    assert (card.cohort_from, card.cohort_to) == (date(2024, 11, 1), date(2025, 11, 1))


def test_a_cell_that_loses_money_is_do_not_compete(store: Store) -> None:
    loser = cell(card_of(store), LOSER)
    assert loser.recommendation == "do-not-compete"
    assert loser.yield_ == 0.0
    # 0 won of 10 created: Wilson upper bound at 90% is 2·(z²/20)/(1 + z²/10) = 0.2129, below 0.5 × 0.6
    assert loser.yield_high == pytest.approx(0.2129, abs=1e-4)
    assert loser.rules_fired == ["do_not_compete_yield"]
    assert "Even the upper bound of its yield (21%" in loser.evidence
    assert "$10,000 pipeline created" in loser.evidence

    costly = cell(card_of(store, rules=RULES.model_copy(update={"cost_per_deal": 50.0})), LOSER)
    assert costly.rules_fired[0] == "cost_per_deal"
    assert "10 deals cost $500 to work ($50 each) and booked $0" in costly.evidence


def test_a_thin_cell_is_insufficient_evidence(store: Store) -> None:
    thin = cell(card_of(store), THIN)
    assert thin.recommendation == "insufficient-evidence"
    assert thin.thin
    assert thin.deals == 2
    # no precise-looking number: only the counts and the honest range
    assert (thin.win_rate, thin.avg_deal, thin.velocity, thin.yield_, thin.cycle_days) == (None,) * 5
    assert thin.win_rate_low is not None
    assert thin.win_rate_high is not None
    assert thin.win_rate_high - thin.win_rate_low > 0.5
    assert "Only 2 decided deals (the rules need 4)" in thin.evidence


def test_every_judged_recommendation_carries_numbers(store: Store) -> None:
    for c in card_of(store).cells:
        assert any(ch.isdigit() for ch in c.evidence), c.key


def test_no_leakage(tmp_path: Path) -> None:
    """As of 31 March the answer is the same on a store cut then, on the full one, and with later deals."""
    day = date(2025, 3, 31)
    cut = []
    for opp, events in company():
        known = [e for e in events if e["changed_at"].date() <= day]
        if known:
            cut.append((opp, known))
    later = deal("LATE", LOSER, date(2025, 8, 1), date(2025, 9, 1), True, 9_999.0)
    rules = StrategyRules(min_deals=4, min_cohort=4, maturity_days=30)
    with build(tmp_path / "full.duckdb", [*company(), later], datetime(2026, 1, 1)) as full:
        answer = card_of(full, day, rules=rules).model_dump()
    with build(tmp_path / "cut.duckdb", cut, datetime(2025, 3, 31, 23)) as short:
        assert answer == card_of(short, day, rules=rules).model_dump()
    assert answer["company"]["deals"] == 11  # IN0 closed on 31 March and all ten Partner deals before


def test_product_as_a_dimension_and_bad_requests(store: Store) -> None:
    card = card_of(store, by=("product",))
    assert [(c.key, c.product, c.deals) for c in card.cells] == [("Core", "Core", 32)]
    assert card.cells[0].segment is None
    assert parse_dimensions("segment, sector") == ("segment", "industry")
    with pytest.raises(InputError):
        parse_dimensions("segment,colour")
    with pytest.raises(InsufficientDataError):
        card_of(store, as_of=date(2024, 1, 31))


def test_months_back() -> None:
    assert months_back(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_back(date(2025, 12, 31), 12) == date(2024, 12, 31)
    assert months_back(date(2024, 2, 29), 12) == date(2023, 2, 28)


def test_demo_company_scorecard(demo_seat: Seat) -> None:
    card = demo_seat.strategy_score(ScoreRequest())
    assert card.as_of == date(2026, 11, 24)
    dumped = card.model_dump(mode="json")
    first = dumped["cells"][0]
    for field in (
        "segment",
        "motion",
        "channel",
        "deals",
        "win_rate",
        "win_rate_low",
        "win_rate_high",
        "avg_deal",
        "cycle_days",
        "velocity",
        "yield",
        "recommendation",
        "evidence",
    ):
        assert field in first
    assert sum(card.recommendations.values()) == len(card.cells)
    assert sum(c.deals for c in card.cells) == card.company.deals
    judged = [c for c in card.cells if c.recommendation != "insufficient-evidence"]
    assert judged
    assert all(c.deals >= 30 and c.win_rate is not None for c in judged)
    assert all(c.win_rate is None for c in card.cells if c.recommendation == "insufficient-evidence")

    # The biggest cell, recounted by hand from the point-in-time state.
    big = max(card.cells, key=lambda c: c.deals)
    state = state_as_of(demo_seat.store, card.as_of).to_pyarrow()
    mask = pc.and_(
        pc.and_(pc.equal(state["segment"], big.segment), pc.equal(state["motion"], big.motion)),
        pc.equal(state["channel"], big.channel),
    )
    rows = [r for r in state.filter(mask).to_pylist() if r["is_closed"]]
    decided = [r for r in rows if card.lookback_from < min(r["close_date"], r["stage_entered_at"].date()) <= card.as_of]
    won = [r for r in decided if r["is_won"]]
    assert big.deals == len(decided)
    assert big.won == len(won)
    assert big.won_amount == pytest.approx(sum(r["amount"] for r in won))
