"""The deal book as arrays: every opportunity's history in NumPy, and its state at any date, vectorised.

:func:`load_book` pulls the history known at the end of ``until`` (plus the static attributes, the
stages, the owners' start dates and the logged activities) once; :meth:`DealBook.states_at` then
rebuilds every opportunity as it stood at the end of any earlier day without going back to the
engine — the same fields :func:`saleslead.funnel.state.state_as_of` gives, for many dates at once.
That is what makes weekly training snapshots and a walk-forward backtest cheap.

Times are days since 1970-01-01 (float for instants, int for dates). An event at instant ``t`` is
known at the end of day ``d`` when ``t < d + 1``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.funnel.state import history_until
from saleslead.store import Store

__all__ = ["DealBook", "States", "day_number", "from_day_number", "load_book", "quarter_end_days"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

_EPOCH = date(1970, 1, 1)
_NO_DATE = -1_000_000
_SHIFT = np.int64(1) << np.int64(32)


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def from_day_number(day: int) -> date:
    return date.fromordinal(_EPOCH.toordinal() + int(day))


def quarter_end_days(days: Ints, fiscal_start_month: int) -> Ints:
    """For each day number, the day number of the (exclusive) end of its fiscal quarter."""
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    offset = (months - (fiscal_start_month - 1)) % 3
    end_month = months - offset + 3
    return np.asarray(end_month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64))


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[Ints, list[str]]:
    """Codes into the sorted distinct values: the same values give the same codes on any store."""
    values = pc.fill_null(column.cast(pa.string()), "")
    names = sorted(str(v) for v in pc.unique(values).to_pylist())
    found = pc.index_in(values, value_set=pa.array(names, pa.string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64), names


def _days(column: pa.ChunkedArray, instant: bool) -> Floats:
    if instant:
        values = pc.cast(column, pa.timestamp("s")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        out = np.asarray(values, dtype=np.float64) / 86_400.0
    else:
        values = column.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
        out = np.asarray(values, dtype=np.float64)
    return out


@dataclass(frozen=True)
class States:
    """Opportunities as they stood at the end of given days (one row per opportunity and day)."""

    deal: Ints  # index into DealBook.ids
    day: Ints  # the as-of day number
    event: Ints  # index of the last history event known then
    stage: Ints  # index into DealBook.stage_names
    stage_order: Ints
    is_closed: Bools
    is_won: Bools
    amount: Floats
    close_day: Ints
    forecast_category: Ints  # index into DealBook.categories
    owner: Ints  # index into DealBook.owners
    days_in_stage: Ints
    age_days: Ints
    pushes: Ints
    days_since_activity: Ints  # _NO_DATE-based when never touched: large
    #: days since the last *logged* activity (dated rows, known at every past day as they are now): the
    #: model's feature. ``days_since_activity`` also reads the snapshot's LastActivityDate, which a past
    #: origin never saw the same way (train/serve consistency)
    days_since_logged: Ints
    next_close: Floats  # instant of the next closing event after the state (inf when none is recorded)
    next_close_won: Bools

    def take(self, rows: Ints | Bools) -> States:
        return States(**{k: getattr(self, k)[rows] for k in self.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.deal)


@dataclass(frozen=True)
class DealBook:
    """Every opportunity's history known at the end of ``until``, as arrays sorted by deal and time."""

    until: int
    ids: list[str]
    segment: Ints
    segment_names: list[str]
    channel: Ints
    channel_names: list[str]
    created: Floats
    first_seen: Floats
    tag: npt.NDArray[np.uint32]  # stable hash of the id: deterministic sampling on any store
    stage_names: list[str]
    stage_order_of: Ints
    stage_closed: Bools
    stage_won: Bools
    stage_probability: Floats
    categories: list[str]
    owners: list[str]
    owner_start: Floats  # day number the owner started (nan: unknown)
    # events
    ev_deal: Ints
    ev_time: Floats
    ev_stage: Ints
    ev_amount: Floats
    ev_close: Ints
    ev_category: Ints
    ev_owner: Ints
    ev_entered: Floats  # when the stage of this event was entered
    ev_pushes: Ints  # close-date pushes up to and including this event
    ev_activity: Ints  # latest activity date noted in history up to this event
    ev_next_close: Ints  # index of the first closing event at or after this one (same deal), else -1
    ev_key: Ints
    act_key: Ints  # activities: deal << 32 | day, sorted
    act_day: Ints
    settled: Floats  # instant of the deal's last event when that event closed it for good (inf: it did not)

    @property
    def size(self) -> int:
        return len(self.ids)

    def states_at(self, day: int, deals: Ints | None = None) -> States:
        """Every opportunity (or those in ``deals``) that existed at the end of ``day``, as it stood then."""
        pool = np.arange(self.size, dtype=np.int64) if deals is None else deals
        probe = (pool << np.int64(32)) + np.int64(self._second(day + 1))
        last = np.searchsorted(self.ev_key, probe, side="left") - 1
        ok = (last >= 0) & (len(self.ev_key) > 0)
        ok[ok] = self.ev_deal[last[ok]] == pool[ok]
        pool, last = pool[ok], last[ok]
        stage = self.ev_stage[last]
        entered = self.ev_entered[last]
        created = np.minimum(np.where(np.isnan(self.created[pool]), np.inf, self.created[pool]), self.first_seen[pool])
        act_probe = (pool << np.int64(32)) + np.int64(day - _NO_DATE + 1)
        a = np.searchsorted(self.act_key, act_probe, side="left") - 1
        a_ok = a >= 0
        a_ok[a_ok] = (self.act_key[a[a_ok]] >> np.int64(32)) == pool[a_ok]
        logged = (
            np.where(a_ok, self.act_day[np.maximum(a, 0)], _NO_DATE)
            if len(self.act_day)
            else np.full(len(pool), _NO_DATE, dtype=np.int64)
        )
        activity = np.maximum(logged, self.ev_activity[last])
        since_logged = np.where(logged > _NO_DATE, day - logged, 10_000)
        nxt = self.ev_next_close[last]
        has_next = nxt >= 0
        return States(
            deal=pool,
            day=np.full(len(pool), day, dtype=np.int64),
            event=last,
            stage=stage,
            stage_order=self.stage_order_of[stage],
            is_closed=self.stage_closed[stage],
            is_won=self.stage_won[stage],
            amount=self.ev_amount[last],
            close_day=self.ev_close[last],
            forecast_category=self.ev_category[last],
            owner=self.ev_owner[last],
            days_in_stage=day - np.floor(entered).astype(np.int64),
            age_days=day - np.floor(created).astype(np.int64),
            pushes=self.ev_pushes[last],
            days_since_activity=np.where(activity > _NO_DATE, day - activity, 10_000),
            days_since_logged=since_logged,
            next_close=np.where(has_next, self.ev_time[np.maximum(nxt, 0)], np.inf),
            next_close_won=has_next & self.stage_won[self.ev_stage[np.maximum(nxt, 0)]],
        )

    def open_at(self, day: int, deals: Ints | None = None) -> States:
        """The opportunities (of ``deals``) open at the end of ``day``: :meth:`states_at` rows that are open.

        Only deals seen by then and not closed for good before it are replayed — on a long history most
        deals are settled, so this is much cheaper than replaying every deal and dropping the closed.
        """
        st = self.states_at(day, self.alive_at(day, deals))
        return st.take(~st.is_closed)

    def alive_at(self, day: int, deals: Ints | None = None) -> Ints:
        """The deals (of ``deals``, in order) seen by the end of ``day`` and not closed for good before it."""
        edge = day + 1
        if deals is None:
            return np.flatnonzero((self.first_seen < edge) & (self.settled >= edge)).astype(np.int64)
        return deals[(self.first_seen[deals] < edge) & (self.settled[deals] >= edge)]

    @staticmethod
    def _second(day: int) -> int:
        return int(day) * 86_400 + 2**31 // 2

    def owner_tenure(self, owner: Ints, day: int) -> Floats:
        start = self.owner_start[owner]
        return np.where(np.isnan(start), np.nan, day - start)


