"""Coverage two ways: reported (pipeline ÷ what is left to book) and real (what the outlook expects it to yield).

**From the outlook** (the forecast's one result for the period and as-of date; the default whenever a forecast
can be made), per segment and in total, with ``c = expected_in_period / open_in_period`` (what the open deals
dated in the period are expected to book, per dollar) and ``other = expected from open deals dated outside the
period (pull-ins) + expected from pipeline not yet created``:

* ``expected_from_pipeline = expected_in_period``, ``expected_from_pull_ins``, ``expected_from_new`` and
  ``expected_bookings`` (the outlook's mean) — the same numbers ``forecast`` shows for the segment;
* ``real_coverage = (expected_bookings − closed_won) / remaining``, its low/high from the outlook's P10/P90;
* ``required_pipeline = max(remaining − other, 0) / c``, ``required_coverage = required_pipeline / remaining``
  (low/high: ``c`` scaled by where P90/P10 put the rest of the period) — below 1 real coverage exactly when
  reported is below required.

The same-point conversion below stays as a labelled cross-check (``same_point``) with its evidence; with no
outlook (too little history to forecast), the line is computed from it, as follows.

**Same point** — for a period P, as of day d, per segment and in total:

* ``remaining = max(target − closed_won, 0)``; ``reported_coverage = open_pipeline / remaining``.
* From the last N finished periods, at the same day offset (see :mod:`saleslead.funnel.runrates`):
  ``conversion c = Σ won_from_open / Σ open_value`` (value-weighted, Wilson interval at the Kish
  effective number of deals) and ``outside share s = Σ (bookings_after − from_open) / Σ bookings_after``
  — the part of the rest-of-period bookings that did not come from the pipeline dated in the period
  (created after the snapshot, pulled in, reopened).
* ``expected_from_pipeline = c × open_pipeline``; ``expected_from_new = expected_from_pipeline × s/(1 − s)``.
* ``required_coverage = (1 − s) / c`` — the pipeline multiple of ``remaining`` that, converting as measured,
  books the remaining target; ``required_pipeline = required_coverage × remaining``.
* ``real_coverage = (expected_from_pipeline + expected_from_new) / remaining`` (1.0 = covered; it is below
  1 exactly when ``reported_coverage < required_coverage``).
* ``gap = max(required_pipeline − open_pipeline, 0)`` and ``gap_deals = gap / typical_deal`` (median amount
  deals were created with in the last year); ``bookings_gap = max(remaining − expected remaining, 0)``.

The total is measured on all deals: its same-point sums are the sums over the segments.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from saleslead.forecast.schemas import ForecastResult, Outcome
from saleslead.funnel import deals, period_position, same_point_yield, value_rate
from saleslead.funnel.runrates import SamePoint
from saleslead.funnel.spans import attach, holding
from saleslead.funnel.state import end_of
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.targets.schemas import ALL, Coverage, CoverageEvidence, CoverageLine, PeriodSample, SamePointCheck

__all__ = [
    "ALL",
    "Coverage",
    "CoverageEvidence",
    "CoverageLine",
    "PeriodSample",
    "SamePointCheck",
    "compute_coverage",
    "quota_targets",
]


def quota_targets(store: Store, period: Period) -> dict[str, float]:
    """Σ ForecastingQuota starting inside the period, by the owner's segment (``users``)."""
    quotas = store.table("quotas")
    users = store.table("users").select("user_id", "segment")
    q = quotas.filter(
        (quotas.start_date >= ibis.literal(period.start)) & (quotas.start_date < ibis.literal(period.end))
    )
    q = q.left_join(users, q.owner_id == users.user_id)
    q = q.mutate(segment=q.segment.fill_null("Unassigned"))
    rows = q.group_by("segment").aggregate(amount=q.amount.sum()).to_pyarrow().to_pylist()
    return {str(r["segment"]): float(r["amount"] or 0.0) for r in rows if (r["amount"] or 0.0) > 0}


def _typical(store: Store, as_of: date, deal_table: ir.Table | None) -> dict[str, float]:
    """Median amount deals were created with in the last 365 days, per segment and for all deals (one query)."""
    since = as_of - timedelta(days=365)
    if deal_table is None:
        # Created after ``since`` implies first seen after it: prune before joining the deal attributes.
        now = holding(store, as_of)
        now = now.filter(now.first_seen >= ibis.literal(end_of(since)))
        now = now.select("opportunity_id", "first_seen", first_amount=now.first_amount.fill_null(0.0))
        d = attach(store, now, ["segment"], created=True)
    else:
        d = deal_table
    recent = d.filter(d.created_day > ibis.literal(since))
    by_segment = recent.group_by("segment").aggregate(typical=recent.first_amount.median())
    whole = recent.aggregate(segment=ibis.null("string"), typical=recent.first_amount.median())
    rows = by_segment.mutate(whole=False).union(whole.mutate(whole=True)).to_pyarrow().to_pylist()
    out = {str(r["segment"]): float(r["typical"]) for r in rows if not r["whole"] and r["typical"] is not None}
    for r in rows:
        if r["whole"] and r["typical"] is not None:
            out[ALL] = float(r["typical"])
    return out


