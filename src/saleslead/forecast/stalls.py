"""Stalls: open deals nobody is working, beyond what history says is normal — with the evidence for each.

As of ``D``, from history known then (stays entered, and deals won, within the ``LOOKBACK_DAYS`` before
``D``), three signals, each a P90 (``LEVEL``) learned per segment, or per (stage, segment):

* **gone quiet** — days since the last touch (a logged activity, or the creation of the deal) above the
  P90 of the longest silence in the open life of deals that went on to win (same segment);
* **stuck in stage** — days in the current stage above the Kaplan–Meier P90 of stays in that stage and
  segment: stays that ended (forward or closed) are events, stays still running at ``D`` are censored at
  their length so far — the long stays of deals still open count as "at least this long", not as missing;
* **slipping** — at least ``PUSH_FLOOR`` close-date pushes and more than the P90 of the pushes deals that
  went on to win had when they left the same stage (same segment).

A deal is **stalled** when it has gone quiet; stuck and slipping are listed with it when they hold too.
Measured on the demo (docs/forecast.md, :mod:`saleslead.forecast.stall_check`), deals that were stuck or
slipping while still being worked won as often as unflagged ones: alone they are not evidence of a
stall. Where quiet cannot be judged (no activity logged on any won deal, or too few won deals), a deal
is stalled when it is both stuck and slipping.

A (stage, segment) or segment with fewer than ``min_sample`` observations (finished stays; won deals)
uses the all-segment threshold of the stage, and says so; when that too is thin, the signal is not
raised. Each stall names the deal, its owner and the evidence, addressed to the ``account-executive``.

The floors and the lookback are settings (``stalls.quiet_days``, ``stalls.push_floor``, ``stalls.lookback_days``:
:class:`saleslead.settings.StallThresholds`); the constants here are their defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.evidence import Evidence
from saleslead.forecast.panel import DealBook, States, day_number, from_day_number, load_book
from saleslead.forecast.risk import RiskSignal, export_signals, extras_of, history_signals, timeline
from saleslead.forecast.schemas import StallItem, StallSignal, StallsResult
from saleslead.funnel.durations import kaplan_meier_quantiles
from saleslead.names import Directory
from saleslead.settings import StallThresholds
from saleslead.store import Store

__all__ = [
    "KINDS",
    "LEVEL",
    "LOOKBACK_DAYS",
    "PUSH_FLOOR",
    "Flags",
    "Limits",
    "Thresholds",
    "find_stalls",
    "flag_open_deals",
    "learn_limits",
    "push_limits",
    "quiet_limits",
    "select_stalls",
    "signals_of",
    "stay_limits",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The quantile every threshold is learned at.
LEVEL = 0.9
#: History the thresholds are learned from: stays entered, and deals won, within this many days before ``D``.
LOOKBACK_DAYS = StallThresholds().lookback_days  # the default of the ``stalls.lookback_days`` setting
#: A deal is never "slipping" on fewer pushes than this, whatever the winners did.
PUSH_FLOOR = StallThresholds().push_floor  # the default of the ``stalls.push_floor`` setting
#: The three signals, in the order their reasons are listed.
KINDS = ("quiet", "stuck", "slipping")
_NEVER = 10_000  # States.days_since_activity when no activity was ever logged


@dataclass(frozen=True)
class Thresholds:
    """Learned thresholds per (stage, segment): a deal is flagged when its value is strictly above ``value``.

    ``value`` is NaN where no threshold could be learned (too few observations even over all segments).
    ``sample`` is what the threshold used rests on, ``own`` the observations of the deal's own segment
    (below ``min_sample``: the all-segment threshold is used, ``pooled`` is True). Quiet thresholds do not
    depend on the stage: every row of the stage axis is the same.
    """

    value: Floats  # [stage, segment]
    sample: Ints
    own: Ints
    pooled: Bools
    censored: Ints  # stays still running at D (stuck only; 0 elsewhere)

    def at(self, stage: Ints, segment: Ints) -> tuple[Floats, Ints, Ints, Bools, Ints]:
        return (
            self.value[stage, segment],
            self.sample[stage, segment],
            self.own[stage, segment],
            self.pooled[stage, segment],
            self.censored[stage, segment],
        )


@dataclass(frozen=True)
class Limits:
    """The three learned thresholds as of one date."""

    stay: Thresholds
    pushes: Thresholds
    quiet: Thresholds
    stays: int  # finished stays the stuck thresholds rest on (all segments)
    wins: int  # won deals the slipping and quiet thresholds rest on


def _table(
    book: DealBook,
    stage: Ints,
    segment: Ints,
    estimate: Callable[[Bools], tuple[float | None, int, int]],
    min_sample: int,
) -> Thresholds:
    """Thresholds per (stage, segment) from observations, falling back to the stage over all segments.

    ``estimate(rows)`` returns ``(value or None, observations that count toward min_sample, censored)``.
    """
    n_st, n_seg = len(book.stage_names), max(len(book.segment_names), 1)
    value = np.full((n_st, n_seg), np.nan)
    sample = np.zeros((n_st, n_seg), dtype=np.int64)
    own = np.zeros((n_st, n_seg), dtype=np.int64)
    pooled = np.zeros((n_st, n_seg), dtype=bool)
    censored = np.zeros((n_st, n_seg), dtype=np.int64)
    for st in np.unique(stage):
        rows = stage == st
        all_v, all_n, all_c = estimate(rows)
        for g in range(n_seg):
            mine = rows & (segment == g)
            v, n, c = estimate(mine) if mine.any() else (None, 0, 0)
            own[st, g] = n
            if v is not None and n >= min_sample:
                value[st, g], sample[st, g], censored[st, g] = v, n, c
            elif all_v is not None and all_n >= min_sample:
                value[st, g], sample[st, g], censored[st, g], pooled[st, g] = all_v, all_n, all_c, True
            else:
                sample[st, g], pooled[st, g] = all_n, True
    return Thresholds(value, sample, own, pooled, censored)


def _runs(book: DealBook, as_of: int) -> tuple[Ints, Ints, Ints, Ints, Ints]:
    """Stage runs known at the end of ``as_of``: deal, stage, day entered, day left (-1: still running), last event."""
    known = np.flatnonzero(book.ev_time < as_of + 1)
    d, t, s = book.ev_deal[known], book.ev_time[known], book.ev_stage[known]
    if not len(d):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    first = np.r_[True, d[1:] != d[:-1]]
    start = np.flatnonzero(first | np.r_[True, s[1:] != s[:-1]])
    nxt = np.r_[start[1:], len(d)]
    same = np.r_[d[start[1:]] == d[start[:-1]], False]
    entered = np.floor(t[start]).astype(np.int64)
    left = np.where(same, np.floor(t[np.minimum(nxt, len(d) - 1)]).astype(np.int64), -1)
    return d[start], s[start], entered, left, known[nxt - 1]


def stay_limits(book: DealBook, as_of: int, min_sample: int, lookback: int = LOOKBACK_DAYS) -> Thresholds:
    """Kaplan–Meier P90 of whole days in each open stage, per segment; running stays censored at ``as_of``."""
    deal, stage, entered, left, _ = _runs(book, as_of)
    keep = ~book.stage_closed[stage] & (entered > as_of - lookback)
    deal, stage, entered, left = deal[keep], stage[keep], entered[keep], left[keep]
    done = left >= 0
    days = np.where(done, left - entered, as_of - entered)
    ones = np.ones(len(days), dtype=np.int64)

    def km(rows: Bools) -> tuple[float | None, int, int]:
        [p90] = kaplan_meier_quantiles(days[rows], done[rows].astype(np.int64), ones[rows], (LEVEL,))
        finished = int(done[rows].sum())
        return p90, finished, int(rows.sum()) - finished

    return _table(book, stage, book.segment[deal], km, min_sample)


def _won_by(book: DealBook, events: Ints, as_of: int, lookback: int) -> Bools:
    """Whether the first closing event at or after each event is a win known at ``as_of`` (within the lookback)."""
    nc = book.ev_next_close[events]
    at = np.maximum(nc, 0)
    when = book.ev_time[at]
    return (nc >= 0) & book.stage_won[book.ev_stage[at]] & (when < as_of + 1) & (when >= as_of + 1 - lookback)


def push_limits(book: DealBook, as_of: int, min_sample: int, lookback: int = LOOKBACK_DAYS) -> Thresholds:
    """P90 of the close-date pushes won deals had when they left each open stage, per segment."""
    deal, stage, _, left, last = _runs(book, as_of)
    keep = ~book.stage_closed[stage] & (left >= 0) & _won_by(book, last, as_of, lookback)
    pushes = book.ev_pushes[last[keep]]
    stage, segment = stage[keep], book.segment[deal[keep]]

    def p90(rows: Bools) -> tuple[float | None, int, int]:
        n = int(rows.sum())
        return (float(np.quantile(pushes[rows], LEVEL, method="inverted_cdf")) if n else None), n, 0

    return _table(book, stage, segment, p90, min_sample)


def _touch_days(book: DealBook, deals: Ints, as_of: int) -> tuple[Ints, Ints]:
    """(position in ``deals``, day) of every touch known at ``as_of``: logged activities, history's activity dates."""
    a_deal = book.act_key >> np.int64(32)
    ev_known = book.ev_time < as_of + 1
    has = ev_known & (book.ev_activity > -1_000_000)
    who = np.r_[a_deal, book.ev_deal[has]]
    day = np.r_[book.act_day, book.ev_activity[has]]
    keep = day <= as_of
    who, day = who[keep], day[keep]
    pos = np.asarray(np.searchsorted(deals, who), dtype=np.int64)
    ok = np.asarray(pos < len(deals))
    ok[ok] = deals[pos[ok]] == who[ok]
    return pos[ok], day[ok]