@dataclass(frozen=True)
class _Stages:
    """The stages table as arrays, in its row order."""

    names: list[str]
    order: Ints
    closed: Bools
    won: Bools
    probability: Floats

    @classmethod
    def of(cls, stages: pa.Table) -> _Stages:
        return cls(
            names=[str(s) for s in stages.column("name").to_pylist()],
            order=np.asarray(stages.column("stage_order").to_pylist(), dtype=np.int64),
            closed=np.asarray([bool(v) for v in stages.column("is_closed").to_pylist()]),
            won=np.asarray([bool(v) for v in stages.column("is_won").to_pylist()]),
            probability=np.asarray(
                [np.nan if v is None else float(v) for v in stages.column("probability").to_pylist()]
            ),
        )

    def code(self, column: pa.ChunkedArray) -> tuple[Ints, _Stages]:
        """Each value's index into the stages; a stage the table does not know becomes one more open stage,
        ordered after the known ones (returned with the stages it indexes)."""
        found = pc.fill_null(pc.index_in(column, value_set=pa.array(self.names)), -1)
        codes = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
        if not (codes < 0).any():
            return codes, self
        known = _Stages(
            names=[*self.names, "(unknown)"],
            order=np.append(self.order, 999),
            closed=np.append(self.closed, False),
            won=np.append(self.won, False),
            probability=np.append(self.probability, np.nan),
        )
        return np.where(codes < 0, len(known.names) - 1, codes), known


