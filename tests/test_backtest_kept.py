"""The backtest keeps its fits where the forecast keeps them: a second backtest fits nothing and scores the same,
each point of a ``--refit 1`` backtest is the forecast of its day, and a refit's model is the forecast's.

(The backtest's deal book is loaded at the store's last day; the forecast of a point's day loads its own. The
two find each other's fits only when they agree on what was known at that day, code lists included — a rep
first seen later shifts the owner codes — so the forecast here is compared by value, made from nothing.)"""

from __future__ import annotations

from datetime import date

import pytest

from saleslead.forecast.calibrate import SHOCK_QUARTERS
from saleslead.forecast.model import FITS
from saleslead.forecast.schemas import BacktestRequest, ForecastRequest
from saleslead.seat import Seat
from saleslead.store.shelf import Shelf

WEEKS = BacktestRequest(start=date(2026, 4, 13), end=date(2026, 4, 20), scenarios=500, refit_weeks=1)


@pytest.mark.slow
def test_a_second_backtest_fits_nothing_and_each_point_is_that_days_forecast(demo_seat: Seat) -> None:
    demo_seat.context.shelf = Shelf(None)  # private: the fits counted here are this test's
    fits = FITS.fits
    first = demo_seat.forecast_backtest(WEEKS)
    assert [p.as_of for p in first.points] == [date(2026, 4, 13), date(2026, 4, 20)]
    assert FITS.fits > fits
    fits = FITS.fits
    assert demo_seat.forecast_backtest(WEEKS) == first
    assert FITS.fits == fits  # every model and calibration found
    # the point is the forecast of that day, made from nothing on a store holding the same history
    demo_seat.context.shelf = Shelf(None)
    forecast = demo_seat.forecast(ForecastRequest(period="2026-Q2", as_of=date(2026, 4, 20), scenarios=500))
    point = first.points[-1]  # its quantiles are the simulation's (the forecast's mean is the expectation)
    assert (forecast.total.p10, forecast.total.p50, forecast.total.p90) == pytest.approx(
        (point.p10, point.p50, point.p90), rel=1e-6
    )


@pytest.mark.slow
def test_a_refits_model_found_on_the_shelf_scores_as_one_fitted_there(demo_seat: Seat) -> None:
    """``--refit 2``: a second backtest reads the refit's model from the shelf (the first kept it) and makes the
    rest as always (the walk-forward and calibrations chain from point to point); the result is the same."""
    demo_seat.context.shelf = Shelf(None)
    every_two = WEEKS.model_copy(update={"refit_weeks": 2})
    first = demo_seat.forecast_backtest(every_two)
    hits, fits = demo_seat.context.answers.hits, FITS.fits
    assert demo_seat.forecast_backtest(every_two) == first
    assert demo_seat.context.answers.hits == hits + 1  # the deal model of 2026-04-13
    assert FITS.fits - fits == SHOCK_QUARTERS  # only the calibration's walk-forward models
