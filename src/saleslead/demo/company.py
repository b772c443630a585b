"""A seeded, scalable synthetic B2B sales org that writes Salesforce-shaped CSV exports.

:func:`generate` builds one world from a :class:`DemoConfig` (the roster, every opportunity's whole
life, activities and quotas) with ``numpy.random.default_rng(seed)`` and writes it as exported at the
end of ``config.end`` or, with ``cut_at``, at the end of an earlier day. The same config always gives
the same world and byte-identical files; an export cut at D is what the full export says about D.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from saleslead.demo.deals import create_deals, expected_per_ae_week, slump_window
from saleslead.demo.export import FILES, World, account_traits, write_export
from saleslead.demo.knobs import SEGMENTS
from saleslead.demo.lifecycle import DAY, Lifecycle, live, quarter_id, quarter_start_day
from saleslead.demo.people import HEADCOUNT_GROWTH, build_roster, quota_rows
from saleslead.demo.worlds import Shape
from saleslead.errors import InputError

__all__ = ["DemoConfig", "DemoSummary", "Slump", "build_world", "generate"]

_EPOCH = date(1970, 1, 1)
_QUOTA_STRETCH = 1.2  # quotas are set this much above what a ramped AE books on average
_STEPS = ("people", "opportunities", "history", *FILES)


@dataclass(frozen=True)
class Slump:
    """Pipeline creation cut by ``depth`` (0.5 = half) from ``start`` for ``weeks``, optionally in one segment."""

    start: date
    weeks: int = 8
    depth: float = 0.5
    segment: str | None = None


@dataclass(frozen=True)
class DemoConfig:
    opportunities: int = 20_000  # approximate total over the whole span
    seed: int = 7
    start: date = date(2023, 1, 1)
    end: date = date(2026, 11, 24)  # the export's "now" (snapshot); callers pass today
    slump: Slump | None = None
    fiscal_start_month: int = 1
    shape: Shape = field(default_factory=Shape)  # how the org's process differs from the standard demo


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    opportunities: int
    history_rows: int
    users: int
    accounts: int
    quotas: int
    activities: int
    start: date
    end: date
    seed: int
    files: tuple[str, ...] = field(default=FILES)


def _day(value: date) -> int:
    return (value - _EPOCH).days


def _check(config: DemoConfig, cut_at: date | None) -> None:
    if config.opportunities < 1:
        raise InputError(f"opportunities must be at least 1, got {config.opportunities}")
    if config.end <= config.start:
        raise InputError(f"the demo must end after it starts ({config.start} .. {config.end})")
    if not 1 <= config.fiscal_start_month <= 12:
        raise InputError(f"fiscal start month must be 1..12, got {config.fiscal_start_month}")
    if cut_at is not None and not config.start <= cut_at <= config.end:
        raise InputError(
            f"cut_at {cut_at} is outside the demo's span",
            hint=f"pick a day in {config.start} .. {config.end}",
        )


def build_world(config: DemoConfig, step: Callable[[str], None] | None = None) -> World:
    """The whole generated world for ``config`` (independent of any cut)."""
    tick = step or (lambda _label: None)
    rng = np.random.default_rng(config.seed)
    start_day, end_day = _day(config.start), _day(config.end)
    years = (end_day - start_day) / 365.25
    rate = math.log1p(HEADCOUNT_GROWTH)
    mean_growth = math.expm1(rate * years) / (rate * years)
    weeks = (end_day - start_day + 1) / 7
    initial_aes = config.opportunities / (expected_per_ae_week() * weeks * mean_growth * 0.85) * config.shape.headcount
    roster = build_roster(rng, start_day, end_day, initial_aes)
    tick("people")
    slump = None
    if config.slump is not None:
        s = config.slump
        slump = slump_window(s.start, s.weeks, s.depth, s.segment)
    created = create_deals(rng, roster, start_day, end_day, config.opportunities, slump, config.shape)
    tick("opportunities")
    extra = np.random.default_rng([config.seed, 7919])  # the shape's own draws: the standard world's stay put
    life = live(rng, created, roster, start_day, config.fiscal_start_month, config.shape, extra)
    tick("history")
    employees, industry, country = account_traits(rng, created.account_segment)

    fsm = config.fiscal_start_month
    first_q = int(quarter_id(np.asarray([start_day]), fsm)[0])
    last_q = int(quarter_id(np.asarray([end_day]), fsm)[0])
    bounds = quarter_start_day(np.arange(first_q, last_q + 2, dtype=np.int64), fsm)
    # quota base per segment: what ramped AEs booked per quarter in the finished quarters, stretched
    n_seg = len(SEGMENTS)
    finished_s = int(bounds[-2]) * DAY
    booked = np.zeros(n_seg)
    won = life.won & (life.closed_s < finished_s)
    np.add.at(booked, created.segment[won], _won_amounts(life)[won])
    owners, _, exposure = quota_rows(roster, np.ones(n_seg), bounds[:-1], int(bounds[-2]) - 1, rounded=False)
    ae_quarters = np.bincount(roster.segment[owners], weights=exposure, minlength=n_seg)
    fallback = np.asarray([250_000.0, 450_000.0, 900_000.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(ae_quarters > 0.5, _QUOTA_STRETCH * booked / np.maximum(ae_quarters, 1e-9), fallback)
    base = np.where(base > 0, base, fallback)
    return World(roster, created, life, base, bounds, employees, industry, country, config.shape.open_stages)


def _won_amounts(life: Lifecycle) -> npt.NDArray[np.float64]:
    hist = life.history
    last = np.append(hist.deal[1:] != hist.deal[:-1], True)
    amounts = np.zeros(len(life.won))
    amounts[hist.deal[last]] = hist.amount[last]
    return amounts


def generate(
    out_dir: Path,
    config: DemoConfig = DemoConfig(),
    *,
    cut_at: date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoSummary:
    """Generate the demo company and write its export into ``out_dir`` (created if missing).

    ``cut_at`` writes the export as it would have been taken at the end of that day, from the same
    world. ``progress(label, done, total)`` is called as each step finishes.
    """
    _check(config, cut_at)
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, len(_STEPS))

    if progress is not None:
        progress("people", 0, len(_STEPS))
    world = build_world(config, step)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshot = config.end if cut_at is None else cut_at
    counts = write_export(world, out_dir, _day(snapshot), step)
    return DemoSummary(
        path=out_dir,
        opportunities=counts["Opportunity.csv"],
        history_rows=counts["OpportunityHistory.csv"],
        users=counts["users"],
        accounts=counts["Account.csv"],
        quotas=counts["ForecastingQuota.csv"],
        activities=counts["Task.csv"],
        start=config.start,
        end=snapshot,
        seed=config.seed,
    )
