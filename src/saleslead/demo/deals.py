"""Where the demo company's opportunities come from: weekly creation driven by the roster.

Each week, every fully-employed AE of a segment sources opportunities at its segment's rate times its
ramp, and every SDR books "Outbound SDR" ones; seasonality and an optional slump scale the rate, and
Poisson draws give the counts. Owners are drawn among the week's AEs in proportion to their ramp.
Accounts follow: new business mostly opens a new account, expansions and renewals reuse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from saleslead.demo.knobs import (
    CHANNEL_SHARE,
    CREATION_MONTH_FACTOR,
    SEGMENTS,
    TYPE_SHARE,
)
from saleslead.demo.people import AE, SDR, Roster
from saleslead.demo.worlds import Shape
from saleslead.errors import InputError

__all__ = ["Created", "SlumpWindow", "create_deals", "expected_per_ae_week", "slump_window"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.04, 0.04])  # Monday first
_SDR_CHANNEL = 1
_NEW_ACCOUNT_SHARE = 0.85  # of new-business deals that open a new account


@dataclass(frozen=True)
class SlumpWindow:
    start_day: int
    end_day: int  # exclusive
    factor: float  # creation multiplier inside the window
    segment: int  # -1: every segment


@dataclass(frozen=True)
class Created:
    """Opportunities as created, in creation order."""

    created_s: IntArray
    segment: IntArray
    owner: IntArray
    channel: IntArray
    motion: IntArray  # index into TYPES
    account: IntArray  # account index, accounts numbered in order of their first deal
    account_segment: IntArray
    account_first_deal: IntArray


def expected_per_ae_week() -> float:
    """Opportunities per AE-week, all segments and SDRs included, at full ramp."""
    return sum(p.ae_share * (p.ae_rate + p.sdr_per_ae * p.sdr_rate) for p in SEGMENTS)


def _month_factor(days: IntArray, shape: Shape) -> npt.NDArray[np.float64]:
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    if shape.standard:
        return np.asarray(CREATION_MONTH_FACTOR, dtype=np.float64)[months]
    return shape.season(CREATION_MONTH_FACTOR)[months]


def _week_sources(roster: Roster, week: int) -> tuple[list[tuple[IntArray, FloatArray]], FloatArray]:
    """Per segment in ``week``: the AEs employed all week with their ramp, and the AE- and SDR-sourced rates
    (zero where the segment has no AE to own the deals)."""
    sources = []
    rates = np.zeros((len(SEGMENTS), 2))
    for s, profile in enumerate(SEGMENTS):
        here = (roster.segment == s) & (roster.hire_day <= week) & (roster.end_day > week + 7)
        aes = np.flatnonzero(here & (roster.role == AE)).astype(np.int64)
        sdrs = np.flatnonzero(here & (roster.role == SDR)).astype(np.int64)
        ramp = roster.ramp(aes, week + 3)
        sources.append((aes, ramp))
        if len(aes):
            rates[s, 0] = ramp.sum() * profile.ae_rate
            rates[s, 1] = roster.ramp(sdrs, week + 3).sum() * profile.sdr_rate
    return sources, rates


def _scale(
    rates: FloatArray, season: FloatArray, weeks: IntArray, end_day: int, target: int, slump: SlumpWindow | None
) -> FloatArray:
    """The (week, segment, source) rates scaled by the season, the part of the last week inside the span, the
    slump, and so that they add up to ``target`` opportunities (before the slump)."""
    rates = rates * season[:, None, None]
    days_in_week = np.clip(end_day + 1 - weeks, 0, 7) / 7.0
    rates *= days_in_week[:, None, None]
    total = rates.sum()
    rates *= target / total if total > 0 else 0.0
    if slump is not None:
        mid = weeks + 3
        inside = (mid >= slump.start_day) & (mid < slump.end_day)
        if slump.segment < 0:
            rates[inside] *= slump.factor
        else:
            rates[inside, slump.segment] *= slump.factor
    return rates


def _weekday_weights(week: int, end_day: int) -> FloatArray:
    """The chance a deal of ``week`` is created on each of its days (none after ``end_day``)."""
    offsets = week + np.arange(7)
    # Monday-first weights; 1970-01-01 was a Thursday
    weight = _WEEKDAY_WEIGHT[(offsets + 3) % 7] * (offsets <= end_day)
    weight /= weight.sum()
    return weight


@dataclass(frozen=True)
class _Batch:
    """The deals one segment created in one week: AE-sourced first, then SDR-sourced."""

    created_s: IntArray
    segment: IntArray
    owner: IntArray
    channel: IntArray
    motion: IntArray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        segment: int,
        counts: tuple[int, int],
        owners: tuple[IntArray, FloatArray],
        days: tuple[int, FloatArray],
    ) -> _Batch:
        """``counts``: AE- and SDR-sourced deals; ``owners``: the AEs and their ramp (owners are drawn in
        proportion to it); ``days``: the week's first day and the weight of each of its days."""
        n_ae, n_sdr = counts
        n = n_ae + n_sdr
        aes, ramp = owners
        week, weight = days
        owner = aes[rng.choice(len(aes), size=n, p=ramp / ramp.sum())]
        day = week + rng.choice(7, size=n, p=weight)
        seconds = rng.integers(0, 86_400, size=n) // 120 * 120  # business hours on export
        ae_channel = rng.choice(len(CHANNEL_SHARE), size=n_ae, p=CHANNEL_SHARE)
        channel = np.concatenate([ae_channel, np.full(n_sdr, _SDR_CHANNEL)]).astype(np.int64)
        ae_motion = rng.choice(len(TYPE_SHARE), size=n_ae, p=TYPE_SHARE)
        motion = np.concatenate([ae_motion, np.zeros(n_sdr)]).astype(np.int64)
        return cls(day * 86_400 + seconds, np.full(n, segment, dtype=np.int64), owner, channel, motion)