class _Deals:
    """The deals of a history, sorted by id so the same ids get the same positions on any store."""

    def __init__(self, opportunity_ids: pa.ChunkedArray) -> None:
        distinct = pc.unique(opportunity_ids)
        self.index = distinct.take(pc.sort_indices(distinct)).cast(pa.string())  # UTF-8 byte order = code points
        self.ids = [str(i) for i in self.index.to_pylist()]

    def __len__(self) -> int:
        return len(self.ids)

    def pos(self, column: pa.ChunkedArray) -> Ints:
        """Each id's position (-1: not a deal of the history)."""
        found = pc.index_in(column, value_set=self.index)
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def tags(self) -> npt.NDArray[np.uint32]:
        """A stable hash (CRC-32 of the UTF-8 id) per deal."""
        return np.fromiter(map(zlib.crc32, self.index.cast(pa.binary()).to_pylist()), dtype=np.uint32, count=len(self))


@dataclass(frozen=True)
class _Attributes:
    """The static attributes of each deal (by position), from its opportunity row."""

    segment: Ints
    segment_names: list[str]
    channel: Ints
    channel_names: list[str]
    created: Floats
    owner: pa.ChunkedArray  # the row's owner id ("" when none or no row): fills history rows without one

    @classmethod
    def of(cls, opps: pa.Table, deals: _Deals) -> _Attributes:
        n = len(deals)
        o_pos = deals.pos(opps.column("opportunity_id"))
        seg_codes, seg_names = _codes(pc.fill_null(opps.column("segment"), "Unassigned"))
        ch_codes, ch_names = _codes(pc.fill_null(opps.column("channel"), "Unknown"))
        segment = np.zeros(n, dtype=np.int64)
        channel = np.zeros(n, dtype=np.int64)
        created = np.full(n, np.nan)
        segment[o_pos] = seg_codes
        channel[o_pos] = ch_codes
        created[o_pos] = _days(opps.column("created_at"), instant=True)
        row_of = np.full(n, -1, dtype=np.int64)
        row_of[o_pos[o_pos >= 0]] = np.flatnonzero(o_pos >= 0)
        rows = pa.array(row_of, mask=row_of < 0)
        owner = pc.fill_null(opps.column("owner_id").cast(pa.string()).take(rows), "")
        return cls(segment, seg_names, channel, ch_names, created, owner)


