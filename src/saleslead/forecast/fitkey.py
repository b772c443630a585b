"""What a fit as of a day saw: a digest of the deal book as it was known at the end of that day.

A deal model or calibration fitted as of day ``d`` reads only the history known at the end of ``d`` (events
before ``d + 1``, activities dated up to ``d``), the deals seen by then with their static attributes, and the
code lists its arrays index into (stages, segments, channels, forecast categories, owners). Keyed by a digest
of exactly that, a fit is found again by any later read that sees the same past — after next week's ingest
added only later events, from a bridge's book loaded a week later and cut at ``d`` — and by none that sees a
different past (a back-dated correction, a re-segmented deal, a new owner's code shifting the others).
"""

from __future__ import annotations

import hashlib

import numpy as np

from saleslead.forecast.panel import DealBook
from saleslead.store.answers import VISIBLE

__all__ = ["visible_digest"]


def visible_digest(book: DealBook, day: int) -> str:
    """A digest of what ``book`` knew at the end of ``day``: equal for two books exactly when they agree on it.

    Deals are numbered by their rank among the deals seen by ``day`` (in id order, as the book numbers
    them), so a book loaded later — whose codes count deals first seen after ``day`` too — digests the same.
    """
    h = hashlib.sha256()

    def add(*arrays: object) -> None:
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes() if isinstance(a, np.ndarray) else repr(a).encode())
            h.update(b"|")

    edge = float(day + 1)
    seen = book.first_seen < edge
    rank = np.cumsum(seen) - 1
    ids = [i for i, s in zip(book.ids, seen.tolist(), strict=True) if s]
    add(day, book.stage_names, book.stage_order_of, book.stage_closed, book.stage_won, book.stage_probability)
    add(book.segment_names, book.channel_names, book.categories, book.owners, book.owner_start)
    add(ids, book.segment[seen], book.channel[seen], book.created[seen], book.first_seen[seen])
    ev = book.ev_time < edge
    add(rank[book.ev_deal[ev]], book.ev_time[ev], book.ev_stage[ev], book.ev_amount[ev], book.ev_close[ev])
    add(book.ev_category[ev], book.ev_owner[ev], book.ev_entered[ev], book.ev_pushes[ev], book.ev_activity[ev])
    act_deal = book.act_key >> np.int64(32)
    act = (book.act_day <= day) & seen[act_deal]
    add(rank[act_deal[act]], book.act_day[act])
    return VISIBLE + h.hexdigest()[:32]
