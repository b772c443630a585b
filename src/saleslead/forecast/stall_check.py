"""Is a stall flag evidence? The stall rule replayed at earlier dates and checked against what happened next.

For each as-of date ``D`` (by default 120, 90 and 60 days before ``until``): the deal book is cut at ``D``,
the thresholds are learned from it and every open deal is flagged exactly as :func:`find_stalls` would
have flagged it then. The outcome of each deal is read from the history known at ``until``: won by then,
lost by then, or still open. The check reports, per date and pooled over the dates:

* the open deals, the share stalled (flagged), and per signal: the deals it holds for (stalled or not),
  alone (no other signal) and among the stalled, with their win rates;
* the deals with a signal that are not stalled (stuck or slipping while still worked), and their win rate;
* the win rate of flagged and unflagged deals — the share that went on to win by ``until``, deals still
  open counting as not (yet) won for both — with 90 % Wilson intervals and their sample sizes;
* the gap (unflagged − flagged, in points), the ratio (flagged ÷ unflagged) and whether the two intervals
  are apart (flagged upper bound below unflagged lower bound).

Pooled figures count deal-dates: a deal open at two dates counts twice, so the pooled intervals are
narrower than independent samples would give; the per-date figures are the independent ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from saleslead.evidence import Rate, wilson
from saleslead.forecast._frozen import Frozen
from saleslead.forecast.panel import Bools, day_number, load_book
from saleslead.forecast.stalls import KINDS, flag_open_deals
from saleslead.store import Store

__all__ = ["DEFAULT_OFFSETS", "DateCheck", "ReasonCheck", "StallCheck", "check_stalls"]

#: Days before ``until`` the rule is replayed at, when no dates are given.
DEFAULT_OFFSETS = (120, 90, 60)


class ReasonCheck(Frozen):
    """One signal: the open deals it holds for (stalled or not), for alone, and among the stalled deals."""

    reason: str
    holds: int
    share: float  # of the open deals
    win_rate: Rate
    alone: int
    alone_win_rate: Rate
    stalled: int  # stalled deals that carry this reason


class DateCheck(Frozen):
    """The rule at one as-of date (or pooled over several: ``as_of`` None, counts are deal-dates)."""

    as_of: date | None
    open_deals: int
    flagged: int
    share: float
    still_open: int  # open deals not closed by ``until`` (they count as not won)
    reasons: list[ReasonCheck]
    not_raised: int  # deals with a signal that are not stalled
    not_raised_win_rate: Rate
    flagged_win_rate: Rate
    unflagged_win_rate: Rate
    gap: float | None  # unflagged − flagged win rate
    ratio: float | None  # flagged ÷ unflagged win rate
    apart: bool  # the flagged interval lies wholly below the unflagged one


class StallCheck(Frozen):
    until: date
    dates: list[DateCheck]
    pooled: DateCheck
    method: str


class _Tally:
    """Counts behind one :class:`DateCheck`: flags and outcomes, one row a deal (and date)."""

    def __init__(self) -> None:
        self.hit: dict[str, list[Bools]] = {k: [] for k in KINDS}
        self.stalled: list[Bools] = []
        self.won: list[Bools] = []
        self.closed: list[Bools] = []

    def add(self, hit: dict[str, Bools], stalled: Bools, won: Bools, closed: Bools) -> None:
        for k in KINDS:
            self.hit[k].append(hit[k])
        self.stalled.append(stalled)
        self.won.append(won)
        self.closed.append(closed)

    def result(self, as_of: date | None, min_sample: int) -> DateCheck:
        won, closed, flagged = (_join(x) for x in (self.won, self.closed, self.stalled))
        hit = {k: _join(v) for k, v in self.hit.items()}
        n = len(won)
        raised = np.zeros(n, dtype=bool)
        for k in KINDS:
            raised |= hit[k]

        def rate(rows: Bools) -> Rate:
            return wilson(float(won[rows].sum()), float(rows.sum()), min_sample=min_sample)

        reasons = []
        for k in KINDS:
            alone = hit[k].copy()
            for other in KINDS:
                if other != k:
                    alone &= ~hit[other]
            reasons.append(
                ReasonCheck(
                    reason=k,
                    holds=int(hit[k].sum()),
                    share=float(hit[k].mean()) if n else 0.0,
                    win_rate=rate(hit[k]),
                    alone=int(alone.sum()),
                    alone_win_rate=rate(alone),
                    stalled=int((hit[k] & flagged).sum()),
                )
            )
        f, u = rate(flagged), rate(~flagged)
        both = f.value is not None and u.value is not None
        return DateCheck(
            as_of=as_of,
            open_deals=n,
            flagged=int(flagged.sum()),
            share=float(flagged.mean()) if n else 0.0,
            still_open=int((~closed).sum()),
            reasons=reasons,
            not_raised=int((raised & ~flagged).sum()),
            not_raised_win_rate=rate(raised & ~flagged),
            flagged_win_rate=f,
            unflagged_win_rate=u,
            gap=(u.value - f.value) if both and u.value is not None and f.value is not None else None,
            ratio=(f.value / u.value) if both and u.value and f.value is not None else None,
            apart=bool(both and f.high is not None and u.low is not None and f.high < u.low),
        )


def _join(parts: list[Bools]) -> Bools:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def check_stalls(store: Store, until: date, dates: Sequence[date] | None = None, min_sample: int = 30) -> StallCheck:
    """Replay the stall rule at each date (history known then only) and compare flagged and unflagged outcomes."""
    days = sorted(dates) if dates else [until - timedelta(days=d) for d in DEFAULT_OFFSETS]
    if any(d >= until for d in days):
        raise ValueError(f"every as-of date must be before {until} (the outcomes are read then)")
    later = load_book(store, until)
    index = {v: i for i, v in enumerate(later.ids)}
    checks: list[DateCheck] = []
    pooled = _Tally()
    for day in days:
        d = day_number(day)
        book = load_book(store, day)
        flags = flag_open_deals(book, d, min_sample)
        deals = np.asarray([index[book.ids[int(x)]] for x in flags.open.deal], dtype=np.int64)
        then = later.states_at(d, deals)
        if not np.array_equal(then.deal, deals):  # every deal known at D is in the later book
            raise AssertionError("a deal known at an earlier date is missing from the later history")
        tally = _Tally()
        for t in (tally, pooled):
            t.add(flags.hit, flags.stalled, then.next_close_won, np.isfinite(then.next_close))
        checks.append(tally.result(day, min_sample))
    return StallCheck(
        until=until,
        dates=checks,
        pooled=pooled.result(None, min_sample),
        method=(
            "the stall rule replayed at each date on history known then; outcome: won by "
            f"{until} (still open counts as not won); 90% Wilson intervals; pooled counts are deal-dates"
        ),
    )
