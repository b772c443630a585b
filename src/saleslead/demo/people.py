"""The demo company's people: a CRO, a VP per segment, managers, AEs and SDRs hired and lost over time.

Days are integers since 1970-01-01. A user works on days ``[hire_day, end_day)``; ``end_day`` is
:data:`NEVER` for someone still employed when the world ends. Every leaver below manager level gets a
backfill (``successor``) after a lag, hired under the same manager; growth hires follow a headcount
target that grows exponentially. Headcount per segment is what drives pipeline creation.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saleslead.demo.knobs import SEGMENTS

__all__ = [
    "AE",
    "MANAGER",
    "NEVER",
    "ROLE_NAMES",
    "SDR",
    "SDR_MANAGER",
    "VP",
    "Roster",
    "build_roster",
    "owner_as_of",
    "owner_changes",
]

NEVER = np.iinfo(np.int64).max // 4
# role codes; ROLE_NAMES gives Role__c
EXEC, VP, MANAGER, AE, SDR_MANAGER, SDR = 0, 1, 2, 3, 4, 5
ROLE_NAMES = ("VP", "VP", "Manager", "AE", "Manager", "SDR")

AE_ATTRITION = 0.2  # per year
SDR_ATTRITION = 0.3
HEADCOUNT_GROWTH = 0.25  # per year
TEAM_SPAN = 7
SDR_RAMP_DAYS = 60
BACKFILL_LAG = (21, 70)  # days from departure to the backfill's first day

IntArray = npt.NDArray[np.int64]


@dataclass
class _Builder:
    role: list[int] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    manager: list[int] = field(default_factory=list)
    hire: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    successor: list[int] = field(default_factory=list)

    def add(self, role: int, title: str, segment: int, manager: int, hire: int, end: int = NEVER) -> int:
        self.role.append(role)
        self.title.append(title)
        self.segment.append(segment)
        self.manager.append(manager)
        self.hire.append(hire)
        self.end.append(end)
        self.successor.append(-1)
        return len(self.role) - 1


@dataclass(frozen=True)
class Roster:
    """Every user of the world, one entry per index."""

    role: npt.NDArray[np.int8]
    title: list[str]
    segment: IntArray  # index into SEGMENTS, -1 for none
    manager: IntArray  # -1 for the CRO
    hire_day: IntArray
    end_day: IntArray  # NEVER when still employed at the end of the world
    successor: IntArray  # backfill, -1 for none
    ramp_days: IntArray  # days to full productivity (0 for non-quota roles)

    def __len__(self) -> int:
        return len(self.title)

    def ramp(self, users: IntArray, day: int | IntArray) -> npt.NDArray[np.float64]:
        """Productivity in 0.15..1 of ``users`` on ``day`` (ramping linearly after the hire)."""
        tenure = np.asarray(day, dtype=np.float64) - self.hire_day[users]
        ramp = np.maximum(self.ramp_days[users], 1)
        return np.asarray(np.clip(tenure / ramp, 0.15, 1.0), dtype=np.float64)


class _Team:
    """One team simulated week by week: departures, backfills, growth hires and new managers."""

    def __init__(
        self,
        b: _Builder,
        rng: np.random.Generator,
        *,
        role: int,
        title: str,
        manager_role: int,
        manager_title: str,
        manager_parent: int,
        segment: int,
        initial: int,
        attrition: float,
        start_day: int,
        end_day: int,
    ) -> None:
        self.b, self.rng = b, rng
        self.role, self.title, self.segment = role, title, segment
        self.manager_role, self.manager_title, self.manager_parent = manager_role, manager_title, manager_parent
        self.initial = initial
        self.mean_tenure = 365.25 / attrition
        self.start_day, self.end_day = start_day, end_day
        self.managers: list[int] = []
        self.load: dict[int, int] = {}  # reps per manager
        self.active: list[tuple[int, int]] = []  # heap of (last day, rep)
        self.pending: list[tuple[int, int]] = []  # heap of (the backfill's first day, the rep who left)

    def run(self) -> None:
        """Hire the initial team, then go week by week to the end."""
        for _ in range(self.initial):
            day = self.start_day - int(self.rng.integers(7, 3 * 365))
            manager = self._manager_for_growth(self.start_day)
            self._hire(day, manager, self._leaves(self.start_day))
        for week in range(self.start_day, self.end_day + 1, 7):
            self._depart(week)
            self._backfill(week)
            self._grow(week)

    def _leaves(self, day: int) -> int:
        """The last day of someone who stays from ``day`` (exponential tenure)."""
        return day + 1 + int(self.rng.exponential(self.mean_tenure))

    def _hire(self, day: int, manager: int, end: int) -> int:
        rep = self.b.add(self.role, self.title, self.segment, manager, day, end)
        self.load[manager] += 1
        heapq.heappush(self.active, (end, rep))
        return rep

    def _manager_for_growth(self, day: int) -> int:
        """The least-loaded manager with room, or a new manager (hired shortly before ``day`` once under way)."""
        if self.managers:
            best = min(self.managers, key=lambda m: (self.load[m], m))
            if self.load[best] < TEAM_SPAN:
                return best
        hired = self.b.add(
            self.manager_role, self.manager_title, self.segment, self.manager_parent, min(day, self.start_day - 400)
        )
        if day > self.start_day:
            self.b.hire[hired] = day - int(self.rng.integers(14, 60))
        self.managers.append(hired)
        self.load[hired] = 0
        return hired

    def _depart(self, week: int) -> None:
        """Reps whose last day comes before next week leave; each one's backfill starts after a lag."""
        while self.active and self.active[0][0] < week + 7:
            gone_day, gone = heapq.heappop(self.active)
            self.load[self.b.manager[gone]] -= 1
            heapq.heappush(self.pending, (gone_day + int(self.rng.integers(*BACKFILL_LAG)), gone))

    def _backfill(self, week: int) -> None:
        """Backfills due before next week join their predecessor's manager (none after the world ends)."""
        while self.pending and self.pending[0][0] < week + 7:
            day, predecessor = heapq.heappop(self.pending)
            if day > self.end_day:
                continue
            rep = self._hire(day, self.b.manager[predecessor], self._leaves(day))
            self.b.successor[predecessor] = rep

    def _grow(self, week: int) -> None:
        """Growth hires up to the week's target headcount (the initial team grown by HEADCOUNT_GROWTH a year)."""
        target = round(self.initial * math.exp(math.log1p(HEADCOUNT_GROWTH) * (week - self.start_day) / 365.25))
        for _ in range(target - len(self.active) - len(self.pending)):
            day = min(week + int(self.rng.integers(0, 7)), self.end_day)
            manager = self._manager_for_growth(day)
            self._hire(day, manager, self._leaves(day))


