"""Typed settings with defaults: fiscal calendar, currency, how exports are read, evidence and stall thresholds,
the honesty guard.

Kept per store and engagement (``saleslead config``, :mod:`saleslead.config`). Two kinds of field:

* what the seat's answers are computed from — a materialised answer's key carries the ones it reads
  (:class:`saleslead.store.answers.Answers`), so changing one makes exactly those answers stale;
* :data:`INGEST_FIELDS` (stage overrides, segment rules) steer how the next export is read — the store keeps
  what it was given, and its answers go stale when that export lands — and :data:`PRESENTATION_FIELDS`
  (the currency) only change how numbers read.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from saleslead.ingest.settings import IngestSettings, StageSetting

__all__ = [
    "INGEST_FIELDS",
    "PRESENTATION_FIELDS",
    "GuardThresholds",
    "Settings",
    "StallThresholds",
]

#: settings read when an export is read (the next ingest or sync), not when an answer is computed
INGEST_FIELDS = ("stages", "segment_bands")
#: settings that change only how a number reads
PRESENTATION_FIELDS = ("currency",)


class GuardThresholds(BaseModel):
    """Verdicts on a call from P(outcome ≥ call)."""

    model_config = ConfigDict(frozen=True)

    supported: float = Field(0.5, ge=0, le=1, description="P(outcome ≥ call) at or above this: supported")
    stretch: float = Field(
        0.2, ge=0, le=1, description="at or above this (and below supported): stretch; below: outruns-pipeline"
    )


class StallThresholds(BaseModel):
    """The floors under the learned stall thresholds, and the history they are learned from."""

    model_config = ConfigDict(frozen=True)

    quiet_days: int = Field(
        0, ge=0, description="a deal is never called quiet (stalled) with fewer days than this since its last touch"
    )
    push_floor: int = Field(2, ge=1, description="a deal is never called slipping on fewer close-date pushes")
    lookback_days: int = Field(365, ge=30, le=3650, description="days of history the stall thresholds are learned from")


class Settings(BaseModel):
    """Everything tunable about the seat, with defaults a sales leader would pick."""

    model_config = ConfigDict(frozen=True)

    fiscal_start_month: int = Field(1, ge=1, le=12, description="month the fiscal year starts")
    currency: str = Field("USD", description="ISO 4217 code the amounts are in (how every face writes them)")
    min_sample: int = Field(30, ge=1, description="fewer observations than this: the evidence is called thin")
    confidence: float = Field(0.9, gt=0, lt=1, description="confidence of the intervals reported")
    scenarios: int = Field(10_000, ge=100, description="Monte Carlo scenarios of a forecast")
    seed: int = Field(20_260_101, description="seed of every random draw, for repeatable answers")
    guard: GuardThresholds = GuardThresholds()
    stalls: StallThresholds = StallThresholds()
    stages: tuple[StageSetting, ...] = Field(
        (), description="stage overrides, in funnel order, read by the next ingest: [{name, is_closed, is_won}]"
    )
    segment_bands: dict[str, tuple[int, int | None]] = Field(
        default_factory=dict,
        description="segment rules, read by the next ingest: segment -> [min, max) employees, for accounts without one",
    )

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        code = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"currency must be an ISO 4217 code of three letters (e.g. USD, EUR), not {value!r}")
        return code

    @field_validator("segment_bands", mode="before")
    @classmethod
    def _open_ended(cls, bands: object) -> object:
        """``[2000]`` (as TOML writes a band without an upper bound) is ``[2000, None]``."""
        if isinstance(bands, dict):
            return {k: (*v, None) if isinstance(v, list | tuple) and len(v) == 1 else v for k, v in bands.items()}
        return bands

    @model_validator(mode="after")
    def _readable_by_ingest(self) -> Settings:
        self.ingest_settings()  # stage flags and bands checked as an ingest checks them
        return self

    def ingest_settings(self) -> IngestSettings:
        """How the next export is read: the stage overrides and segment rules (checked as ingest checks them)."""
        return IngestSettings(stages=self.stages, employee_bands=self.segment_bands)