def _line(
    segment: str,
    target: float,
    closed_won: float,
    won_deals: int,
    open_pipeline: float,
    open_deals: int,
    samples: list[SamePoint],
    typical: float | None,
    settings: Settings,
) -> CoverageLine:
    conf, min_n = settings.confidence, settings.min_sample
    open_v = sum(s.open_value for s in samples)
    won_v = sum(s.won_from_open_value for s in samples)
    conversion = value_rate(won_v, open_v, sum(s.open_value_sq for s in samples), conf, min_n)
    after = sum(s.bookings_after for s in samples)
    outside = sum(s.bookings_after - s.from_open for s in samples)
    outside_rate = value_rate(outside, after, sum(s.bookings_after_sq for s in samples), conf, min_n)
    remaining = max(target - closed_won, 0.0)
    c, share = conversion.value, outside_rate.value or 0.0
    share = min(share, 0.95)

    def required(rate: float | None) -> float | None:
        return (1.0 - share) / rate if rate else None

    req, req_low, req_high = required(c), required(conversion.high), required(conversion.low)
    exp_pipe = c * open_pipeline if c is not None else None
    exp_new = exp_pipe * share / (1.0 - share) if exp_pipe is not None else None
    exp_rest = exp_pipe + exp_new if exp_pipe is not None and exp_new is not None else None

    def real(rate: float | None) -> float | None:
        if rate is None or remaining <= 0:
            return None
        return rate * open_pipeline / (1.0 - share) / remaining

    req_pipe = req * remaining if req is not None else None
    gap = max(req_pipe - open_pipeline, 0.0) if req_pipe is not None else None
    samples_out = [
        PeriodSample(
            period=s.period,
            snapshot=s.snapshot,
            open_deals=s.open_deals,
            open_value=s.open_value,
            won_from_open_deals=s.won_from_open_deals,
            won_from_open_value=s.won_from_open_value,
            conversion=s.won_from_open_value / s.open_value if s.open_value > 0 else None,
            bookings_after=s.bookings_after,
            outside_pipeline=s.bookings_after - s.from_open,
        )
        for s in samples
    ]
    sample_size = sum(s.open_deals for s in samples)
    return CoverageLine(
        segment=segment,
        target=target,
        closed_won=closed_won,
        closed_won_deals=won_deals,
        remaining=remaining,
        open_pipeline=open_pipeline,
        open_deals=open_deals,
        reported_coverage=open_pipeline / remaining if remaining > 0 else None,
        required_coverage=req,
        required_coverage_low=req_low,
        required_coverage_high=req_high,
        required_pipeline=req_pipe,
        expected_from_pipeline=exp_pipe,
        expected_from_new=exp_new,
        expected_bookings=closed_won + exp_rest if exp_rest is not None else None,
        real_coverage=real(c),
        real_coverage_low=real(conversion.low),
        real_coverage_high=real(conversion.high),
        gap=gap,
        gap_deals=gap / typical if gap is not None and typical else None,
        typical_deal=typical,
        bookings_gap=max(remaining - exp_rest, 0.0) if exp_rest is not None else None,
        evidence=CoverageEvidence(
            method="measured same-point conversion of earlier periods' dated pipeline (value-weighted), "
            "plus the measured share of rest-of-period bookings from outside that pipeline",
            periods_used=[s.period for s in samples],
            sample_size=sample_size,
            won_deals=sum(s.won_from_open_deals for s in samples),
            conversion=conversion,
            outside_share=outside_rate,
            thin=conversion.thin or len(samples) < 2,
            samples=samples_out,
            note="" if samples else "no earlier period with pipeline at this point: nothing measured",
        ),
    )


