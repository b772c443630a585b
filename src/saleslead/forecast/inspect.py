"""One deal, inspected: its state, its history and every risk signal with evidence (``saleslead deal``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from saleslead.errors import InputError, NotFoundError
from saleslead.forecast.panel import day_number, load_book
from saleslead.forecast.risk import (
    DealInspection,
    RiskSignal,
    export_signals,
    extras_of,
    history_signals,
    timeline,
)
from saleslead.forecast.stalls import flag_open_deals, signals_of
from saleslead.names import Directory
from saleslead.store import Store

__all__ = ["find_deal", "inspect_deal"]


def find_deal(store: Store, text: str) -> dict[str, Any]:
    """The opportunity ``text`` names: its id, else its exact name, else a unique part of its name."""
    opps = store.table("opportunities")
    cols = ("opportunity_id", "name", "account_id", "owner_id", "segment", "extra")
    hit = opps.filter(opps.opportunity_id == text).select(*cols).to_pyarrow().to_pylist()
    if hit:
        first: dict[str, Any] = hit[0]
        return first
    key = text.strip().lower()
    exact = opps.filter(opps.name.lower() == key).select(*cols).limit(20).to_pyarrow().to_pylist()
    found = exact or opps.filter(opps.name.lower().contains(key)).select(*cols).limit(20).to_pyarrow().to_pylist()
    if len(found) == 1:
        one: dict[str, Any] = found[0]
        return one
    if not found:
        raise NotFoundError(f"no deal with the id or name {text!r}", column="deal", hint="an opportunity id or name")
    listed = "; ".join(f"{r['name']} ({r['opportunity_id']})" for r in found[:12])
    raise InputError(f"{text!r} fits {len(found)}{'+' if len(found) == 20 else ''} deals: {listed}", column="deal",
                     hint="give the full name or the opportunity id")  # fmt: skip


def inspect_deal(store: Store, text: str, as_of: date, min_sample: int, people: Directory) -> DealInspection:
    """The deal as of the end of ``as_of`` with every risk signal, each with its evidence."""
    row = find_deal(store, text)
    opp_id = str(row["opportunity_id"])
    book = load_book(store, as_of)
    d = day_number(as_of)
    if opp_id not in book.ids:
        raise NotFoundError(f"deal {opp_id} has no history known at the end of {as_of}", column="as_of")
    deal = book.ids.index(opp_id)
    events = timeline(book, deal, d)
    now = events[-1]
    is_closed = bool(book.stage_closed[book.stage_names.index(now.stage)])
    signals: list[RiskSignal] = []
    quiet_days: int | None = None
    days_in_stage = 0
    pushes = 0
    slipping = False
    if not is_closed:
        flags = flag_open_deals(book, d, min_sample)
        where = np.flatnonzero(flags.open.deal == deal)
        i = int(where[0])
        days_in_stage, pushes = int(flags.value["stuck"][i]), int(flags.value["slipping"][i])
        quiet_days = int(flags.value["quiet"][i])
        slipping = bool(flags.hit["slipping"][i])
        learned, texts = signals_of(flags, i, book)
        for s, text_ in zip(learned, texts, strict=True):
            if s.kind in ("quiet", "stuck"):
                signals.append(RiskSignal(kind=s.kind, text=text_, value=s.value, threshold=s.threshold))
    else:
        st = book.states_at(d, np.asarray([deal], dtype=np.int64))
        days_in_stage, pushes = int(st.days_in_stage[0]), int(st.pushes[0])
    signals[:0] = history_signals(book, events, as_of, slipping) if not is_closed else []
    step, has_step, contacts = extras_of(row.get("extra"))
    missing: list[str] = []
    if not is_closed:
        more, missing = export_signals(step, has_step, contacts)
        signals.extend(more)
    order = ["past-due", "quiet", "stuck", "pushed", "amount-cut", "stage-regression", "no-next-step",
             "single-threaded"]  # fmt: skip
    signals.sort(key=lambda s: order.index(s.kind))
    return DealInspection(
        as_of=as_of,
        opportunity_id=opp_id,
        name=row.get("name"),
        account_id=row.get("account_id"),
        owner_id=now.owner_id,
        owner_name=people.name(now.owner_id),
        segment=book.segment_names[int(book.segment[deal])],
        stage=now.stage,
        amount=now.amount,
        close_date=now.close_date,
        forecast_category=now.forecast_category,
        is_closed=is_closed,
        is_won=bool(book.stage_won[book.stage_names.index(now.stage)]),
        days_in_stage=days_in_stage,
        pushes=pushes,
        quiet_days=quiet_days,
        next_step=step,
        contacts=contacts,
        signals=signals,
        not_assessed=missing,
        history=[e.model_copy(update={"owner_name": people.name(e.owner_id)}) for e in events],
    )
