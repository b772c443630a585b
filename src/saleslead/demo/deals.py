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


def create_deals(
    rng: np.random.Generator,
    roster: Roster,
    start_day: int,
    end_day: int,
    target: int,
    slump: SlumpWindow | None,
    shape: Shape | None = None,
) -> Created:
    shape = shape or Shape()
    weeks = np.arange(start_day, end_day + 1, 7, dtype=np.int64)
    season = _month_factor(weeks + 3, shape) * shape.waves(weeks + 3, start_day)
    n_seg = len(SEGMENTS)
    # per (week, segment): eligible AEs with their ramp, and the AE- and SDR-sourced rates
    eligible: list[list[tuple[IntArray, npt.NDArray[np.float64]]]] = []
    rates = np.zeros((len(weeks), n_seg, 2))
    for w, week in enumerate(weeks):
        row = []
        for s, profile in enumerate(SEGMENTS):
            here = (roster.segment == s) & (roster.hire_day <= week) & (roster.end_day > week + 7)
            aes = np.flatnonzero(here & (roster.role == AE)).astype(np.int64)
            sdrs = np.flatnonzero(here & (roster.role == SDR)).astype(np.int64)
            ramp = roster.ramp(aes, int(week) + 3)
            row.append((aes, ramp))
            if len(aes):
                rates[w, s, 0] = ramp.sum() * profile.ae_rate
                rates[w, s, 1] = roster.ramp(sdrs, int(week) + 3).sum() * profile.sdr_rate
        eligible.append(row)
    rates *= season[:, None, None]
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
    counts = rng.poisson(rates)

    created: list[IntArray] = []
    segment: list[IntArray] = []
    owner: list[IntArray] = []
    channel: list[IntArray] = []
    motion: list[IntArray] = []
    for w, week in enumerate(weeks):
        offsets = week + np.arange(7)
        # Monday-first weights; 1970-01-01 was a Thursday
        weight = _WEEKDAY_WEIGHT[(offsets + 3) % 7] * (offsets <= end_day)
        weight /= weight.sum()
        for s in range(n_seg):
            n_ae, n_sdr = int(counts[w, s, 0]), int(counts[w, s, 1])
            n = n_ae + n_sdr
            if n == 0:
                continue
            aes, ramp = eligible[w][s]
            owner.append(aes[rng.choice(len(aes), size=n, p=ramp / ramp.sum())])
            day = week + rng.choice(7, size=n, p=weight)
            seconds = rng.integers(0, 86_400, size=n) // 120 * 120  # business hours on export
            created.append(day * 86_400 + seconds)
            segment.append(np.full(n, s, dtype=np.int64))
            channel.append(
                np.concatenate(
                    [rng.choice(len(CHANNEL_SHARE), size=n_ae, p=CHANNEL_SHARE), np.full(n_sdr, _SDR_CHANNEL)]
                ).astype(np.int64)
            )
            motion.append(
                np.concatenate([rng.choice(len(TYPE_SHARE), size=n_ae, p=TYPE_SHARE), np.zeros(n_sdr)]).astype(np.int64)
            )
    if not created:
        empty = np.zeros(0, dtype=np.int64)
        return Created(empty, empty, empty, empty, empty, empty, empty, empty)
    created_s = np.concatenate(created)
    order = np.argsort(created_s, kind="stable")
    seg = np.concatenate(segment)[order]
    mot = np.concatenate(motion)[order]
    account, account_segment, first_deal = _accounts(rng, seg, mot)
    return Created(
        created_s=created_s[order],
        segment=seg,
        owner=np.concatenate(owner)[order],
        channel=np.concatenate(channel)[order],
        motion=mot,
        account=account,
        account_segment=account_segment,
        account_first_deal=first_deal,
    )


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