def build_roster(rng: np.random.Generator, start_day: int, end_day: int, aes: float) -> Roster:
    """Hire the org. ``aes`` is the AE headcount at ``start_day``, split across segments."""
    b = _Builder()
    long_ago = start_day - 4 * 365
    cro = b.add(EXEC, "Chief Revenue Officer", -1, -1, long_ago)
    vp_sd = b.add(VP, "VP Sales Development", -1, cro, long_ago + 90)
    for s, profile in enumerate(SEGMENTS):
        vp = b.add(VP, f"VP Sales, {profile.name}", s, cro, long_ago + 30 * (s + 1))
        ae_initial = max(1, round(aes * profile.ae_share))
        _Team(
            b, rng, role=AE, title=f"Account Executive, {profile.name}", manager_role=MANAGER,
            manager_title=f"Sales Manager, {profile.name}", manager_parent=vp, segment=s,
            initial=ae_initial, attrition=AE_ATTRITION, start_day=start_day, end_day=end_day,
        ).run()  # fmt: skip
        _Team(
            b, rng, role=SDR, title=f"Sales Development Rep, {profile.name}", manager_role=SDR_MANAGER,
            manager_title=f"SDR Manager, {profile.name}", manager_parent=vp_sd, segment=s,
            initial=max(1, round(ae_initial * profile.sdr_per_ae)), attrition=SDR_ATTRITION,
            start_day=start_day, end_day=end_day,
        ).run()  # fmt: skip
    role = np.asarray(b.role, dtype=np.int8)
    segment = np.asarray(b.segment, dtype=np.int64)
    ramp_by_segment = np.asarray([p.ramp_days for p in SEGMENTS], dtype=np.int64)
    ramp_days = np.where(role == AE, ramp_by_segment[segment], 0)
    ramp_days = np.where(role == SDR, SDR_RAMP_DAYS, ramp_days)
    return Roster(
        role=role,
        title=list(b.title),
        segment=segment,
        manager=np.asarray(b.manager, dtype=np.int64),
        hire_day=np.asarray(b.hire, dtype=np.int64),
        end_day=np.asarray(b.end, dtype=np.int64),
        successor=np.asarray(b.successor, dtype=np.int64),
        ramp_days=np.asarray(ramp_days, dtype=np.int64),
    )


def _left_s(roster: Roster, users: IntArray) -> IntArray:
    """When each user's records start to move: the end of their last day (18:00), or NEVER."""
    end = roster.end_day[users]
    return np.where(end >= NEVER, NEVER, end * 86_400 - 6 * 3600)


