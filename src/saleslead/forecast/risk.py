"""Deal inspection: what is wrong with one open deal, each risk with the evidence behind it.

Signals, all read from history known at the end of the as-of date:

* **past due** — the close date is before the as-of date and the deal is still open (the CRM's date is
  stale: the deal will not close when it says);
* **pushed** — the close date moved later (each move dated, from → to); beyond the norm when the
  stalls' slipping test holds (more pushes than 90 % of won deals had leaving the stage);
* **quiet** and **stuck in stage** — the stalls' tests (:mod:`saleslead.forecast.stalls`), with their
  learned thresholds;
* **amount cut** — the amount went down while the deal was open (each cut dated);
* **stage regression** — the deal moved back to an earlier open stage;
* **no next step** — the export carries ``NextStep`` and this deal's is blank;
* **single-threaded** — the export carries ``OpportunityContactRole`` and this deal has fewer than two
  contacts on it.

A signal whose source was not exported is not raised (and :attr:`DealInspection.not_assessed` says so).
"""

from __future__ import annotations

import itertools
import json
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.forecast.panel import DealBook, from_day_number
from saleslead.forecast.schemas import RiskKind, RiskSignal
from saleslead.format import money

__all__ = [
    "CONTACTS_KEY",
    "NEXT_STEP_KEYS",
    "DealEvent",
    "DealInspection",
    "DealRequest",
    "RiskKind",
    "RiskSignal",
    "export_signals",
    "extras_of",
    "history_signals",
    "timeline",
]

#: Columns of the Opportunity export (kept in ``opportunities.extra``) that hold the next step.
NEXT_STEP_KEYS = ("NextStep", "next_step", "hs_next_step", "Next Step")
#: Key the ingest writes into ``opportunities.extra``: contacts on the deal (from OpportunityContactRole).
CONTACTS_KEY = "ContactRoles"
_NO_DATE = -1_000_000


class DealRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    deal: str  # the opportunity id, or its name (a unique part of it)
    as_of: date | None = None  # default: the end of the store's last snapshot


class DealEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    day: date
    stage: str
    amount: float
    close_date: date | None
    forecast_category: str
    owner_id: str
    owner_name: str | None = None


