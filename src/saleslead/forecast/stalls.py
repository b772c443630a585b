"""Stalls and slips: open deals that sit in a stage, slip, or go quiet beyond what history says is normal.

As of ``D``, from history known then:

* **stuck in stage** — days in the current stage above the P90 of *completed* stays in that stage
  and segment (stays that began and ended by ``D``); a (stage, segment) with fewer than
  ``min_sample`` stays uses the stage's P90 over all segments;
* **slipping** — two or more close-date pushes;
* **gone quiet** — days since the last logged activity above the learned quiet span: the P90, per
  segment, of the days without activity seen on deals the week before they were won.

Each flag names the deal, its owner and the evidence, addressed to the ``account-executive``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from saleslead.evidence import Evidence
from saleslead.forecast.panel import DealBook, day_number, load_book
from saleslead.forecast.schemas import StallItem, StallsResult
from saleslead.store import Store

__all__ = ["PUSH_LIMIT", "find_stalls", "quiet_spans", "stage_p90"]

Floats = npt.NDArray[np.float64]
PUSH_LIMIT = 2


def stage_p90(book: DealBook, as_of: int, min_sample: int) -> dict[tuple[int, int], tuple[float, int]]:
    """(stage, segment) → (P90 days of completed stays, stays); segment -1 is the all-segment fallback."""
    d, t, s = book.ev_deal, book.ev_time, book.ev_stage
    known = t < as_of + 1
    first = np.r_[True, d[1:] != d[:-1]]
    change = first | np.r_[True, s[1:] != s[:-1]]
    idx = np.flatnonzero(change & known)
    if not len(idx):
        return {}
    nxt = np.r_[idx[1:], len(d)]
    same = np.r_[d[idx[1:]] == d[idx[:-1]], False]
    ended = same & (t[np.minimum(nxt, len(d) - 1)] < as_of + 1)
    stays = np.floor(t[nxt[ended]]) - np.floor(t[idx[ended]])
    stage = s[idx[ended]]
    seg = book.segment[d[idx[ended]]]
    out: dict[tuple[int, int], tuple[float, int]] = {}
    for st in np.unique(stage):
        m = stage == st
        if book.stage_closed[st]:
            continue
        out[(int(st), -1)] = (float(np.quantile(stays[m], 0.9)), int(m.sum()))
        for g in np.unique(seg[m]):
            mg = m & (seg == g)
            if mg.sum() >= min_sample:
                out[(int(st), int(g))] = (float(np.quantile(stays[mg], 0.9)), int(mg.sum()))
    return out


def quiet_spans(book: DealBook, as_of: int, min_sample: int) -> dict[int, tuple[float, int]]:
    """Segment → (P90 of days since last activity on deals one week before they were won, deals)."""
    won_at = np.where(book.ev_next_close >= 0, book.ev_time[np.maximum(book.ev_next_close, 0)], np.inf)
    won_flag = (book.ev_next_close >= 0) & book.stage_won[book.ev_stage[np.maximum(book.ev_next_close, 0)]]
    out: dict[int, tuple[float, int]] = {}
    first = np.r_[True, book.ev_deal[1:] != book.ev_deal[:-1]]
    deals = book.ev_deal[first & won_flag & (won_at < as_of + 1)]
    if not len(deals):
        return out
    when = np.floor(won_at[first & won_flag & (won_at < as_of + 1)]).astype(np.int64) - 8
    gaps = np.empty(len(deals))
    segs = book.segment[deals]
    for day in np.unique(when):
        m = when == day
        st = book.states_at(int(day), deals[m])
        found = np.full(int(m.sum()), np.nan)
        pos = np.searchsorted(deals[m], st.deal) if np.all(np.diff(deals[m]) >= 0) else None
        if pos is not None:
            found[pos] = st.days_since_activity
        gaps[m] = found
    ok = ~np.isnan(gaps) & (gaps < 10_000)
    for g in np.unique(segs[ok]):
        m = ok & (segs == g)
        if m.sum() >= max(5, min_sample // 3):
            out[int(g)] = (float(np.quantile(gaps[m], 0.9)), int(m.sum()))
    return out


def find_stalls(store: Store, as_of: date, min_sample: int) -> StallsResult:
    """Every open deal that is stuck in its stage, slipping, or quiet — with the evidence for each flag."""
    book = load_book(store, as_of)
    d = day_number(as_of)
    p90 = stage_p90(book, d, min_sample)
    quiet = quiet_spans(book, d, min_sample)
    now = book.states_at(d)
    now = now.take(~now.is_closed)
    names = {
        r["opportunity_id"]: r["name"]
        for r in store.table("opportunities").select("opportunity_id", "name").to_pyarrow().to_pylist()
    }
    items: list[StallItem] = []
    for i in range(len(now)):
        deal, stage, seg = int(now.deal[i]), int(now.stage[i]), int(book.segment[now.deal[i]])
        reasons: list[str] = []
        limit = p90.get((stage, seg)) or p90.get((stage, -1))
        days = int(now.days_in_stage[i])
        if limit is not None and days > limit[0]:
            reasons.append(
                f"{days} days in {book.stage_names[stage]}, beyond the P90 of {limit[0]:.0f} days "
                f"({limit[1]} completed stays)"
            )
        pushes = int(now.pushes[i])
        if pushes >= PUSH_LIMIT:
            reasons.append(f"close date pushed {pushes} times")
        span = quiet.get(seg)
        silent = int(now.days_since_activity[i])
        if span is not None and silent > span[0]:
            text = "no activity ever logged" if silent >= 10_000 else f"no activity for {silent} days"
            reasons.append(f"{text}; won deals were quiet at most {span[0]:.0f} days (P90 of {span[1]})")
        if reasons:
            items.append(
                StallItem(
                    opportunity_id=book.ids[deal],
                    name=names.get(book.ids[deal]),
                    owner_id=book.owners[int(now.owner[i])],
                    segment=book.segment_names[seg],
                    stage=book.stage_names[stage],
                    amount=float(now.amount[i]),
                    days_in_stage=days,
                    stage_p90_days=limit[0] if limit else None,
                    pushes=pushes,
                    days_since_activity=silent if silent < 10_000 else None,
                    quiet_span_days=span[0] if span else None,
                    reasons=reasons,
                )
            )
    items.sort(key=lambda it: (-len(it.reasons), -it.amount))
    stays = sum(v[1] for k, v in p90.items() if k[1] == -1)
    return StallsResult(
        as_of=as_of,
        items=items,
        evidence=Evidence(
            method="P90 of completed stage stays by stage and segment; P90 quiet span before wins; pushes ≥ 2",
            sample_size=stays,
            thin=stays < min_sample,
            note=f"{len(now)} open deals checked",
        ),
    )
