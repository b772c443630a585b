"""SDR math: from the creation target to meetings, opportunities and SDR seats, and the AE:SDR ratio.

For one segment and the plan's period:

* ``sdr_pipeline_per_week = required_creation_per_week × sdr_share + pipeline_gap_per_week`` — SDRs keep
  their measured share of creation and take the gap AE seats do not close;
* ``opportunities_per_week = sdr_pipeline_per_week ÷ average SDR-booked amount`` (measured);
* ``meetings_per_week = opportunities_per_week ÷ meeting_to_opportunity`` (an assumption);
* ``opportunities per ramped SDR-week = SDR-booked opportunities per week ÷ ramped SDRs now`` (measured);
* ``ramped SDRs needed = opportunities_per_week ÷ that rate``; the SDRs on the roster are aged through the
  period like AEs (linear ramp over ``sdr_ramp_months``, SDR attrition, backfill), and
  ``sdr_hires = ⌈(needed − average ramped SDRs of the period) ÷ average ramped equivalents of one hire⌉``;
* ``ae_per_sdr = average AE heads of the period ÷ (average SDR heads + hires)``, set beside a benchmark
  band (an assumption of :class:`RosterConfig`).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.capacity import simulate
from saleslead.roster.config import RatioBand, RosterConfig
from saleslead.roster.pipeline import PipelineYield
from saleslead.roster.ramp import RampPoint, RampProfile
from saleslead.roster.seasonality import flat_season

__all__ = ["SdrPlan", "plan_sdrs", "sdr_ramp"]


class SdrPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    required_creation_per_week: float
    sdr_share: float
    pipeline_gap_per_week: float
    sdr_pipeline_per_week: float
    average_sdr_amount: float | None
    opportunities_per_week: float | None
    meeting_to_opportunity: float  # assumption
    meetings_per_week: float | None
    opportunities_per_ramped_sdr_week: float | None
    sdrs_on_roster: int
    ramped_sdrs_in_period: float
    ramped_sdrs_needed: float | None
    sdr_hires: int | None
    ae_heads_in_period: float
    ae_per_sdr: float | None
    band: RatioBand
    band_verdict: str  # SDR-heavy | within | SDR-light | unknown
    evidence: Evidence


def sdr_ramp(config: RosterConfig) -> RampProfile:
    months = config.sdr_ramp_months
    points = [
        RampPoint(tenure_month=m, factor=f, default=f, observed=None, rep_months=0)
        for m, f in ((m, min(1.0, m / months)) for m in range(1, months + 2))
    ]
    return RampProfile(
        segment="SDR",
        points=points,
        reference_per_rep_month=0.0,
        reps=0,
        ramped_at_month=months,
        source="default",
        evidence=Evidence(method=f"assumption: linear SDR ramp over {months} months", sample_size=0, thin=True),
    )


def plan_sdrs(
    segment: str,
    required_creation_per_week: float,
    pipeline_gap_per_week: float,
    measured: PipelineYield | None,
    sdr_tenures: list[int],
    ae_heads_in_period: float,
    first_month: int,
    period_first: int,
    period_last: int,
    earliest_start: int,
    config: RosterConfig,
) -> SdrPlan:
    sdr_config = config.model_copy(
        update={"attrition_annual": config.sdr_attrition_annual, "washout_rate": 0.0, "washout_months": 0}
    )
    ramp = sdr_ramp(config)
    season = flat_season()
    span = slice(period_first - first_month, period_last - first_month + 1)
    now = simulate(segment, sdr_tenures, first_month, period_last, {}, ramp, 1.0, season, sdr_config)[span]
    ramped_in_period = sum(m.ramped_equivalents for m in now) / max(len(now), 1)
    heads_in_period = sum(m.heads for m in now) / max(len(now), 1)
    ramped_now = sum(ramp.factor(t) for t in sdr_tenures)
    share = measured.sdr_share if measured else 0.0
    sdr_pipeline = required_creation_per_week * share + pipeline_gap_per_week
    amount = measured.sdr_average_amount if measured else None
    opps = sdr_pipeline / amount if amount else None
    meetings = opps / config.meeting_to_opportunity if opps is not None else None
    rate = measured.sdr_opportunities_per_week / ramped_now if measured and ramped_now > 0 else None
    needed = opps / rate if opps is not None and rate else None
    hires: int | None = None
    if needed is not None:
        start = max(earliest_start, first_month)
        one = simulate(segment, [], first_month, period_last, {start: 1}, ramp, 1.0, season, sdr_config)[span]
        per_hire = sum(m.ramped_equivalents for m in one) / max(len(one), 1)
        extra = needed - ramped_in_period
        hires = 0 if extra <= 1e-9 else (math.ceil(extra / per_hire - 1e-9) if per_hire > 0 else None)
    sdr_heads = heads_in_period + (hires or 0)
    ratio = ae_heads_in_period / sdr_heads if sdr_heads > 0 else None
    band = config.band_for(segment)
    if ratio is None:
        verdict = "unknown"
    elif ratio < band.low:
        verdict = "SDR-heavy"
    elif ratio > band.high:
        verdict = "SDR-light"
    else:
        verdict = "within"
    sample = round(measured.sdr_opportunities_per_week * measured.window_weeks) if measured else 0
    return SdrPlan(
        segment=segment,
        required_creation_per_week=required_creation_per_week,
        sdr_share=share,
        pipeline_gap_per_week=pipeline_gap_per_week,
        sdr_pipeline_per_week=sdr_pipeline,
        average_sdr_amount=amount,
        opportunities_per_week=opps,
        meeting_to_opportunity=config.meeting_to_opportunity,
        meetings_per_week=meetings,
        opportunities_per_ramped_sdr_week=rate,
        sdrs_on_roster=len(sdr_tenures),
        ramped_sdrs_in_period=ramped_in_period,
        ramped_sdrs_needed=needed,
        sdr_hires=hires,
        ae_heads_in_period=ae_heads_in_period,
        ae_per_sdr=ratio,
        band=band,
        band_verdict=verdict,
        evidence=Evidence(
            method=(
                "SDR share, SDR-booked amount and opportunities per ramped SDR measured over the last "
                f"{measured.window_weeks if measured else 13} weeks; meeting→opportunity "
                f"{config.meeting_to_opportunity:.0%} and the AE:SDR band are assumptions"
            ),
            sample_size=sample,
            thin=sample < 30,
            note=f"{len(sdr_tenures)} SDRs on the roster, {ramped_now:.1f} ramped equivalents now",
        ),
    )
