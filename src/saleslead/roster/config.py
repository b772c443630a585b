"""What the roster rests on besides the data: the assumptions a sales leader sets, each with a default.

Every number here is an *assumption* and is reported as such next to the measured numbers it is
combined with. Override any of them per request (``RosterConfig(...)``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RatioBand", "RosterConfig"]


class RatioBand(BaseModel):
    """A benchmark band of AEs per SDR (an assumption, not a measurement)."""

    model_config = ConfigDict(frozen=True)

    low: float = Field(gt=0, description="fewer AEs per SDR than this: SDR-heavy")
    high: float = Field(gt=0, description="more AEs per SDR than this: SDR-light")


_DEFAULT_BANDS = {
    "SMB": RatioBand(low=2.0, high=4.0),
    "Mid-Market": RatioBand(low=1.5, high=3.0),
    "Enterprise": RatioBand(low=1.0, high=2.5),
}


class RosterConfig(BaseModel):
    """The roster's assumptions. Measured numbers (ramp, productivity, seasonality) override the defaults
    where the data has enough evidence; these are what is used where it has not."""

    model_config = ConfigDict(frozen=True)

    role_overrides: dict[str, str] = Field(
        default_factory=dict, description="user_id -> role (AE, SDR, manager, other), overriding users.role"
    )
    segment_overrides: dict[str, str] = Field(default_factory=dict, description="user_id -> segment")
    ramp_months: dict[str, int] = Field(
        default_factory=lambda: {"SMB": 3, "Mid-Market": 5, "Enterprise": 6},
        description="default months to full productivity by segment (the prior of the learned ramp)",
    )
    default_ramp_months: int = Field(4, ge=1, le=24, description="ramp months of a segment not named above")
    ramp_horizon: int = Field(12, ge=3, le=24, description="tenure months the ramp curve covers")
    ramp_prior_weight: float = Field(
        6.0, ge=0, description="rep-months of weight the default ramp carries against the measured one"
    )
    sdr_ramp_months: int = Field(2, ge=1, le=12, description="months until a new SDR books at full rate")
    lookback_quarters: int = Field(4, ge=4, le=6, description="complete quarters productivity is measured on")
    productivity_statistic: str = Field(
        "median", pattern="^(median|mean)$", description="per-rep statistic of ramped productivity"
    )
    attrition_annual: float = Field(0.2, ge=0, lt=1, description="share of AEs who leave in a year")
    sdr_attrition_annual: float = Field(0.3, ge=0, lt=1, description="share of SDRs who leave in a year")
    washout_rate: float = Field(
        0.1, ge=0, lt=1, description="extra share of new hires who leave during the wash-out months"
    )
    washout_months: int = Field(6, ge=0, le=24, description="tenure months during which wash-out applies")
    backfill: bool = Field(True, description="every leaver is backfilled")
    backfill_lag_months: int = Field(2, ge=0, le=24, description="months from a departure to the backfill's start")
    hiring_lead_time_months: int = Field(2, ge=0, le=24, description="months from approval to a hire's start")
    max_hires_per_month: int = Field(10, ge=0, description="most hires a segment can start in one month")
    cost_per_seat_month: dict[str, float] = Field(
        default_factory=dict, description="fully loaded monthly cost of a seat by role (AE, SDR), if given"
    )
    quota_per_ramped_seat: dict[str, float] = Field(
        default_factory=dict,
        description="quarterly quota of a ramped AE by segment (default: the median quota in the store)",
    )
    seasonality_prior_years: float = Field(
        2.0, ge=0, description="years of weight a flat season carries against the measured one"
    )
    sdr_channel_pattern: str = Field(
        "sdr|outbound", description="regular expression (case-insensitive) of lead sources SDRs book"
    )
    meeting_to_opportunity: float = Field(
        0.5, gt=0, le=1, description="share of SDR meetings that become an opportunity (assumption)"
    )
    ae_per_sdr_bands: dict[str, RatioBand] = Field(
        default_factory=lambda: dict(_DEFAULT_BANDS), description="benchmark AE:SDR bands by segment"
    )
    default_ae_per_sdr_band: RatioBand = RatioBand(low=1.5, high=4.0)
    whitespace_share: float = Field(
        0.25, ge=0, description="potential of an account with no history, as a share of its segment's median"
    )

    def ramp_months_for(self, segment: str) -> int:
        return self.ramp_months.get(segment, self.default_ramp_months)

    def band_for(self, segment: str) -> RatioBand:
        return self.ae_per_sdr_bands.get(segment, self.default_ae_per_sdr_band)

    @property
    def monthly_attrition(self) -> float:
        """Annual attrition turned monthly: ``1 - (1 - a) ** (1 / 12)``."""
        return float(1.0 - (1.0 - self.attrition_annual) ** (1.0 / 12.0))

    @property
    def monthly_washout(self) -> float:
        """Wash-out spread over its months: ``1 - (1 - w) ** (1 / W)`` (0 when W is 0)."""
        if self.washout_months == 0:
            return 0.0
        return float(1.0 - (1.0 - self.washout_rate) ** (1.0 / self.washout_months))