def quiet_limits(book: DealBook, as_of: int, min_sample: int, lookback: int = LOOKBACK_DAYS) -> Thresholds:
    """Per segment: the P90 of the longest silence (days without a touch) in the open life of each won deal.

    A deal's open life runs from its creation (a touch) to the day it was won; its silences are the gaps
    between consecutive touches in that span, the last one ending on the day it was won. Only deals won
    within the lookback count, and only if a touch was ever logged on one of them (a CRM whose activities
    are not exported says nothing about silence).
    """
    first = np.flatnonzero(np.r_[True, book.ev_deal[1:] != book.ev_deal[:-1]][: len(book.ev_deal)])
    won = first[_won_by(book, first, as_of, lookback)]
    deals = book.ev_deal[won]  # sorted: events are sorted by deal
    won_day = np.floor(book.ev_time[book.ev_next_close[won]]).astype(np.int64)
    created = book.created[deals]
    born = np.floor(np.minimum(np.where(np.isnan(created), np.inf, created), book.first_seen[deals])).astype(np.int64)
    who, day = _touch_days(book, deals, as_of)
    inside = (day >= born[who]) & (day <= won_day[who])
    who, day = who[inside], day[inside]
    touched = np.zeros(len(deals), dtype=bool)
    touched[who] = True
    point_deal = np.r_[np.arange(len(deals)), who, np.arange(len(deals))]
    point_day = np.r_[born, day, won_day]
    order = np.lexsort((point_day, point_deal))
    point_deal, point_day = point_deal[order], point_day[order]
    longest = np.zeros(len(deals), dtype=np.int64)
    if len(point_deal) > 1:
        same = point_deal[1:] == point_deal[:-1]
        np.maximum.at(longest, point_deal[1:][same], (point_day[1:] - point_day[:-1])[same])
    segment = book.segment[deals]
    logged = bool(touched.any())

    def p90(rows: Bools) -> tuple[float | None, int, int]:
        n = int(rows.sum())
        ok = n > 0 and logged
        return (float(np.quantile(longest[rows], LEVEL, method="inverted_cdf")) if ok else None), n, 0

    table = _table(book, np.zeros(len(deals), dtype=np.int64), segment, p90, min_sample)
    rows = len(book.stage_names)
    return Thresholds(*(np.repeat(getattr(table, f)[:1], rows, axis=0) for f in Thresholds.__dataclass_fields__))


