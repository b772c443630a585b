"""Fits kept by what they saw: a deal model and calibration as of a day are keyed by the deal book known at the end
of that day, so next week's ingest (later history only) leaves them found, and a changed past does not."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from saleslead.data.desk import IngestRequest
from saleslead.forecast.fitkey import visible_digest
from saleslead.forecast.model import FITS
from saleslead.forecast.panel import day_number, load_book
from saleslead.forecast.schemas import ForecastRequest
from saleslead.seat import Seat
from saleslead.store.answers import KEEP_FITS_DAYS, VISIBLE, Answers
from saleslead.store.shelf import Shelf

from .conftest import DEMO_TODAY

PERIOD = "2026-Q4"
SINCE = date(2026, 11, 17)


def test_a_later_book_cut_at_a_day_digests_as_the_book_of_that_day(demo_seat: Seat) -> None:
    then, later = load_book(demo_seat.store, SINCE), load_book(demo_seat.store, DEMO_TODAY)
    assert later.size > then.size  # deals first seen in the week between: their codes shift nothing seen
    d = day_number(SINCE)
    assert visible_digest(later, d) == visible_digest(then, d)
    assert visible_digest(later, day_number(DEMO_TODAY)) != visible_digest(later, d)
    # a past that differs — one event's amount before the day, an owner's start — digests differently
    amount = later.ev_amount.copy()
    amount[np.flatnonzero(later.ev_time < d - 30)[0]] += 1.0
    assert visible_digest(replace(later, ev_amount=amount), d) != visible_digest(then, d)
    start = later.owner_start.copy()
    start[0] = -1.0
    assert visible_digest(replace(later, owner_start=start), d) != visible_digest(then, d)


def _next_week(export: Path, to: Path) -> Path:
    """The export a week on: a logged activity on DEMO_TODAY for ten deals (nothing known at ``SINCE`` changes)."""
    shutil.copytree(export, to)
    with (to / "Task.csv").open(newline="") as f:
        deals = [row["WhatId"] for row, _ in zip(csv.DictReader(f), range(10), strict=False)]
    with (to / "Task.csv").open("a", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        for i, deal in enumerate(deals):
            writer.writerow([f"00TNEXTWEEK{i:07d}", deal, DEMO_TODAY.isoformat(), "Call", "Completed"])
    return to


@pytest.mark.slow
def test_next_weeks_ingest_keeps_the_fits_of_the_days_it_did_not_change(
    demo_seat: Seat, demo_export: Path, tmp_path: Path
) -> None:
    """After an ingest that added only later history, a forecast as of an earlier day fits nothing (the kept model
    and calibration) and equals one fitted from nothing on the new store; the day the ingest changed refits."""
    request = ForecastRequest(period=PERIOD, as_of=SINCE, scenarios=1_000)
    seat = demo_seat
    seat.context.shelf = Shelf(tmp_path / "shelf")  # private: the fits this test counts are its own
    before_ingest = seat.forecast(request)
    state = seat.context.answers.state()
    digest_today = visible_digest(load_book(seat.store, DEMO_TODAY), day_number(DEMO_TODAY))

    seat.ingest(IngestRequest(path=_next_week(demo_export, tmp_path / "next-week")))
    assert seat.context.answers.state() != state  # the store moved: answers keyed by its state are stale
    assert visible_digest(load_book(seat.store, DEMO_TODAY), day_number(DEMO_TODAY)) != digest_today

    kept = Seat(seat.store, seat.settings)
    kept.context.shelf, kept.clock = seat.context.shelf, seat.clock
    fits = FITS.fits
    reused = kept.forecast(request)
    assert FITS.fits == fits  # no logistic fit: the model and its calibration's walk-forward were found

    cold = Seat(seat.store, seat.settings)
    cold.context.shelf, cold.clock = Shelf(None), seat.clock
    fresh = cold.forecast(request)
    assert FITS.fits > fits  # the cold seat did fit
    assert reused == fresh
    assert reused.total == before_ingest.total


def test_fits_kept_by_what_they_saw_never_go_stale_and_old_ones_are_pruned(demo_seat: Seat) -> None:
    answers = Answers(demo_seat.store, demo_seat.settings, shelf=Shelf(None))
    built: list[date] = []

    def kept(day: date) -> str:
        def build() -> str:
            built.append(day)
            return f"fit as of {day}"

        return answers.artifact("deal-model", day, {}, build, state=f"{VISIBLE}{day}")

    old, recent, newest = DEMO_TODAY - timedelta(days=KEEP_FITS_DAYS + 1), DEMO_TODAY - timedelta(days=7), DEMO_TODAY
    for day in (old, recent, newest, recent):
        assert kept(day) == f"fit as of {day}"
    assert built == [old, recent, newest]  # the second read of a day is found
    assert answers.stale() == []  # not keyed by the store's state: an ingest never makes them stale
    assert answers.prune() == 1  # the one as of more than KEEP_FITS_DAYS before the newest
    assert kept(recent) == f"fit as of {recent}"
    assert kept(old) == f"fit as of {old}"
    assert built == [old, recent, newest, old]
