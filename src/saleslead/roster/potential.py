"""What an account is worth to a territory, and the work it takes, as of a date.

* ``potential = closed-won in the 12 months to as_of + Σ open amount × the deal's stage probability``;
  an account with neither gets ``whitespace_share × the median potential of its segment's other
  accounts`` (so empty accounts are not free to hand out);
* ``workload = 1 + open deals`` (an account needs covering even with nothing open).

The owner is the account's owner in the store (the export's current owner); the segment is the
account's own, else that of its latest deal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import numpy as np
import numpy.typing as npt

from saleslead.funnel.state import state_as_of
from saleslead.roster.config import RosterConfig
from saleslead.store import Store

__all__ = ["AccountBook", "account_book"]


@dataclass(frozen=True)
class AccountBook:
    account_id: list[str]
    name: list[str | None]
    segment: list[str]
    owner_id: list[str | None]
    potential: npt.NDArray[np.float64]
    workload: npt.NDArray[np.float64]
    measured: npt.NDArray[np.bool_]  # False: whitespace potential

    def __len__(self) -> int:
        return len(self.account_id)


def account_book(store: Store, as_of: date, config: RosterConfig) -> AccountBook:
    s = state_as_of(store, as_of)
    since = as_of - timedelta(days=365)
    won = s.is_won & s.close_date.notnull() & (s.close_date > ibis.literal(since)) & (s.close_date <= as_of)
    open_ = ~s.is_closed
    per = (
        s.filter(s.account_id.notnull())
        .group_by("account_id")
        .aggregate(
            won_12m=(s.amount * won.cast("float64")).sum(),
            open_weighted=(s.amount * s.probability.fill_null(0.0) / 100.0 * open_.cast("float64")).sum(),
            open_deals=open_.cast("int64").sum(),
            deal_segment=s.segment.max(),
        )
    )
    accounts = store.table("accounts")
    rows = (
        accounts.left_join(per, "account_id")
        .select("account_id", "name", "segment", "owner_id", "won_12m", "open_weighted", "open_deals", "deal_segment")
        .order_by("account_id")
        .to_pyarrow()
        .to_pylist()
    )
    raw = np.asarray([(r["won_12m"] or 0.0) + (r["open_weighted"] or 0.0) for r in rows], dtype=np.float64)
    segment = [r["segment"] or r["deal_segment"] or "Unassigned" for r in rows]
    measured = raw > 0
    potential = raw.copy()
    for seg in set(segment):
        mask = np.asarray([x == seg for x in segment])
        known = raw[mask & measured]
        fill = config.whitespace_share * float(np.median(known)) if known.size else 1.0
        potential[mask & ~measured] = fill
    return AccountBook(
        account_id=[r["account_id"] for r in rows],
        name=[r["name"] for r in rows],
        segment=segment,
        owner_id=[r["owner_id"] for r in rows],
        potential=potential,
        workload=np.asarray([1.0 + float(r["open_deals"] or 0) for r in rows], dtype=np.float64),
        measured=measured,
    )