def learn_limits(book: DealBook, as_of: int, min_sample: int, lookback: int = LOOKBACK_DAYS) -> Limits:
    """The three thresholds from the history in ``book`` known at the end of ``as_of``."""
    stay = stay_limits(book, as_of, min_sample, lookback)
    pushes = push_limits(book, as_of, min_sample, lookback)
    quiet = quiet_limits(book, as_of, min_sample, lookback)
    stays = int(stay.own.sum())
    wins = int(quiet.own[0].sum()) if len(quiet.own) else 0
    return Limits(stay, pushes, quiet, stays, wins)


@dataclass(frozen=True)
class Flags:
    """The open deals at ``as_of`` with the value, threshold and verdict of every signal (arrays, one row a deal)."""

    as_of: int
    open: States
    value: dict[str, Ints]  # days in stage, pushes, days since the last touch
    limit: dict[str, Floats]  # the threshold each was compared with (NaN: none learned)
    learned: dict[str, Floats]  # the P90 learned (slipping: before the floor of PUSH_FLOOR pushes)
    sample: dict[str, Ints]
    own: dict[str, Ints]
    pooled: dict[str, Bools]
    censored: Ints
    hit: dict[str, Bools]

    @property
    def stalled(self) -> Bools:
        """Quiet; or, where quiet cannot be judged, both stuck and slipping."""
        judged = ~np.isnan(self.limit["quiet"])
        return self.hit["quiet"] | (~judged & self.hit["stuck"] & self.hit["slipping"])