@dataclass(frozen=True)
class _Events:
    """The history's rows as NumPy columns, with the codes' names and the stages they index."""

    deal: Ints
    time: Floats
    stage: Ints
    amount: Floats
    close: Ints
    category: Ints
    owner: Ints
    activity: Ints  # the row's last activity date (_NO_DATE: none)
    seq: Ints  # the order of a deal's events at the same instant
    stages: _Stages
    categories: list[str]
    owners: list[str]

    @classmethod
    def of(cls, events: pa.Table, deals: _Deals, stages: _Stages, default_owner: pa.ChunkedArray) -> _Events:
        deal = deals.pos(events.column("opportunity_id"))
        time = _days(events.column("changed_at"), instant=True)
        seq = np.asarray(events.column("seq").to_numpy(zero_copy_only=False), dtype=np.int64)
        stage, stages = stages.code(events.column("stage"))
        amount = np.nan_to_num(
            np.asarray(pc.fill_null(events.column("amount"), 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        )
        close = pc.fill_null(events.column("close_date").cast(pa.int32()), _NO_DATE)
        category, categories = _codes(events.column("forecast_category"))
        owner_col = pc.fill_null(events.column("owner_id").cast(pa.string()), "")
        owner, owners = _codes(pc.if_else(pc.equal(owner_col, ""), default_owner.take(pa.array(deal)), owner_col))
        activity = pc.fill_null(events.column("last_activity_date").cast(pa.int32()), _NO_DATE)
        return cls(
            deal=deal,
            time=time,
            stage=stage,
            amount=amount,
            close=np.asarray(close.to_numpy(zero_copy_only=False), dtype=np.int64),
            category=category,
            owner=owner,
            activity=np.asarray(activity.to_numpy(zero_copy_only=False), dtype=np.int64),
            seq=seq,
            stages=stages,
            categories=categories,
            owners=owners,
        )

    def in_order(self) -> _Events:
        """The rows put in (deal, time, seq) order."""
        order = np.lexsort((self.seq, self.time, self.deal))
        columns = ("deal", "time", "seq", "stage", "amount", "close", "category", "owner", "activity")
        return replace(self, **{k: getattr(self, k)[order] for k in columns})


def _firsts(deal: Ints) -> Bools:
    """Whether each event (sorted by deal) is its deal's first."""
    first = np.ones(len(deal), dtype=bool)
    first[1:] = deal[1:] != deal[:-1]
    return first


def _stage_entered(deal: Ints, stage: Ints, time: Floats) -> Floats:
    """When the stage of each event was entered: the time of the deal's latest event that changed stage."""
    change = _firsts(deal)
    change[1:] |= stage[1:] != stage[:-1]
    return time[np.maximum.accumulate(np.where(change, np.arange(len(deal), dtype=np.int64), 0))]


def _pushes(deal: Ints, close: Ints) -> Ints:
    """Close-date pushes (a later close date than the deal's previous event's) up to and including each event."""
    first = _firsts(deal)
    pushed = np.zeros(len(deal), dtype=np.int64)
    prev_close = np.roll(close, 1)
    pushed[~first] = ((close > prev_close) & (prev_close > _NO_DATE) & (close > _NO_DATE))[~first]
    cum = np.cumsum(pushed)
    start_of = np.maximum.accumulate(np.where(first, np.arange(len(deal), dtype=np.int64), 0))
    return cum - cum[start_of] + pushed[start_of]


def _latest_activity(deal: Ints, activity: Ints) -> Ints:
    """The latest activity date noted in the deal's history up to each event (a running max within each deal)."""
    span = np.int64(4_000_000)
    running: Ints = np.maximum.accumulate(deal * span + (activity - _NO_DATE))
    return running - deal * span + _NO_DATE


def _next_close(deal: Ints, closing: Bools) -> Ints:
    """Index of the first closing event at or after each event of the same deal, else -1."""
    m = len(deal)
    nxt = np.minimum.accumulate(np.where(closing, np.arange(m, dtype=np.int64), m)[::-1])[::-1]
    return np.where((nxt < m) & (deal[np.minimum(nxt, m - 1)] == deal), nxt, -1)


def _first_seen(deal: Ints, time: Floats, n: int) -> Floats:
    first_seen = np.full(n, np.inf)
    np.minimum.at(first_seen, deal, time)
    return first_seen


def _settled(deal: Ints, time: Floats, closing: Bools, n: int) -> Floats:
    """Per deal, the instant of its last event when that event closed it (inf: it did not)."""
    settled = np.full(n, np.inf)
    last_of = np.flatnonzero(np.r_[deal[1:] != deal[:-1], True]) if len(deal) else np.zeros(0, dtype=np.int64)
    ends_closed = last_of[closing[last_of]]
    settled[deal[ends_closed]] = time[ends_closed]
    return settled


def _activity_keys(acts: pa.Table, deals: _Deals) -> tuple[Ints, Ints]:
    """The logged activities of the history's deals: keys ``deal << 32 | day`` and their days, sorted by key."""
    a_pos = deals.pos(acts.column("opportunity_id"))
    a_day = np.asarray(acts.column("activity_date").cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = a_pos >= 0
    a_key = (a_pos[keep] << np.int64(32)) + (a_day[keep] - _NO_DATE)
    a_order = np.argsort(a_key, kind="stable")
    return a_key[a_order], a_day[keep][a_order]


def _owner_starts(users: pa.Table, owners: list[str]) -> Floats:
    """The day number each owner started (nan: unknown)."""
    u_start = dict(zip(users.column("user_id").to_pylist(), users.column("start_date").to_pylist(), strict=True))
    return np.asarray(
        [day_number(s) if (s := u_start.get(o)) is not None else np.nan for o in owners], dtype=np.float64
    )


def load_book(store: Store, until: date) -> DealBook:
    """Read the history known at the end of ``until`` and everything needed to replay it."""
    h = history_until(store, until)
    stages = _Stages.of(store.table("stages").to_pyarrow())
    events = h.select(
        "opportunity_id", "changed_at", "seq", "stage", "amount", "close_date", "forecast_category",
        "owner_id", "last_activity_date",
    ).to_pyarrow()  # fmt: skip
    opps_t = store.table("opportunities")
    known = h.select("opportunity_id").distinct()
    opps = opps_t.semi_join(known, "opportunity_id").select(
        "opportunity_id", "owner_id", "segment", "channel", "created_at"
    ).to_pyarrow()  # fmt: skip
    users = store.table("users").select("user_id", "start_date").to_pyarrow()
    acts_t = store.table("activities")
    acts = acts_t.filter(acts_t.activity_date <= ibis.literal(until)).to_pyarrow()

    deals = _Deals(events.column("opportunity_id"))
    n = len(deals)
    attributes = _Attributes.of(opps, deals)
    unsorted = _Events.of(events, deals, stages, attributes.owner)
    del events  # the Arrow history is not kept while the columns are sorted
    ev = unsorted.in_order()
    del unsorted
    stages = ev.stages
    closing = stages.closed[ev.stage]
    act_key, act_day = _activity_keys(acts, deals)
    return DealBook(
        until=day_number(until),
        ids=deals.ids,
        segment=attributes.segment,
        segment_names=attributes.segment_names,
        channel=attributes.channel,
        channel_names=attributes.channel_names,
        created=attributes.created,
        first_seen=_first_seen(ev.deal, ev.time, n),
        tag=deals.tags(),
        stage_names=stages.names,
        stage_order_of=stages.order,
        stage_closed=stages.closed,
        stage_won=stages.won,
        stage_probability=stages.probability,
        categories=ev.categories,
        owners=ev.owners,
        owner_start=_owner_starts(users, ev.owners),
        ev_deal=ev.deal,
        ev_time=ev.time,
        ev_stage=ev.stage,
        ev_amount=ev.amount,
        ev_close=ev.close,
        ev_category=ev.category,
        ev_owner=ev.owner,
        ev_entered=_stage_entered(ev.deal, ev.stage, ev.time),
        ev_pushes=_pushes(ev.deal, ev.close),
        ev_activity=_latest_activity(ev.deal, ev.activity),
        ev_next_close=_next_close(ev.deal, closing),
        ev_key=(ev.deal << np.int64(32)) + np.int64(2**31 // 2) + np.floor(ev.time * 86_400.0).astype(np.int64),
        act_key=act_key,
        act_day=act_day,
        settled=_settled(ev.deal, ev.time, closing, n),
    )
