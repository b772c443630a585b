"""The funnel measures on every engine the store supports, and with events that change only the owner.

The hand-made org of ``funnel_fixture`` (every number worked out by hand there and in the other funnel
tests) is ingested into DuckDB and into PostgreSQL (when the conformance fixture can start one): the
measures compile to each engine's SQL and must give the same hand-checked numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from saleslead.funnel import (
    cycle_length,
    deals,
    period_position,
    same_point_yield,
    spans,
    stage_conversion,
    stage_durations,
)
from saleslead.ingest.canonical import OWNER_CHANGES
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.targets.coverage import compute_coverage

from .builders import export, table
from .funnel_fixture import AS_OF, EVENTS, QUOTAS, USERS, _opportunities

Q2 = Period.parse("2025-Q2")

#: B is handed from u1 to u2 on 5 Jan 2025, in the middle of its Qualify stay: an event with no stage change.
HANDOVER = [{"opportunity_id": "B", "changed_at": datetime(2025, 1, 5), "old_owner_id": "u1", "new_owner_id": "u2"}]


def _ingest(store: Store, owner_changes: Sequence[dict[str, Any]] = ()) -> Store:
    handed = {c["opportunity_id"]: c["new_owner_id"] for c in owner_changes}
    opps = [{**o, "owner_id": handed.get(o["opportunity_id"], o["owner_id"])} for o in _opportunities(EVENTS)]
    data = export(datetime(2025, 4, 10, 23), opps, EVENTS, users=USERS, quotas=QUOTAS)
    store.ingest(replace(data, owner_changes=table(OWNER_CHANGES, owner_changes)))
    return store


@pytest.fixture
def org(any_store: Store) -> Store:
    return _ingest(any_store)


def test_measures_by_hand_on_every_engine(org: Store) -> None:
    qualify, propose = stage_conversion(org, AS_OF, maturity_days=0).stages
    assert (qualify.reached, qualify.advanced, qualify.lost, qualify.still_open, qualify.won) == (9, 7, 1, 1, 5)
    assert (propose.reached, propose.advanced, propose.lost, propose.still_open) == (7, 5, 1, 1)
    assert qualify.conversion_value.value == pytest.approx(1150 / 1190)
    stays = {r.stage: r for r in stage_durations(org, AS_OF)}
    assert (stays["Propose"].stays, stays["Propose"].finished, stays["Propose"].median_days) == (3, 2, 18.0)
    assert (stays["Qualify"].stays, stays["Qualify"].finished, stays["Qualify"].median_days) == (9, 8, 16.0)
    (cycle,) = cycle_length(org, AS_OF)
    assert (cycle.won_deals, cycle.median_days, cycle.average_won) == (5, 28.0, pytest.approx(90.0))
    (now,) = period_position(org, Q2, AS_OF)
    assert (now.closed_won, now.closed_won_deals, now.open_pipeline, now.open_deals) == (100, 1, 500, 1)


def test_same_point_by_hand_on_every_engine(org: Store) -> None:
    (q1,) = same_point_yield(org, Q2, AS_OF, ["segment"])
    # seen from 10 Jan: A 100 and B 200 open and dated in Q1; A won 120. Q1's bookings: E 50 before the
    # snapshot, then A 120 from that pipeline, C 100 pulled in from May, D 80 created after.
    assert (q1.period, q1.snapshot, q1.group) == ("2025-Q1", date(2025, 1, 10), {"segment": "SMB"})
    assert (q1.open_deals, q1.open_value, q1.open_value_sq) == (2, 300, 100**2 + 200**2)
    assert (q1.won_from_open_deals, q1.won_from_open_value) == (1, 120)
    assert (q1.booked_before, q1.bookings_after, q1.bookings_after_sq) == (50, 300, 120**2 + 100**2 + 80**2)
    assert (q1.from_open, q1.pulled_in, q1.created_after, q1.other) == (120, 100, 80, 0)
    # the same from the span table and from a deal table
    assert same_point_yield(org, Q2, AS_OF, ["segment"], span_table=spans(org, AS_OF)) == [q1]
    cov = compute_coverage(org, Q2, AS_OF, {"SMB": 1100.0}, target_source="segments", settings=Settings())
    assert (cov.reported_coverage, cov.required_coverage, cov.real_coverage) == (0.5, pytest.approx(1.0), 0.5)
    assert cov.typical_deal == 100
    kept = compute_coverage(
        org, Q2, AS_OF, {"SMB": 1100.0}, target_source="segments", settings=Settings(), deal_table=deals(org, AS_OF)
    )
    assert kept == cov


def test_owner_changes_are_events_without_a_stage_change(any_store: Store, tmp_path: Path) -> None:
    store = _ingest(any_store, HANDOVER)
    with Store.open(tmp_path / "plain.duckdb") as plain:
        assert store.count("history") == _ingest(plain).count("history") + 1
    # B's Qualify stay (3 Jan → 1 Feb) is one stay, not two, and nothing else moves
    stays = {r.stage: r for r in stage_durations(store, AS_OF)}
    assert (stays["Qualify"].stays, stays["Qualify"].finished, stays["Qualify"].median_days) == (9, 8, 16.0)
    qualify = stage_conversion(store, AS_OF, maturity_days=0).stages[0]
    assert (qualify.reached, qualify.advanced, qualify.lost, qualify.still_open) == (9, 7, 1, 1)
    # at the 10 Jan snapshot B was u2's pipeline; B's Qualify stay began with u1
    by_owner = {s.group["owner_id"]: s for s in same_point_yield(store, Q2, AS_OF, ["owner_id"])}
    assert by_owner["u2"].open_value == 200
    assert by_owner["u1"].open_value == 100
    owned = {(r.group["owner_id"], r.stage): r.stays for r in stage_durations(store, AS_OF, ["owner_id"])}
    assert owned[("u1", "Qualify")] == 9
    assert owned[("u2", "Propose")] == 1  # B moved to Propose on 1 Feb as u2's deal
