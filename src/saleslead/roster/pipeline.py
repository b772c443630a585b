"""The pipeline side of the roster: what creation the goal needs, and what the funnel measured produces.

Measured from :func:`state_as_of` by segment:

* ``yield`` — closed-won amount ÷ closed amount of the deals created in the last ``lookback_quarters``
  complete quarters and closed by ``as_of`` (interval: Wilson on the deal counts);
* ``created_per_week`` — amount of pipeline created in the 13 weeks to ``as_of`` ÷ 13, split into what
  SDRs booked (lead source matching ``sdr_channel_pattern``) and what AEs and marketing sourced;
* ``required_creation_per_week`` — the creation target: from the request or the targets desk when given,
  else ``goal × (1 + buffer) ÷ yield ÷ weeks of the period``.

The pipeline is the binding constraint when the required creation exceeds the expected creation of the
plan: ``AE-sourced × (planned ramped AEs ÷ ramped AEs now) + SDR-booked`` — AEs source in proportion to
their ramped capacity, SDR and marketing creation does not grow with AE seats.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import ibis
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence, Rate, wilson
from saleslead.forecast.schemas import ForecastResult
from saleslead.funnel.state import state_as_of
from saleslead.roster.config import RosterConfig
from saleslead.roster.productivity import complete_quarters
from saleslead.store import Store

__all__ = ["CREATION_WEEKS", "OutlookCheck", "PipelineYield", "measure_pipeline", "outlook_checks"]

CREATION_WEEKS = 13


class PipelineYield(BaseModel):
    """Measured creation and yield of one segment."""

    model_config = ConfigDict(frozen=True)

    segment: str
    win_rate_value: float | None  # won amount ÷ closed amount: the yield of created pipeline
    win_rate: Rate  # by count, with its interval
    created_per_week: float
    sdr_created_per_week: float
    ae_created_per_week: float
    sdr_share: float
    sdr_opportunities_per_week: float
    sdr_average_amount: float | None
    window_weeks: int
    evidence: Evidence


def measure_pipeline(
    store: Store, as_of: date, config: RosterConfig, fiscal_start_month: int, confidence: float, min_sample: int
) -> dict[str, PipelineYield]:
    s = state_as_of(store, as_of)
    quarters = complete_quarters(as_of, config.lookback_quarters, fiscal_start_month)
    cohort = s.filter(
        (s.created_at >= ibis.literal(quarters[0].start))
        & (s.created_at < ibis.literal(quarters[-1].end))
        & s.is_closed
    )
    closed = (
        cohort.group_by("segment")
        .aggregate(
            won_amount=(cohort.amount * cohort.is_won.cast("float64")).sum(),
            closed_amount=cohort.amount.sum(),
            won=cohort.is_won.cast("int64").sum(),
            closed=cohort.count(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    since = as_of - timedelta(weeks=CREATION_WEEKS)
    recent = s.filter((s.created_at >= ibis.literal(since + timedelta(days=1))) & (s.created_at.date() <= as_of))
    created = (
        recent.group_by(["segment", "channel"])
        .aggregate(amount=recent.amount.sum(), deals=recent.count())
        .to_pyarrow()
        .to_pylist()
    )
    pattern = re.compile(config.sdr_channel_pattern, re.IGNORECASE)
    segments = sorted({r["segment"] for r in closed} | {r["segment"] for r in created})
    out: dict[str, PipelineYield] = {}
    for seg in segments:
        c = next((r for r in closed if r["segment"] == seg), None)
        won, trials = (int(c["won"]), int(c["closed"])) if c else (0, 0)
        value = float(c["won_amount"]) / float(c["closed_amount"]) if c and c["closed_amount"] else None
        rows = [r for r in created if r["segment"] == seg]
        sdr_rows = [r for r in rows if r["channel"] and pattern.search(r["channel"])]
        total = sum(float(r["amount"] or 0) for r in rows) / CREATION_WEEKS
        sdr = sum(float(r["amount"] or 0) for r in sdr_rows) / CREATION_WEEKS
        sdr_deals = sum(int(r["deals"]) for r in sdr_rows)
        out[seg] = PipelineYield(
            segment=seg,
            win_rate_value=value,
            win_rate=wilson(won, trials, confidence, min_sample),
            created_per_week=total,
            sdr_created_per_week=sdr,
            ae_created_per_week=total - sdr,
            sdr_share=sdr / total if total > 0 else 0.0,
            sdr_opportunities_per_week=sdr_deals / CREATION_WEEKS,
            sdr_average_amount=(sdr * CREATION_WEEKS / sdr_deals) if sdr_deals else None,
            window_weeks=CREATION_WEEKS,
            evidence=Evidence(
                method=(
                    f"yield: won ÷ closed amount of deals created {quarters[0].name}..{quarters[-1].name}; "
                    f"creation: amount created in the {CREATION_WEEKS} weeks to {as_of} ÷ {CREATION_WEEKS}"
                ),
                sample_size=trials,
                thin=trials < min_sample,
                note=f"{trials} closed deals, {sum(int(r['deals']) for r in rows)} created in the window",
            ),
        )
    return out


class OutlookCheck(BaseModel):
    """The current period's outlook for a segment beside the roster's pipeline check: what is booked, what the open
    deals and the pipeline not yet created are expected to book (the forecast's numbers), against the goal."""

    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date
    goal: float
    booked: float
    expected_open: float
    expected_new: float
    expected: float  # booked + expected_open + expected_new: the forecast's mean
    p10: float
    p90: float
    needed_from_creation: float  # max(goal − booked − expected_open, 0): what new pipeline must still book
    gap: float  # max(goal − expected, 0)


def outlook_checks(result: ForecastResult, goals: dict[str, float]) -> dict[str, OutlookCheck]:
    """Per segment with a goal, the forecast's parts for the period against the goal (the same numbers
    ``saleslead forecast`` shows for the segment)."""
    parts = {s.segment: s for s in result.segments}
    out: dict[str, OutlookCheck] = {}
    for segment, goal in goals.items():
        part = parts.get(segment)
        if part is None:
            continue
        out[segment] = OutlookCheck(
            period=result.period,
            as_of=result.as_of,
            goal=goal,
            booked=part.closed_won,
            expected_open=part.expected_open,
            expected_new=part.expected_new,
            expected=part.mean,
            p10=part.p10,
            p90=part.p90,
            needed_from_creation=max(goal - part.closed_won - part.expected_open, 0.0),
            gap=max(goal - part.mean, 0.0),
        )
    return out