def _from_outlook(same: CoverageLine, part: Outcome) -> CoverageLine:
    """The line's expectations, interval and required pipeline from the outlook; the same point as a cross-check."""
    closed, rest = part.closed_won, part.mean - part.closed_won
    remaining = max(same.target - closed, 0.0)
    pipe, dated = part.expected_in_period, part.open_in_period
    pull_ins = part.expected_open - part.expected_in_period
    other = pull_ins + part.expected_new
    c = pipe / dated if dated > 0 else None

    def required(q: float) -> float | None:
        """Required multiple when the rest of the period books as the outlook's ``q`` does (scaled yield)."""
        if c is None or remaining <= 0:
            return None
        rate = c * (q - closed) / rest if rest > 0 else c
        return max(remaining - other, 0.0) / rate / remaining if rate > 0 else None

    def real(q: float) -> float | None:
        return (q - closed) / remaining if remaining > 0 else None

    req = required(part.mean)
    req_pipe = req * remaining if req is not None else None
    gap = max(req_pipe - dated, 0.0) if req_pipe is not None else None
    note = "expectations, interval and required pipeline from the outlook (the forecast of this period and date); "
    note += "the measured same-point conversion is kept as the cross-check `same_point`"
    check = SamePointCheck(
        method=same.evidence.method,
        conversion=same.evidence.conversion.value,
        outside_share=same.evidence.outside_share.value,
        expected_from_pipeline=same.expected_from_pipeline,
        expected_from_outside=same.expected_from_new,
        expected_bookings=same.expected_bookings,
        difference=part.mean - same.expected_bookings if same.expected_bookings is not None else None,
    )
    return same.model_copy(
        update={
            "source": "outlook",
            "closed_won": closed,
            "remaining": remaining,
            "open_pipeline": dated,
            "evidence": same.evidence.model_copy(update={"note": "; ".join(filter(None, (note, same.evidence.note)))}),
            "reported_coverage": dated / remaining if remaining > 0 else None,
            "required_coverage": req,
            "required_coverage_low": required(part.p90),
            "required_coverage_high": required(part.p10),
            "required_pipeline": req_pipe,
            "expected_from_pipeline": pipe,
            "expected_from_pull_ins": pull_ins,
            "expected_from_new": part.expected_new,
            "expected_bookings": part.mean,
            "pipeline_yield": c,
            "bookings_p10": part.p10,
            "bookings_p50": part.p50,
            "bookings_p90": part.p90,
            "real_coverage": real(part.mean),
            "real_coverage_low": real(part.p10),
            "real_coverage_high": real(part.p90),
            "gap": gap,
            "gap_deals": gap / same.typical_deal if gap is not None and same.typical_deal else None,
            "bookings_gap": max(remaining - rest, 0.0),
            "same_point": check,
        }
    )


def _summed(samples: list[SamePoint]) -> list[SamePoint]:
    """The whole company's same-point samples: every field is a sum over the segments."""
    out: dict[str, SamePoint] = {}
    additive = [f for f, info in SamePoint.model_fields.items() if info.annotation in (int, float)]
    for x in samples:
        if x.period not in out:
            out[x.period] = x.model_copy(update={"group": {}})
            continue
        seen = out[x.period]
        out[x.period] = seen.model_copy(update={f: getattr(seen, f) + getattr(x, f) for f in additive})
    return list(out.values())


def compute_coverage(
    store: Store,
    period: Period,
    as_of: date,
    targets: dict[str, float],
    *,
    target_source: str,
    settings: Settings,
    periods: int = 4,
    span_table: ir.Table | None = None,
    deal_table: ir.Table | None = None,
    outlook: ForecastResult | None = None,
) -> Coverage:
    """Coverage of ``period`` as of ``as_of`` against ``targets`` (by segment), in total and per segment.

    With ``outlook`` (the forecast of the same period and as-of date) the expectations, real coverage and
    required pipeline are the outlook's; the same-point conversion stays beside them as a cross-check.
    """
    if outlook is not None and (outlook.period != period.name or outlook.as_of != as_of):
        raise ValueError(f"outlook of {outlook.period} as of {outlook.as_of} given for {period.name} as of {as_of}")
    parts = {x.segment: x for x in outlook.segments} if outlook is not None else {}
    s = span_table  # None: every measure reads the stored events itself, pruned to what it needs
    typical = _typical(
        store, as_of, deal_table if deal_table is not None else None if s is None else deals(store, as_of, s)
    )
    by_seg = {p.group["segment"]: p for p in period_position(store, period, as_of, ["segment"], span_table=s)}
    samples_seg = same_point_yield(store, period, as_of, ["segment"], periods=periods, span_table=s)
    samples_all = _summed(samples_seg)
    segments = sorted(set(targets) | set(by_seg))
    lines = []
    for name in segments:
        pos = by_seg.get(name)
        line = _line(
            name,
            targets.get(name, 0.0),
            pos.closed_won if pos else 0.0,
            pos.closed_won_deals if pos else 0,
            pos.open_pipeline if pos else 0.0,
            pos.open_deals if pos else 0,
            [x for x in samples_seg if x.group["segment"] == name],
            typical.get(name),
            settings,
        )
        lines.append(_from_outlook(line, parts[name]) if name in parts else line)
    whole = _line(
        ALL,
        sum(targets.values()),
        sum(p.closed_won for p in by_seg.values()),
        sum(p.closed_won_deals for p in by_seg.values()),
        sum(p.open_pipeline for p in by_seg.values()),
        sum(p.open_deals for p in by_seg.values()),
        samples_all,
        typical.get(ALL),
        settings,
    )
    if outlook is not None:
        whole = _from_outlook(whole, outlook.total)
    return Coverage(**whole.model_dump(), period=period.name, as_of=as_of, target_source=target_source, segments=lines)