def _created(rng: np.random.Generator, batches: list[_Batch]) -> Created:
    """The batches' deals in creation order, with their accounts."""
    if not batches:
        empty = np.zeros(0, dtype=np.int64)
        return Created(empty, empty, empty, empty, empty, empty, empty, empty)
    created_s = np.concatenate([b.created_s for b in batches])
    order = np.argsort(created_s, kind="stable")
    seg = np.concatenate([b.segment for b in batches])[order]
    mot = np.concatenate([b.motion for b in batches])[order]
    account, account_segment, first_deal = _accounts(rng, seg, mot)
    return Created(
        created_s=created_s[order],
        segment=seg,
        owner=np.concatenate([b.owner for b in batches])[order],
        channel=np.concatenate([b.channel for b in batches])[order],
        motion=mot,
        account=account,
        account_segment=account_segment,
        account_first_deal=first_deal,
    )


def create_deals(
    rng: np.random.Generator,
    roster: Roster,
    start_day: int,
    end_day: int,
    target: int,
    slump: SlumpWindow | None,
    shape: Shape | None = None,
) -> Created:
    """About ``target`` opportunities created week by week from ``start_day`` to ``end_day``: Poisson counts per
    (week, segment) for AE- and SDR-sourced deals, then each batch's owners, days and kinds."""
    shape = shape or Shape()
    weeks = np.arange(start_day, end_day + 1, 7, dtype=np.int64)
    sources = [_week_sources(roster, int(week)) for week in weeks]
    rates = np.zeros((len(weeks), len(SEGMENTS), 2))
    for w, (_, week_rates) in enumerate(sources):
        rates[w] = week_rates
    season = _month_factor(weeks + 3, shape) * shape.waves(weeks + 3, start_day)
    counts = rng.poisson(_scale(rates, season, weeks, end_day, target, slump))
    batches = []
    for w, week in enumerate(weeks):
        weight = _weekday_weights(int(week), end_day)
        for s in range(len(SEGMENTS)):
            n_ae, n_sdr = int(counts[w, s, 0]), int(counts[w, s, 1])
            if n_ae + n_sdr:
                batches.append(_Batch.draw(rng, s, (n_ae, n_sdr), sources[w][0][s], (int(week), weight)))
    return _created(rng, batches)


def _accounts(rng: np.random.Generator, segment: IntArray, motion: IntArray) -> tuple[IntArray, ...]:
    """Account of each deal; accounts are numbered by their first deal."""
    n = len(segment)
    draw = rng.random(n)
    pick = rng.random(n)
    local = np.zeros(n, dtype=np.int64)
    opens = np.zeros(n, dtype=bool)
    for s in range(len(SEGMENTS)):
        idx = np.flatnonzero(segment == s)
        if len(idx) == 0:
            continue
        is_new = (motion[idx] == 0) & (draw[idx] < _NEW_ACCOUNT_SHARE)
        is_new[0] = True
        opened = np.cumsum(is_new)
        reuse = np.minimum((pick[idx] * opened).astype(np.int64), opened - 1)
        local[idx] = np.where(is_new, opened - 1, reuse)
        opens[idx] = is_new
    first_deal = np.flatnonzero(opens).astype(np.int64)
    # global number of each opening deal, in deal order; map (segment, local) to it
    number = np.full(n, -1, dtype=np.int64)
    number[first_deal] = np.arange(len(first_deal))
    account = np.zeros(n, dtype=np.int64)
    for s in range(len(SEGMENTS)):
        idx = np.flatnonzero(segment == s)
        openers = idx[opens[idx]]
        account[idx] = number[openers][local[idx]]
    return account, segment[first_deal], first_deal


def slump_window(start: date, weeks: int, depth: float, segment: str | None) -> SlumpWindow:
    names = [p.name for p in SEGMENTS]
    if segment is not None and segment not in names:
        raise InputError(f"unknown slump segment {segment!r}", hint=f"one of {', '.join(names)}")
    if not 0.0 <= depth <= 1.0:
        raise InputError(f"slump depth must be in 0..1, got {depth}")
    if weeks < 1:
        raise InputError(f"slump weeks must be at least 1, got {weeks}")
    first = (start - date(1970, 1, 1)).days
    return SlumpWindow(first, first + 7 * weeks, 1.0 - depth, -1 if segment is None else names.index(segment))
