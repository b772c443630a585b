"""SDR math: from the creation target to meetings, opportunities and SDR seats, and the AE:SDR ratio.

For one segment and the plan's period:

* ``sdr_pipeline_per_week = required_creation_per_week × sdr_share + pipeline_gap_per_week`` — SDRs keep
  their measured share of creation and take the gap AE seats do not close;
* ``opportunities_per_week = sdr_pipeline_per_week ÷ average SDR-booked amount`` (measured);
* ``meetings_per_week = opportunities_per_week ÷ meeting_to_opportunity`` (an assumption);
* ``opportunities per ramped SDR-week = SDR-booked opportunities per week ÷ ramped SDRs now`` (measured);
* ``ramped SDRs needed = opportunities_per_week ÷ that rate``.

Seats, not ramp-discounted head counts: a seat is one ramped SDR once ramped, so the seats the pipeline needs
are ``⌈ramped SDRs needed − SDR heads the roster has at the period's end⌉`` (the SDRs on the roster aged
through the period with SDR attrition and backfill). They are capped by the AE:SDR band (an assumption of
:class:`RosterConfig`): more SDRs than ``AE heads at the period's end ÷ band.low`` book meetings the AEs cannot
work. ``binds`` names what sets the number:

* ``none`` — the SDRs on the roster already cover the SDR pipeline needed;
* ``pipeline_need`` — the seats the pipeline needs, within the band;
* ``ae_per_sdr_band`` — the band caps them; ``uncovered_per_week`` is the creation left to marketing or AE
  sourcing.

New SDRs start at the earliest month and ramp linearly over ``sdr_ramp_months``; ``ramped_sdrs_with_hires``
(the period's average) shows how much of the need they cover within the period.
``ae_per_sdr = average AE heads of the period ÷ (average SDR heads + hires)``, set beside the band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.capacity import simulate
from saleslead.roster.config import RatioBand, RosterConfig
from saleslead.roster.hiring import HiringWindow
from saleslead.roster.pipeline import PipelineYield
from saleslead.roster.ramp import RampPoint, RampProfile
from saleslead.roster.seasonality import flat_season

__all__ = ["SdrInputs", "SdrPlan", "plan_sdrs", "sdr_ramp"]


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
    sdr_heads_at_period_end: float
    ramped_sdrs_in_period: float
    ramped_sdrs_needed: float | None
    seats_needed: int | None  # before the band's cap
    max_sdrs_in_band: float | None  # AE heads at the period's end ÷ band.low
    sdr_hires: int | None
    ramped_sdrs_with_hires: float  # average over the period, hires starting at the earliest month
    uncovered_per_week: float  # SDR pipeline the seats cannot book (the band's cap), for marketing or AEs
    binds: str  # none | pipeline_need | ae_per_sdr_band | unknown
    binds_note: str
    ae_heads_in_period: float
    ae_per_sdr: float | None
    band: RatioBand
    band_verdict: str  # SDR-heavy | within | SDR-light | unknown
    evidence: Evidence


@dataclass(frozen=True)
class SdrInputs:
    """What one segment's SDR math is computed from: one parameter object."""

    segment: str
    required_creation_per_week: float
    pipeline_gap_per_week: float
    measured: PipelineYield | None
    sdr_tenures: list[int]
    ae_heads_in_period: float  # average AE heads of the plan over the period
    ae_heads_at_end: float  # AE heads of the plan in the period's last month
    window: HiringWindow


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


def _roster_sdrs(inp: SdrInputs, hires: int) -> tuple[float, float, float]:
    """(average heads, average ramped SDRs over the period, heads in its last month) with ``hires`` starting
    at the earliest month."""
    w = inp.window
    config = w.config.model_copy(
        update={"attrition_annual": w.config.sdr_attrition_annual, "washout_rate": 0.0, "washout_months": 0}
    )
    start = {max(w.earliest_start, w.first_month): hires} if hires else {}
    ramp = sdr_ramp(w.config)
    months = simulate(
        inp.segment, inp.sdr_tenures, w.first_month, w.period_last, start, ramp, 1.0, flat_season(), config
    )
    span = months[w.in_period]
    n = max(len(span), 1)
    return sum(m.heads for m in span) / n, sum(m.ramped_equivalents for m in span) / n, span[-1].heads if span else 0.0