def flag_open_deals(
    book: DealBook, as_of: int, min_sample: int, limits: Limits | None = None, floors: StallThresholds | None = None
) -> Flags:
    """Every deal open at the end of ``as_of``, checked against the thresholds learned from history known then
    (never below the ``floors`` of the settings: pushes, days quiet)."""
    floors = floors or StallThresholds()
    lim = limits or learn_limits(book, as_of, min_sample, floors.lookback_days)
    now = book.states_at(as_of)
    now = now.take(~now.is_closed)
    seg = book.segment[now.deal]
    quiet_days = np.minimum(now.days_since_activity, now.age_days)
    values = {"stuck": now.days_in_stage, "slipping": now.pushes, "quiet": quiet_days}
    tables = {"stuck": lim.stay, "slipping": lim.pushes, "quiet": lim.quiet}
    limit, learned, sample, own, pooled, hit = {}, {}, {}, {}, {}, {}
    censored = np.zeros(len(now), dtype=np.int64)
    for kind in KINDS:
        raw, n, o, p, c = tables[kind].at(now.stage, seg)
        floor = {"slipping": floors.push_floor, "quiet": floors.quiet_days}.get(kind, 0)
        v = np.where(np.isnan(raw), raw, np.maximum(raw, floor - 1)) if floor else raw
        if kind == "stuck":
            censored = c
        limit[kind], learned[kind], sample[kind], own[kind], pooled[kind] = v, raw, n, o, p
        hit[kind] = ~np.isnan(v) & (values[kind] > np.nan_to_num(v, nan=np.inf))
    return Flags(as_of, now, values, limit, learned, sample, own, pooled, censored, hit)


def _scope(pooled: bool, own: int, segment: str, what: str) -> str:
    return f"all segments: {segment} has only {own} {what}, thin" if pooled else segment