def _holders(roster: Roster, owner: IntArray, until_s: IntArray, at_s: IntArray) -> IntArray:
    """Who holds each record at its own instant ``at_s`` (see :func:`owner_as_of`)."""
    current = owner.copy()
    for _ in range(64):
        left_s = _left_s(roster, current)
        move = (left_s <= at_s) & (until_s > left_s)
        if not move.any():
            break
        moving = current[move]
        successor = roster.successor[moving]
        # The backfill takes the record when both have happened, the leave and the hire, while it is live.
        arrive = np.maximum(roster.hire_day[np.maximum(successor, 0)] * 86_400, left_s[move])
        hired = (successor >= 0) & (arrive <= at_s[move]) & (arrive < until_s[move])
        current[move] = np.where(hired, successor, roster.manager[moving])
    return current


def owner_as_of(roster: Roster, owner: IntArray, until_s: IntArray, at_s: int) -> IntArray:
    """Who owns each record at time ``at_s`` (seconds).

    A record stays with its owner unless the owner left (end of their last day, 18:00) before
    ``at_s`` while the record was still live (``until_s``: when it closed, or never). It then moves
    to the leaver's manager, and on to the leaver's backfill once hired if it is still live then
    (a closed deal stays with whoever held it when it closed), and so on down the chain.
    """
    return _holders(roster, owner, until_s, np.full(len(owner), at_s, dtype=np.int64))


def _next_change(roster: Roster, owner: IntArray, until_s: IntArray, at_s: IntArray) -> IntArray:
    """The first instant after ``at_s`` at which :func:`_holders` may answer differently (NEVER: none)."""
    current = owner.copy()
    soonest = np.full(len(owner), NEVER, dtype=np.int64)
    for _ in range(64):
        left_s = _left_s(roster, current)
        live = until_s > left_s
        ahead = live & (left_s > at_s)
        soonest = np.where(ahead, np.minimum(soonest, left_s), soonest)
        move = live & (left_s <= at_s)
        if not move.any():
            break
        moving = current[move]
        successor = roster.successor[moving]
        arrive = np.maximum(roster.hire_day[np.maximum(successor, 0)] * 86_400, left_s[move])
        comes = (successor >= 0) & (arrive < until_s[move])  # a backfill arriving while the record is live
        waiting = comes & (arrive > at_s[move])
        soonest[move] = np.where(waiting, np.minimum(soonest[move], arrive), soonest[move])
        current[move] = np.where(comes & ~waiting, successor, roster.manager[moving])
    return soonest


def owner_changes(
    roster: Roster, owner: IntArray, until_s: IntArray, from_s: IntArray, to_s: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Every change of owner (as :func:`owner_as_of` tells it) after ``from_s`` and by ``to_s``.

    Returns (record, when in seconds, old owner, new owner), sorted by record and time: applying the
    changes made by ``t`` to the owner at ``from_s`` gives ``owner_as_of(..., t)`` for every ``t``.
    """
    at = np.asarray(from_s, dtype=np.int64).copy()
    holder = _holders(roster, owner, until_s, at)
    active = np.arange(len(owner), dtype=np.int64)
    found: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    for _ in range(1024):
        upcoming = _next_change(roster, owner[active], until_s[active], at[active])
        due = upcoming <= to_s
        active, upcoming = active[due], upcoming[due]
        if not active.size:
            break
        now = _holders(roster, owner[active], until_s[active], upcoming)
        moved = now != holder[active]
        found.append((active[moved], upcoming[moved], holder[active][moved], now[moved]))
        holder[active] = now
        at[active] = upcoming
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    record, when, old, new = (np.concatenate(part) for part in zip(*found, strict=True))
    order = np.lexsort((when, record))
    return record[order], when[order], old[order], new[order]


def quota_rows(
    roster: Roster, base: npt.NDArray[np.float64], bounds: IntArray, cut_day: int, *, rounded: bool = True
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    """Quarterly quotas of every AE as known at the end of ``cut_day``.

    ``bounds`` are the first days of consecutive quarters (the last one closes the span). A quota exists
    for each quarter that has started by ``cut_day``, for each AE hired by then who has not left before
    the quarter began; the hire quarter is prorated and every quarter scaled by the ramp at its middle.
    """
    aes = np.flatnonzero(roster.role == AE).astype(np.int64)
    hire = roster.hire_day[aes]
    gone_before = np.where(roster.end_day[aes] - 1 <= cut_day, roster.end_day[aes], NEVER)
    owners: list[IntArray] = []
    starts: list[IntArray] = []
    amounts: list[npt.NDArray[np.float64]] = []
    for q_start, q_end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if q_start > cut_day:
            break
        here = (hire <= min(cut_day, q_end - 1)) & (gone_before > q_start)
        first = np.maximum(q_start, hire[here])
        share = (q_end - first) / (q_end - q_start)
        amount = base[roster.segment[aes[here]]] * share * roster.ramp(aes[here], (first + q_end) // 2)
        if rounded:
            amount = np.maximum(np.round(amount, -3), 1000.0)
        owners.append(aes[here])
        starts.append(np.full(int(here.sum()), q_start, dtype=np.int64))
        amounts.append(amount)
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(owners), np.concatenate(starts), np.concatenate(amounts)
