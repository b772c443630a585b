"""The deals a request names: by opportunity id, by account name or by deal name, as of a date.

A hand-off to the account-executive carries the deals it is about. People name them loosely — "the
Acme deal", "Initech's renewal", "Blue Harbor" — so a name is any run of capitalised words in the
middle of the request, matched as whole words inside account names (legal suffixes like Inc or GmbH
ignored) and deal names. What the request names and nothing matches is said, never dropped.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, Field

from saleslead.funnel.state import state_as_of
from saleslead.role.intent import NOT_NAMES
from saleslead.role.router import words
from saleslead.store import Store

__all__ = ["NamedDeals", "named_deals", "names_in"]

_LEGAL = {"inc", "gmbh", "ltd", "llc", "corp", "co", "sa", "ag", "plc", "bv", "sas", "srl", "pty", "limited"}
_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)*)")
_COLUMNS = (
    "opportunity_id",
    "name",
    "owner_id",
    "segment",
    "stage",
    "amount",
    "close_date",
    "days_in_stage",
    "pushes",
    "last_activity_date",
)


class NamedDeals(BaseModel):
    """Open deals a request names, the names it used, and the names nothing matched."""

    model_config = ConfigDict(frozen=True)

    deals: list[dict[str, Any]] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    unmatched: list[str] = Field(default_factory=list)


def names_in(text: str) -> list[str]:
    """Runs of capitalised words after the request's first word ("the Blue Harbor deal" → "Blue Harbor")."""
    found = []
    for run in _CAPITALISED.findall(text.strip()):
        kept = [w.split("'")[0] for w in run.split() if w.split("'")[0] not in NOT_NAMES]
        if kept:
            found.append(" ".join(kept))
    return found


def _phrase(text: str) -> str:
    tokens = words(text)
    if len(tokens) > 1 and tokens[-1] in _LEGAL:
        tokens = tokens[:-1]
    return " " + " ".join(tokens) + " "


def named_deals(store: Store, text: str, as_of: date, limit: int = 20) -> NamedDeals:
    """Open deals as of ``as_of`` that the request names by id, account or deal name (largest first)."""
    names = names_in(text)
    wanted = {n: _phrase(n) for n in names}
    accounts = store.table("accounts").select("account_id", "name").to_pyarrow().to_pylist()
    by_account: dict[str, set[str]] = {n: set() for n in names}
    for account in accounts:
        full = _phrase(account["name"] or "")
        for name, phrase in wanted.items():
            if phrase.strip() and phrase in full:
                by_account[name].add(account["account_id"])
    ids = [w for w in words(text) if len(w) >= 6]
    state = state_as_of(store, as_of)
    open_deals = state.filter(~state.is_closed)
    deal_name = open_deals.name.lower()
    hits = [open_deals.opportunity_id.lower().isin(ids or [""])]
    for name, phrase in wanted.items():
        hits.append(open_deals.account_id.isin(sorted(by_account[name]) or [""]))
        hits.append((" " + deal_name + " ").contains(phrase))
    condition = hits[0]
    for hit in hits[1:]:
        condition = condition | hit
    rows = open_deals.filter(condition).select(*_COLUMNS).order_by(ibis.desc("amount")).limit(limit)
    deals = [dict(r) for r in rows.to_pyarrow().to_pylist()]
    seen = " ".join(_phrase(f"{d['name'] or ''}") for d in deals)
    unmatched = [n for n in names if not by_account[n] and wanted[n] not in seen]
    return NamedDeals(deals=deals, names=names, unmatched=unmatched)