def _seats(
    inp: SdrInputs, needed: float | None, heads_at_end: float, band: RatioBand
) -> tuple[int | None, float | None, int | None, str, str]:
    """(seats the pipeline needs, most SDRs the band allows, hires, binds, a note saying why)."""
    if needed is None:
        return None, None, None, "unknown", "no SDR-booked opportunities measured: SDR seats cannot be sized"
    seats = max(0, math.ceil(needed - heads_at_end - 1e-9))
    most = inp.ae_heads_at_end / band.low
    room = max(0, math.floor(most - heads_at_end + 1e-9))
    if seats == 0:
        return (
            0,
            most,
            0,
            "none",
            f"the {heads_at_end:.1f} SDRs on the roster cover the {needed:.1f} ramped SDRs needed",
        )
    if seats > room:
        note = (
            f"{seats} SDR seats would book the pipeline needed, but {inp.ae_heads_at_end:.0f} AEs can work at most "
            f"{most:.1f} SDRs' meetings (band {band.low:g}–{band.high:g} AEs per SDR): {room} hires"
        )
        return seats, most, room, "ae_per_sdr_band", note
    return seats, most, seats, "pipeline_need", f"{seats} SDR seats book the SDR pipeline needed, within the band"


def _verdict(ratio: float | None, band: RatioBand) -> str:
    if ratio is None:
        return "unknown"
    if ratio < band.low:
        return "SDR-heavy"
    if ratio > band.high:
        return "SDR-light"
    return "within"


def plan_sdrs(inp: SdrInputs) -> SdrPlan:
    config = inp.window.config
    measured = inp.measured
    ramp = sdr_ramp(config)
    heads_in_period, ramped_in_period, heads_at_end = _roster_sdrs(inp, 0)
    ramped_now = sum(ramp.factor(t) for t in inp.sdr_tenures)
    share = measured.sdr_share if measured else 0.0
    sdr_pipeline = inp.required_creation_per_week * share + inp.pipeline_gap_per_week
    amount = measured.sdr_average_amount if measured else None
    opps = sdr_pipeline / amount if amount else None
    rate = measured.sdr_opportunities_per_week / ramped_now if measured and ramped_now > 0 else None
    needed = opps / rate if opps is not None and rate else None
    band = config.band_for(inp.segment)
    seats, most, hires, binds, note = _seats(inp, needed, heads_at_end, band)
    _, ramped_with_hires, _ = _roster_sdrs(inp, hires or 0)
    covered = heads_at_end + (hires or 0)
    uncovered = max(0.0, (needed or 0.0) - covered) * (rate or 0.0) * (amount or 0.0)
    sdr_heads = heads_in_period + (hires or 0)
    ratio = inp.ae_heads_in_period / sdr_heads if sdr_heads > 0 else None
    sample = round(measured.sdr_opportunities_per_week * measured.window_weeks) if measured else 0
    return SdrPlan(
        segment=inp.segment,
        required_creation_per_week=inp.required_creation_per_week,
        sdr_share=share,
        pipeline_gap_per_week=inp.pipeline_gap_per_week,
        sdr_pipeline_per_week=sdr_pipeline,
        average_sdr_amount=amount,
        opportunities_per_week=opps,
        meeting_to_opportunity=config.meeting_to_opportunity,
        meetings_per_week=opps / config.meeting_to_opportunity if opps is not None else None,
        opportunities_per_ramped_sdr_week=rate,
        sdrs_on_roster=len(inp.sdr_tenures),
        sdr_heads_at_period_end=heads_at_end,
        ramped_sdrs_in_period=ramped_in_period,
        ramped_sdrs_needed=needed,
        seats_needed=seats,
        max_sdrs_in_band=most,
        sdr_hires=hires,
        ramped_sdrs_with_hires=ramped_with_hires,
        uncovered_per_week=uncovered,
        binds=binds,
        binds_note=note,
        ae_heads_in_period=inp.ae_heads_in_period,
        ae_per_sdr=ratio,
        band=band,
        band_verdict=_verdict(ratio, band),
        evidence=Evidence(
            method=(
                "SDR share, SDR-booked amount and opportunities per ramped SDR measured over the last "
                f"{measured.window_weeks if measured else 13} weeks; meeting→opportunity "
                f"{config.meeting_to_opportunity:.0%} and the AE:SDR band are assumptions"
            ),
            sample_size=sample,
            thin=sample < 30,
            note=f"{len(inp.sdr_tenures)} SDRs on the roster, {ramped_now:.1f} ramped equivalents now",
        ),
    )
