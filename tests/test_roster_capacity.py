"""Capacity arithmetic against hand computation: attrition, wash-out, backfill, ramp, seasonality, linearity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from saleslead.evidence import Evidence
from saleslead.roster.capacity import hire_response, simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.ramp import RampPoint, RampProfile
from saleslead.roster.seasonality import Seasonality, flat_season

JAN_2027 = 2027 * 12  # month index of January 2027


def ramp(*factors: float) -> RampProfile:
    points = [
        RampPoint(tenure_month=i + 1, factor=f, default=f, observed=None, rep_months=0) for i, f in enumerate(factors)
    ]
    return RampProfile(
        segment="SMB", points=points, reference_per_rep_month=0.0, reps=0, ramped_at_month=len(factors),
        source="default", evidence=Evidence(method="hand", sample_size=0, thin=True),
    )  # fmt: skip


QUIET = RosterConfig(attrition_annual=0.0, washout_rate=0.0, washout_months=0, backfill=False)


def test_monthly_attrition_from_annual() -> None:
    config = RosterConfig(attrition_annual=0.2, washout_rate=0.1, washout_months=6)
    assert config.monthly_attrition == pytest.approx(1 - 0.8 ** (1 / 12))
    assert (1 - config.monthly_attrition) ** 12 == pytest.approx(0.8)
    assert (1 - config.monthly_washout) ** 6 == pytest.approx(0.9)


def test_a_ramped_rep_decays_by_attrition() -> None:
    config = QUIET.model_copy(update={"attrition_annual": 0.2})
    months = simulate("SMB", [40], JAN_2027, JAN_2027 + 2, {}, ramp(0.5, 1.0), 1000.0, flat_season(), config)
    keep = 0.8 ** (1 / 12)
    assert [m.heads for m in months] == pytest.approx([keep, keep**2, keep**3])
    assert [m.capacity for m in months] == pytest.approx([1000 * keep, 1000 * keep**2, 1000 * keep**3])
    assert months[0].departures == pytest.approx(1 - keep)
    assert months[0].month == "2027-01"


def test_a_hire_ramps_and_washes_out() -> None:
    config = QUIET.model_copy(update={"washout_rate": 0.19, "washout_months": 2})
    w = 1 - 0.81**0.5  # = 0.1 a month
    months = simulate(
        "SMB", [], JAN_2027, JAN_2027 + 3, {JAN_2027: 1}, ramp(0.25, 0.5, 1.0), 100.0, flat_season(), config
    )
    assert w == pytest.approx(0.1)
    # month 1: tenure 1, factor 0.25; month 2: survived month-1 hazard, tenure 2; month 3: tenure 3 at 1.0
    assert [m.capacity for m in months] == pytest.approx([25.0, 0.9 * 50.0, 0.81 * 100.0, 0.81 * 100.0])
    assert months[0].hires_starting == 1


def test_backfill_arrives_after_its_lag_at_tenure_one() -> None:
    config = RosterConfig(
        attrition_annual=0.5, washout_rate=0.0, washout_months=0, backfill=True, backfill_lag_months=1
    )
    h = 1 - 0.5 ** (1 / 12)
    months = simulate("SMB", [30], JAN_2027, JAN_2027 + 1, {}, ramp(0.5, 1.0), 100.0, flat_season(), config)
    assert months[0].backfills_starting == 0.0
    assert months[1].backfills_starting == pytest.approx(h)
    # month 2: the original has survived twice; its month-1 departure is back at tenure 1 (factor 0.5)
    assert months[1].heads == pytest.approx((1 - h) ** 2 + h)
    assert months[1].capacity == pytest.approx(100 * ((1 - h) ** 2 + 0.5 * h))


def test_seasonality_multiplies_the_month() -> None:
    index = [1.0] * 12
    index[2] = 1.5  # March
    season = Seasonality(
        index=index, years_observed=[3] * 12, evidence=Evidence(method="hand", sample_size=36, thin=False)
    )
    months = simulate("SMB", [20, 20], JAN_2027, JAN_2027 + 2, {}, ramp(1.0), 10.0, season, QUIET)
    assert [m.capacity for m in months] == pytest.approx([20.0, 20.0, 30.0])
    assert months[2].seasonality == 1.5


def test_capacity_is_linear_in_hires() -> None:
    config = RosterConfig(attrition_annual=0.25, washout_rate=0.1, washout_months=3, backfill_lag_months=2)
    r = ramp(0.2, 0.4, 0.7, 0.9, 1.0)
    hires = {JAN_2027 + 1: 2, JAN_2027 + 4: 1}
    last = JAN_2027 + 11
    planned = simulate("SMB", [3, 14], JAN_2027, last, hires, r, 500.0, flat_season(), config)
    base = simulate("SMB", [3, 14], JAN_2027, last, {}, r, 500.0, flat_season(), config)
    added = sum(n * hire_response(JAN_2027, last, u, r, 500.0, flat_season(), config) for u, n in hires.items())
    assert np.allclose([p.capacity for p in planned], np.asarray([b.capacity for b in base]) + added)
    assert not math.isclose(planned[-1].capacity, base[-1].capacity)
