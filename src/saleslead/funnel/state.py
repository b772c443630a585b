"""Point in time: every opportunity as it stood at the end of a date, from the history alone.

:func:`state_as_of` is the one function every mandate reads the funnel through. It returns a
lazy Ibis expression (the engine does the work) and sees nothing recorded after the end of
``as_of``: an answer as of D is the same whether the store holds later data or not.
"""

from __future__ import annotations

import weakref
from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.types as ir

from saleslead.periods import check_day
from saleslead.store import Store

__all__ = ["STATE_COLUMNS", "end_of", "history_until", "state_as_of", "stored"]

STATE_COLUMNS = (
    "opportunity_id",
    "name",
    "account_id",
    "owner_id",
    "segment",
    "motion",
    "channel",
    "product",
    "created_at",
    "stage",
    "stage_order",
    "is_closed",
    "is_won",
    "amount",
    "close_date",
    "probability",
    "forecast_category",
    "stage_entered_at",
    "days_in_stage",
    "age_days",
    "pushes",
    "last_activity_date",
)


_TABLES: weakref.WeakKeyDictionary[Store, dict[str, ir.Table]] = weakref.WeakKeyDictionary()


def stored(store: Store, name: str) -> ir.Table:
    """``store.table(name)``, looked up once per store: a table expression is lazy (it holds the name and the
    schema, never the rows), so every later read still sees the table as it is then."""
    tables = _TABLES.setdefault(store, {})
    if name not in tables:
        tables[name] = store.table(name)
    return tables[name]


def end_of(day: date) -> datetime:
    """The first instant after ``day``: events strictly before it are known at the end of ``day``."""
    return datetime.combine(check_day(day, "as_of") + timedelta(days=1), time())


def history_until(store: Store, as_of: date) -> ir.Table:
    """History events known at the end of ``as_of``."""
    history = stored(store, "history")
    return history.filter(history.changed_at < ibis.literal(end_of(as_of)))


def state_as_of(store: Store, as_of: date) -> ir.Table:
    """Every opportunity that existed at the end of ``as_of``, in its state then (see :data:`STATE_COLUMNS`)."""
    h = history_until(store, as_of)
    # The newest event known at the end of ``as_of`` is the one whose successor (if any) came later.
    cut = ibis.literal(end_of(as_of))
    last = h.filter(h.valid_to.isnull() | (h.valid_to >= cut)).select(
        "opportunity_id",
        "first_seen",
        "stage",
        "amount",
        "close_date",
        "probability",
        "forecast_category",
        "owner_id",
        "pushes",
        "stage_entered_at",
        activity_noted="activity_so_far",
    )

    acts = stored(store, "activities")
    acts = acts.filter(acts.activity_date <= ibis.literal(as_of))
    touched = acts.group_by("opportunity_id").aggregate(activity_seen=acts.activity_date.max())

    opps = stored(store, "opportunities")
    stages = stored(store, "stages")
    stages = stages.rename(stage="name", stage_probability="probability")
    joined = last.left_join(opps, "opportunity_id").left_join(stages, "stage").left_join(touched, "opportunity_id")
    day = ibis.literal(as_of)
    created = ibis.coalesce(joined.created_at, joined.first_seen)
    # Never report a creation later than the first evidence of the deal.
    created = ibis.least(created, joined.first_seen)
    activity = ibis.greatest(
        joined.activity_seen.fill_null(joined.activity_noted),
        joined.activity_noted.fill_null(joined.activity_seen),
    )
    return joined.select(
        opportunity_id=joined.opportunity_id,
        name=joined.name,
        account_id=joined.account_id,
        owner_id=ibis.coalesce(joined.owner_id, joined.owner_id_right),
        segment=joined.segment.fill_null("Unassigned"),
        motion=joined.motion.fill_null("Unknown"),
        channel=joined.channel.fill_null("Unknown"),
        product=joined.product,
        created_at=created,
        stage=joined.stage,
        stage_order=joined.stage_order.fill_null(999),
        is_closed=joined.is_closed.fill_null(False),
        is_won=joined.is_won.fill_null(False),
        amount=joined.amount.fill_null(0.0),
        close_date=joined.close_date,
        probability=ibis.coalesce(joined.probability, joined.stage_probability),
        forecast_category=joined.forecast_category,
        stage_entered_at=joined.stage_entered_at,
        days_in_stage=day.delta(joined.stage_entered_at.date(), unit="day"),
        age_days=day.delta(created.date(), unit="day"),
        pushes=joined.pushes,
        last_activity_date=activity,
    )