def signals_of(f: Flags, i: int, book: DealBook) -> tuple[list[StallSignal], list[str]]:
    stage = book.stage_names[int(f.open.stage[i])]
    segment = book.segment_names[int(book.segment[f.open.deal[i]])]
    signals: list[StallSignal] = []
    reasons: list[str] = []
    for kind in KINDS:
        if not f.hit[kind][i]:
            continue
        value, limit, n = int(f.value[kind][i]), float(f.limit[kind][i]), int(f.sample[kind][i])
        pooled, own = bool(f.pooled[kind][i]), int(f.own[kind][i])
        if kind == "stuck":
            scope = _scope(pooled, own, segment, "finished stays")
            text = (
                f"{value} days in {stage}; 90% of stays there end within {limit:.0f} days "
                f"(Kaplan–Meier P90 of {n} finished and {int(f.censored[i])} running stays, {scope})"
            )
        elif kind == "slipping":
            scope = _scope(pooled, own, segment, "won deals")
            text = (
                f"close date pushed {value} times; 90% of deals won from {stage} had at most "
                f"{float(f.learned[kind][i]):.0f} when they left it (P90 of {n} won deals, {scope})"
            )
        else:
            scope = _scope(pooled, own, segment, "won deals")
            silent = int(f.open.days_since_activity[i])
            since = silent >= _NEVER or silent > value  # the creation is the last touch
            what = f"no activity logged since it was created {value} days ago" if since else ""
            what = what or f"no activity for {value} days"
            text = (
                f"{what}; 90% of won deals never went more than {limit:.0f} days without one "
                f"(P90 of the longest silence of {n} won deals, {scope})"
            )
        reasons.append(text)
        signals.append(
            StallSignal(kind=kind, value=value, threshold=limit, sample_size=n, scope=scope.split(":")[0], thin=pooled)
        )
    return signals, reasons


def _evidence(f: Flags, lim: Limits, min_sample: int, floors: StallThresholds) -> Evidence:
    n = len(f.open)
    stalled = f.stalled
    flagged = int(stalled.sum())
    parts = ", ".join(f"{int((f.hit[k] & stalled).sum())} {k}" for k in KINDS)
    missing = [k for k in KINDS if n and bool(np.isnan(f.limit[k]).all())]
    share = f" ({flagged / n:.0%})" if n else ""
    note = (
        f"{n} open deals checked, {flagged} stalled{share} ({parts}); thresholds from {lim.stays} finished "
        f"stage stays and {lim.wins} won deals"
    )
    if missing:
        note += f"; not assessed (too few to learn from): {', '.join(missing)}"
    return Evidence(
        method=(
            "stalled: quiet beyond the P90 longest silence of won deals by segment (where that cannot be "
            "judged: stuck and slipping); stuck: beyond the Kaplan–Meier P90 days in stage by stage and "
            f"segment (running stays censored); slipping: at least {floors.push_floor} pushes and beyond the P90 of "
            f"won deals leaving the stage; learned from the {floors.lookback_days} days before the as-of date"
            + (f"; never quiet under {floors.quiet_days} days" if floors.quiet_days else "")
        ),
        sample_size=lim.stays,
        thin=lim.stays < min_sample or lim.wins < min_sample,
        note=note,
    )


