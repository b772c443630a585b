"""The pipeline waterfall of a period between two dates, reconciling to the dollar.

Pipeline of period P at a date: the open deals whose close date falls in P, at their amount then.
Every deal in the pipeline at either date is put in exactly one movement, by comparing the two states:

* in at both dates: the amount difference is **amount up** or **amount down**;
* in at the start only: **won** or **lost** (closed by the end), else **pushed out** (still open,
  close date moved outside P) — at its starting amount;
* in at the end only: **created** (did not exist at the start), else **pulled in** (existed with a
  close date outside P, or closed and reopened) — at its ending amount.

So ``start + created + pulled_in − pushed_out + amount_up − amount_down − won − lost = end`` exactly.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from saleslead.errors import InputError
from saleslead.forecast.panel import DealBook, day_number, load_book
from saleslead.forecast.schemas import WaterfallResult
from saleslead.periods import Period
from saleslead.store import Store

__all__ = ["pipeline_waterfall"]


def pipeline_waterfall(
    store: Store, period: Period, start: date, end: date, book: DealBook | None = None
) -> WaterfallResult:
    """Movements of ``period``'s pipeline from the end of ``start`` to the end of ``end``.

    ``book`` may be loaded at any date on or after ``end`` (states are replayed as of each date)."""
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    if book is None or book.until < day_number(end):
        book = load_book(store, end)
    lo, hi = day_number(period.start), day_number(period.end)
    a = book.states_at(day_number(start))
    b = book.states_at(day_number(end))
    n = book.size
    exists_a = np.zeros(n, dtype=bool)
    exists_a[a.deal] = True
    amount_a = np.zeros(n)
    amount_b = np.zeros(n)
    amount_a[a.deal] = a.amount
    amount_b[b.deal] = b.amount
    in_a = np.zeros(n, dtype=bool)
    in_b = np.zeros(n, dtype=bool)
    in_a[a.deal] = ~a.is_closed & (a.close_day >= lo) & (a.close_day < hi)
    in_b[b.deal] = ~b.is_closed & (b.close_day >= lo) & (b.close_day < hi)
    won_b = np.zeros(n, dtype=bool)
    lost_b = np.zeros(n, dtype=bool)
    won_b[b.deal] = b.is_won
    lost_b[b.deal] = b.is_closed & ~b.is_won
    both = in_a & in_b
    delta = amount_b - amount_a
    left = in_a & ~in_b
    came = in_b & ~in_a
    won = left & won_b
    lost = left & lost_b
    pushed = left & ~won_b & ~lost_b
    created = came & ~exists_a
    pulled = came & exists_a
    parts = {
        "starting_pipeline": float(amount_a[in_a].sum()),
        "created": float(amount_b[created].sum()),
        "pulled_in": float(amount_b[pulled].sum()),
        "pushed_out": float(amount_a[pushed].sum()),
        "amount_up": float(delta[both & (delta > 0)].sum()),
        "amount_down": float(-delta[both & (delta < 0)].sum()),
        "won": float(amount_a[won].sum()),
        "lost": float(amount_a[lost].sum()),
        "ending_pipeline": float(amount_b[in_b].sum()),
    }
    flow = (
        parts["starting_pipeline"] + parts["created"] + parts["pulled_in"] - parts["pushed_out"]
        + parts["amount_up"] - parts["amount_down"] - parts["won"] - parts["lost"]
    )  # fmt: skip
    counts = {
        "starting_pipeline": int(in_a.sum()),
        "created": int(created.sum()),
        "pulled_in": int(pulled.sum()),
        "pushed_out": int(pushed.sum()),
        "amount_changed": int((both & (delta != 0)).sum()),
        "won": int(won.sum()),
        "lost": int(lost.sum()),
        "ending_pipeline": int(in_b.sum()),
    }
    scale = max(1.0, abs(parts["ending_pipeline"]))
    return WaterfallResult(
        period=period.name,
        start=start,
        end=end,
        deals=counts,
        reconciles=abs(flow - parts["ending_pipeline"]) <= 1e-9 * scale,
        **parts,
    )