class DealInspection(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    opportunity_id: str
    name: str | None
    account_id: str | None
    owner_id: str
    owner_name: str
    segment: str
    stage: str
    amount: float
    close_date: date | None
    forecast_category: str
    is_closed: bool
    is_won: bool
    days_in_stage: int
    pushes: int
    quiet_days: int | None
    next_step: str | None
    contacts: int | None
    signals: list[RiskSignal]
    not_assessed: list[str]  # signals whose source the export does not carry
    history: list[DealEvent]
    to_role: str = "account-executive"


def extras_of(extra: str | None) -> tuple[str | None, bool, int | None]:
    """(next step, whether the export had a next-step column, contacts on the deal or None) from ``extra``."""
    if not extra:
        return None, False, None
    try:
        body = json.loads(extra)
    except ValueError:
        return None, False, None
    if not isinstance(body, dict):
        return None, False, None
    step_key = next((k for k in NEXT_STEP_KEYS if k in body), None)
    step = body.get(step_key) if step_key else None
    step_text = str(step).strip() if step is not None and str(step).strip() else None
    count = body.get(CONTACTS_KEY)
    try:
        contacts = int(count) if count is not None else None
    except (TypeError, ValueError):
        contacts = None
    return step_text, step_key is not None, contacts


def timeline(book: DealBook, deal: int, day: int) -> list[DealEvent]:
    """The deal's events known at the end of ``day``, oldest first."""
    lo, hi = np.searchsorted(book.ev_deal, [deal, deal + 1])
    rows = [i for i in range(int(lo), int(hi)) if book.ev_time[i] < day + 1]
    return [
        DealEvent(
            day=from_day_number(int(np.floor(book.ev_time[i]))),
            stage=book.stage_names[int(book.ev_stage[i])],
            amount=float(book.ev_amount[i]),
            close_date=from_day_number(int(book.ev_close[i])) if book.ev_close[i] > _NO_DATE else None,
            forecast_category=book.categories[int(book.ev_category[i])],
            owner_id=book.owners[int(book.ev_owner[i])],
        )
        for i in rows
    ]


def _money(value: float) -> str:
    return money(value)


def history_signals(book: DealBook, events: list[DealEvent], as_of: date, slipping: bool) -> list[RiskSignal]:
    """Past due, pushes, amount cuts and stage regressions read from the deal's own history."""
    if not events:
        return []
    order = {name: int(book.stage_order_of[i]) for i, name in enumerate(book.stage_names)}
    closed = {name for i, name in enumerate(book.stage_names) if book.stage_closed[i]}
    now = events[-1]
    out: list[RiskSignal] = []
    if now.stage not in closed and now.close_date is not None and now.close_date < as_of:
        late = (as_of - now.close_date).days
        out.append(
            RiskSignal(
                kind="past-due",
                text=f"close date {now.close_date} passed {late} day{'s' if late > 1 else ''} before {as_of} and the "
                f"deal is still open "
                f"in {now.stage}",
                value=late,
                threshold=0,
            )
        )
    pushes, cuts, backs = [], [], []
    for before, after in itertools.pairwise(events):
        if before.close_date and after.close_date and after.close_date > before.close_date:
            pushes.append(f"{after.day}: close date {before.close_date} → {after.close_date}")
        if after.stage not in closed and after.amount < before.amount:
            cuts.append(f"{after.day}: amount {_money(before.amount)} → {_money(after.amount)}")
        if after.stage not in closed and before.stage not in closed and order[after.stage] < order[before.stage]:
            backs.append(f"{after.day}: {before.stage} → {after.stage}")
    if pushes:
        norm = "more than 90% of won deals had leaving this stage" if slipping else "within what won deals had"
        out.append(
            RiskSignal(
                kind="pushed",
                text=f"close date pushed {len(pushes)} time{'s' if len(pushes) > 1 else ''} ({norm})",
                value=len(pushes),
                beyond_norm=slipping,
                events=pushes,
            )
        )
    if cuts:
        top = max(e.amount for e in events if e.stage not in closed)
        out.append(
            RiskSignal(
                kind="amount-cut",
                text=f"amount cut {len(cuts)} time{'s' if len(cuts) > 1 else ''}: {_money(top)} at its highest, "
                f"{_money(now.amount)} now ({1 - now.amount / top:.0%} less)"
                if top > 0
                else f"amount cut {len(cuts)} times",
                value=round(top - now.amount, 2),
                events=cuts,
            )
        )
    if backs:
        out.append(
            RiskSignal(
                kind="stage-regression",
                text=f"moved back to an earlier stage {len(backs)} time{'s' if len(backs) > 1 else ''}",
                value=len(backs),
                events=backs,
            )
        )
    return out


def export_signals(next_step: str | None, has_step: bool, contacts: int | None) -> tuple[list[RiskSignal], list[str]]:
    """No next step and single-threaded, where the export carries what they need; else named as not assessed."""
    out: list[RiskSignal] = []
    missing: list[str] = []
    if not has_step:
        missing.append("no-next-step (the export has no NextStep column)")
    elif next_step is None:
        out.append(RiskSignal(kind="no-next-step", text="no next step recorded on the deal (NextStep is blank)"))
    if contacts is None:
        missing.append("single-threaded (the export has no OpportunityContactRole)")
    elif contacts < 2:
        who = "no contact" if contacts == 0 else "one contact"
        out.append(
            RiskSignal(
                kind="single-threaded",
                text=f"single-threaded: {who} on the deal (OpportunityContactRole)",
                value=contacts,
                threshold=2,
            )
        )
    return out, missing
