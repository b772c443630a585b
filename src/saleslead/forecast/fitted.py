"""The forecast's fitted parts kept with the store: the deal model per as-of, the calibration per period.

Fitting is most of a forecast's cost; the deal book and the simulation are cheap by comparison. The deal
model depends on the deal book as it was known at the as-of date (:func:`visible_digest`) and two settings
(fiscal calendar, minimum sample); the calibration also on the period. Both are kept on the store's answers
shelf under those, not under the store's state, so a forecast with another scenario count, the seat's call, a
call's check, a bridge from that date, the coverage of that week (the targets' defence looks back week by
week) and next week's run after next week's ingest (which added only later history) all reuse them, in this
process or the next.
"""

from __future__ import annotations

from datetime import date

from saleslead.context import Progress
from saleslead.errors import InsufficientDataError
from saleslead.forecast.calibrate import Calibration, past_periods
from saleslead.forecast.fitkey import visible_digest
from saleslead.forecast.model import DealModel, fit_deal_model
from saleslead.forecast.outlook import Outlook, calibrated, run_outlook
from saleslead.forecast.panel import DealBook, day_number, load_book
from saleslead.forecast.schemas import FIT_SETTINGS, FORECAST_SETTINGS
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.answers import Answers

__all__ = ["FIT_SETTINGS", "FORECAST_SETTINGS", "fitted_outlook", "kept_model"]


def fitted_outlook(
    store: Store,
    settings: Settings,
    answers: Answers,
    period: Period,
    as_of: date,
    scenarios: int | None = None,
    progress: Progress | None = None,
    book: DealBook | None = None,
) -> Outlook:
    """The outlook of ``period`` as of ``as_of``, its model and calibration read from (or kept on) the shelf.

    ``book``: a deal book loaded as of a later date (a bridge's), cut at ``as_of`` as :func:`run_outlook` cuts
    it — the model and calibration fitted on it are those fitted on the book as of ``as_of`` (a test holds them
    equal), so they are kept and found under the same key when the two books agree on what was known then.
    """
    if as_of >= period.end:
        raise InsufficientDataError(f"{period} ended before {as_of}: nothing left to forecast; see its actuals")
    book = book or load_book(store, as_of)
    d = day_number(as_of)
    state = visible_digest(book, d)  # what the fits see, not the store's state: later ingests leave it
    model = kept_model(answers, settings, book, as_of, state)

    def calibration_() -> Calibration:
        return calibrated(store, book, d, period, past_periods(model, book, d, period, settings.min_sample))

    # "level": the level error's form (a calibration pickled with the log-ratio form is not read back);
    # "spread": the levels' recalibration from replayed PITs; "tree": the spread is measured over the reporting
    # lines (the users table, not in the book's digest), so an ingest that changes them makes it again
    tree = store.table("users").select("user_id", "name", "title", "manager_id").to_pyarrow().to_pylist()
    calibration = answers.artifact(
        "calibration", as_of, {"period": period.name, "level": "ratio", "spread": "pit",
                               "tree": sorted(tree, key=lambda u: str(u["user_id"]))}, calibration_,
        settings=FIT_SETTINGS, state=state,
    )  # fmt: skip
    return run_outlook(store, settings, period, as_of, scenarios, progress, book=book, model=model,
                       calibration=calibration)  # fmt: skip


def kept_model(
    answers: Answers, settings: Settings, book: DealBook, as_of: date, state: str | None = None
) -> DealModel:
    """The deal model as of ``as_of`` fitted on ``book`` (cut there), read from (or kept on) the shelf — the one
    the forecast of that day fits, wherever it was fitted first (a forecast, a bridge, a backtest).
    ``state``: the book's :func:`visible_digest` at ``as_of`` when the caller has it."""
    d = day_number(as_of)

    def fit() -> DealModel:
        return fit_deal_model(book, d, settings.fiscal_start_month, settings.min_sample)

    state = state or visible_digest(book, d)
    return answers.artifact("deal-model", as_of, {}, fit, settings=FIT_SETTINGS, state=state)
