"""Everything the roster measures as of a date, in one place: seats, ramp, productivity, attainment,
seasonality, pipeline yields and quotas — each with its evidence. The plan, the finance table and the
``show`` command read these; nothing here looks past ``as_of``.

Bookings, productivity, ramp, seasonality and the pipeline are measured up to ``observed_to``: ``as_of``, or
the day of the store's last snapshot when ``as_of`` is later (an older export). Measured to ``as_of`` past
the data, every quarter after the export would count as a quarter in which nobody booked anything, and a
roster would seem to carry nothing. Seats and tenures stay as of ``as_of``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.config import RosterConfig
from saleslead.roster.pipeline import PipelineYield, measure_pipeline
from saleslead.roster.productivity import (
    Attainment,
    Productivity,
    WonLedger,
    complete_quarters,
    measure_attainment,
    measure_productivity,
    won_ledger,
)
from saleslead.roster.quotas import full_quota
from saleslead.roster.ramp import RampProfile, learn_ramp
from saleslead.roster.seasonality import Seasonality, measure_seasonality
from saleslead.roster.seats import RosterSeat, load_seats, month_index
from saleslead.settings import Settings
from saleslead.store import Store

__all__ = ["Headcount", "RosterMeasures", "SegmentMeasures", "measure_roster"]


class Headcount(BaseModel):
    """Who is on the roster of one segment at the end of ``as_of``."""

    model_config = ConfigDict(frozen=True)

    segment: str
    aes: int
    ae_ramped_equivalents: float
    aes_ramping: int  # tenure month below the month the ramp reaches 0.95
    sdrs: int
    managers: int
    others: int
    leavers_last_12_months: int  # AEs whose end date is in the 12 months to as_of
    ae_attrition_observed: float | None  # leavers ÷ average AE heads over those 12 months


@dataclass(frozen=True)
class SegmentMeasures:
    segment: str
    ramp: RampProfile
    productivity: Productivity
    attainment: Attainment
    pipeline: PipelineYield | None
    full_quota: float
    quota_evidence: Evidence
    bookings_window: float  # closed-won in the lookback quarters
    headcount: Headcount


@dataclass(frozen=True)
class RosterMeasures:
    as_of: date
    observed_to: date  # as_of, or the store's last snapshot day when as_of is later
    seats: list[RosterSeat]
    ledger: WonLedger
    season: Seasonality
    segments: dict[str, SegmentMeasures]

    def active(self, segment: str, role: str) -> list[RosterSeat]:
        return [s for s in self.seats if s.active and s.role == role and s.segment == segment]


def _quotas(store: Store, as_of: date) -> dict[tuple[str, date], float]:
    q = store.table("quotas")
    q = q.filter(q.start_date <= ibis.literal(as_of))
    return {(r["owner_id"], r["start_date"]): float(r["amount"] or 0.0) for r in q.to_pyarrow().to_pylist()}


def _headcount(seats: list[RosterSeat], segment: str, ramp: RampProfile, as_of: date) -> Headcount:
    mine = [s for s in seats if s.segment == segment]
    aes = [s for s in mine if s.active and s.role == "AE"]
    now = month_index(as_of)
    leavers = [s for s in mine if s.role == "AE" and s.end_date is not None and month_index(s.end_date) > now - 12]
    heads = []
    for m in range(now - 11, now + 1):
        heads.append(
            sum(
                1
                for s in mine
                if s.role == "AE"
                and month_index(s.start_date) <= m
                and (s.end_date is None or month_index(s.end_date) >= m)
            )
        )
    average = sum(heads) / len(heads)
    return Headcount(
        segment=segment,
        aes=len(aes),
        ae_ramped_equivalents=sum(ramp.factor(s.tenure_months) for s in aes),
        aes_ramping=sum(1 for s in aes if s.tenure_months < ramp.ramped_at_month),
        sdrs=sum(1 for s in mine if s.active and s.role == "SDR"),
        managers=sum(1 for s in mine if s.active and s.role == "manager"),
        others=sum(1 for s in mine if s.active and s.role == "other"),
        leavers_last_12_months=len(leavers),
        ae_attrition_observed=len(leavers) / average if average > 0 else None,
    )


def observed_to(store: Store, as_of: date) -> date:
    """The last day the store has data for, as known at ``as_of``: ``as_of``, or the last snapshot's day when
    ``as_of`` is later. A snapshot after ``as_of`` only says the data reaches ``as_of``."""
    if not store.count("ingests"):
        return as_of
    last = store.table("ingests").snapshot_at.max().execute()
    if last is None:
        return as_of
    day: date = last.date()
    return min(as_of, day)


def measure_roster(store: Store, as_of: date, config: RosterConfig, settings: Settings) -> RosterMeasures:
    seats = load_seats(store, as_of, config)
    seen = observed_to(store, as_of)
    ledger = won_ledger(store, seen)
    quotas = _quotas(store, as_of)
    pipeline = measure_pipeline(
        store, seen, config, settings.fiscal_start_month, settings.confidence, settings.min_sample
    )
    segments = sorted({s.segment for s in seats if s.role == "AE" and s.active})
    quarters = complete_quarters(seen, config.lookback_quarters, settings.fiscal_start_month)
    window = range(month_index(quarters[0].start), month_index(quarters[-1].end))
    ramps = {seg: learn_ramp(seats, ledger, seg, config, settings.min_sample) for seg in segments}
    season = measure_seasonality(seats, ledger, ramps, config)
    out: dict[str, SegmentMeasures] = {}
    for seg in segments:
        full, evidence = full_quota(seats, seg, config)
        book = ledger.by_segment_month.get(seg, {})
        out[seg] = SegmentMeasures(
            segment=seg,
            ramp=ramps[seg],
            productivity=measure_productivity(
                seats, ledger, seg, config, settings.fiscal_start_month, settings.confidence, settings.min_sample
            ),
            attainment=measure_attainment(
                seats,
                ledger,
                quotas,
                seg,
                config,
                settings.fiscal_start_month,
                settings.confidence,
                settings.min_sample,
            ),
            pipeline=pipeline.get(seg),
            full_quota=full,
            quota_evidence=evidence,
            bookings_window=float(sum(book.get(m, 0.0) for m in window)),
            headcount=_headcount(seats, seg, ramps[seg], as_of),
        )
    return RosterMeasures(as_of=as_of, observed_to=seen, seats=seats, ledger=ledger, season=season, segments=out)
