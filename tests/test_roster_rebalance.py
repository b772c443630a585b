"""Rebalance: a hand-made book moves the fewest accounts into the bands and respects locks; on the demo
company it improves balance, keeps locked accounts and reports its gap."""

from __future__ import annotations

import numpy as np

from saleslead.roster.desk import RosterRebalanceRequest
from saleslead.roster.potential import AccountBook
from saleslead.roster.rebalance import RebalanceOptions, RepInput, rebalance
from saleslead.seat import Seat


def book(owners: list[str], potential: list[float], segment: str = "SMB") -> AccountBook:
    n = len(owners)
    return AccountBook(
        account_id=[f"a{i}" for i in range(n)], name=[None] * n, segment=[segment] * n, owner_id=list(owners),
        potential=np.asarray(potential, dtype=np.float64), workload=np.ones(n), measured=np.ones(n, dtype=bool),
    )  # fmt: skip


REPS = [RepInput("A", "Ann", "SMB", 1.0), RepInput("B", "Bo", "SMB", 1.0)]


def test_two_reps_split_evenly_with_two_moves() -> None:
    options = RebalanceOptions(potential_band=0.1, workload_band=0.1)
    out = rebalance(book(["A"] * 4, [100.0] * 4), REPS, set(), options)
    after = {r.user_id: (r.potential_after, r.accounts_after) for r in out.reps}
    assert after == {"A": (200.0, 2), "B": (200.0, 2)}
    assert len(out.moves) == 2
    assert all(m.from_owner == "A" and m.to_owner == "B" for m in out.moves)
    assert [r.within_band_before for r in out.reps] == [False, False]
    assert [r.within_band_after for r in out.reps] == [True, True]
    assert out.gap <= 0.01


def test_locked_accounts_stay_and_targets_follow_ramp() -> None:
    reps = [RepInput("A", None, "SMB", 1.0), RepInput("B", None, "SMB", 0.5)]
    out = rebalance(book(["A"] * 6, [100.0] * 6), reps, {"a0", "a1", "a2", "a3"}, RebalanceOptions(potential_band=0.1))
    # targets by ramp: A 2/3 of 600 = 400, B 1/3 = 200; the four locked stay with A, two free go to B
    targets = {r.user_id: r.target_potential for r in out.reps}
    assert targets == {"A": 400.0, "B": 200.0}
    assert {out.assignment[f"a{i}"] for i in range(4)} == {"A"}
    assert out.assignment["a4"] == out.assignment["a5"] == "B"


def test_a_departed_owner_is_a_forced_move() -> None:
    out = rebalance(book(["gone", "A", "B"], [100.0, 100.0, 100.0]), REPS, set(), RebalanceOptions(potential_band=0.6))
    moved = [m for m in out.moves if m.account_id == "a0"]
    assert len(moved) == 1
    assert moved[0].forced
    assert len(out.moves) == 1  # the others already sit in their bands


def test_rebalance_improves_the_demo_book(demo_seat: Seat) -> None:
    first = demo_seat.roster_rebalance(RosterRebalanceRequest(save=False, time_limit=20))
    lock = [m.account_id for m in first.moves[:5]]
    result = demo_seat.roster_rebalance(RosterRebalanceRequest(locked=lock, time_limit=20))
    assert result.within_band_after > result.within_band_before
    assert result.spread_after < result.spread_before
    assert not {m.account_id for m in result.moves} & set(lock)
    assert result.locked == 5
    assert 0 <= result.gap <= 0.05
    assert result.bound <= result.objective + 1e-6
    assert result.version == 1
    assert sum(r.accounts_after for r in result.reps) == sum(r.accounts_before for r in result.reps) + sum(
        m.forced for m in result.moves
    )


def test_the_request_declares_no_default_of_its_own() -> None:
    # the seat's request extends the options: one place for every knob's default
    assert issubclass(RosterRebalanceRequest, RebalanceOptions)
    own = set(RosterRebalanceRequest.model_fields) - set(RebalanceOptions.model_fields)
    assert own == {"as_of", "segments", "locked", "config", "save"}
    assert RosterRebalanceRequest().potential_band == RebalanceOptions().potential_band