def _extras(store: Store, ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """(name, extra JSON) of the opportunities ``ids``, in one query."""
    opps = store.table("opportunities").select("opportunity_id", "name", "extra").to_pyarrow()
    wanted = pa.array(sorted(set(ids)), pa.string())
    found = opps.filter(pc.is_in(opps.column("opportunity_id"), value_set=wanted)).to_pylist()
    return {r["opportunity_id"]: (r["name"], r["extra"]) for r in found}


def _past_due(f: Flags) -> Ints:
    """Days since the close date of every open deal (0 or less: not past due; no close date: 0)."""
    close = f.open.close_day
    return np.where(close > -900_000, f.as_of - close, 0).astype(np.int64)


def find_stalls(
    store: Store,
    as_of: date,
    min_sample: int,
    people: Directory | None = None,
    floors: StallThresholds | None = None,
) -> StallsResult:
    """Every stalled open deal (quiet; stuck and slipping listed with it) and every open deal past its close
    date — with the evidence for each reason and every other risk on it (:mod:`saleslead.forecast.risk`).
    ``floors``: the stall settings (floors under the learned thresholds, the history they are learned from)."""
    floors = floors or StallThresholds()
    book = load_book(store, as_of)
    d = day_number(as_of)
    lim = learn_limits(book, d, min_sample, floors.lookback_days)
    f = flag_open_deals(book, d, min_sample, lim, floors)
    stalled = f.stalled
    late = _past_due(f)
    rows = np.flatnonzero(stalled | (late > 0))
    extras = _extras(store, [book.ids[int(f.open.deal[i])] for i in rows])
    items: list[StallItem] = []
    for i in rows.tolist():
        deal = int(f.open.deal[i])
        signals, reasons = signals_of(f, i, book)
        silent = int(f.open.days_since_activity[i])
        quiet, stay, push = (float(f.limit[k][i]) for k in KINDS)
        name, extra = extras.get(book.ids[deal], (None, None))
        risks = _risks(book, f, i, as_of, extra, list(zip(signals, reasons, strict=True)))
        if late[i] > 0:
            reasons.append(next(r.text for r in risks if r.kind == "past-due"))
        owner = book.owners[int(f.open.owner[i])]
        close = int(f.open.close_day[i])
        items.append(
            StallItem(
                opportunity_id=book.ids[deal],
                name=name,
                owner_id=owner,
                owner_name=people.name(owner) if people else None,
                segment=book.segment_names[int(book.segment[deal])],
                stage=book.stage_names[int(f.open.stage[i])],
                amount=float(f.open.amount[i]),
                days_in_stage=int(f.value["stuck"][i]),
                stage_p90_days=None if np.isnan(stay) else stay,
                pushes=int(f.value["slipping"][i]),
                days_since_activity=silent if silent < _NEVER else None,
                quiet_span_days=None if np.isnan(quiet) else quiet,
                reasons=reasons,
                push_limit=None if np.isnan(push) else push,
                quiet_days=int(f.value["quiet"][i]),
                signals=signals,
                close_date=from_day_number(close) if close > -900_000 else None,
                past_due_days=int(late[i]) if late[i] > 0 else None,
                risks=risks,
            )
        )
    items.sort(key=lambda it: (-len(it.reasons), -it.amount))
    by_reason = {k: int((f.hit[k] & stalled).sum()) for k in KINDS}
    by_reason["past-due"] = int((late > 0).sum())
    return StallsResult(
        as_of=as_of,
        items=items,
        evidence=_evidence(f, lim, min_sample, floors),
        open_deals=len(f.open),
        flagged_by_reason=by_reason,
    )


def _risks(
    book: DealBook, f: Flags, i: int, as_of: date, extra: str | None, learned: list[tuple[StallSignal, str]]
) -> list[RiskSignal]:
    """Every risk of open deal ``i``: past due, quiet, stuck, pushes, cuts, regressions, next step, contacts."""
    deal = int(f.open.deal[i])
    out = history_signals(book, timeline(book, deal, f.as_of), as_of, bool(f.hit["slipping"][i]))
    for s, text in learned:
        if s.kind in ("quiet", "stuck"):
            out.append(RiskSignal(kind=s.kind, text=text, value=s.value, threshold=s.threshold))
    step, has_step, contacts = extras_of(extra)
    out.extend(export_signals(step, has_step, contacts)[0])
    order = (
        "past-due",
        "quiet",
        "stuck",
        "pushed",
        "amount-cut",
        "stage-regression",
        "no-next-step",
        "single-threaded",
    )
    return sorted(out, key=lambda r: order.index(r.kind))


def select_stalls(
    result: StallsResult,
    owners: set[str] | None = None,
    segment: str | None = None,
    sort: str = "risk",
    limit: int | None = None,
) -> StallsResult:
    """The stalls of some owners and a segment, in the order asked, the first ``limit`` of them."""
    items = [
        i
        for i in result.items
        if (owners is None or i.owner_id in owners) and (segment is None or i.segment == segment)
    ]
    keys: dict[str, Callable[[StallItem], tuple[float | str, ...]]] = {
        "risk": lambda i: (-len(i.reasons), -i.amount),
        "amount": lambda i: (-i.amount,),
        "days_in_stage": lambda i: (-i.days_in_stage, -i.amount),
        "pushes": lambda i: (-i.pushes, -i.amount),
        "quiet": lambda i: (-(i.quiet_days or 0), -i.amount),
        "close_date": lambda i: (i.close_date.isoformat() if i.close_date else "9999", -i.amount),
        "owner": lambda i: (i.owner_name or i.owner_id, -i.amount),
    }
    items.sort(key=keys[sort])
    matched = len(items)
    filtered = owners is not None or segment is not None or limit is not None
    return result.model_copy(
        update={"items": items[:limit] if limit else items, "matched": matched if filtered else None}
    )
