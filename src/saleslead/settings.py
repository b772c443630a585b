"""Typed settings with defaults: fiscal calendar, evidence thresholds, the honesty guard."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["GuardThresholds", "Settings"]


class GuardThresholds(BaseModel):
    """Verdicts on a call from P(outcome ≥ call)."""

    model_config = ConfigDict(frozen=True)

    supported: float = Field(0.5, description="P(outcome ≥ call) at or above this: supported")
    stretch: float = Field(0.2, description="at or above this (and below supported): stretch; below: outruns-pipeline")


class Settings(BaseModel):
    """Everything tunable about the seat, with defaults a sales leader would pick."""

    model_config = ConfigDict(frozen=True)

    fiscal_start_month: int = Field(1, ge=1, le=12, description="month the fiscal year starts")
    min_sample: int = Field(30, ge=1, description="fewer observations than this: the evidence is called thin")
    confidence: float = Field(0.9, gt=0, lt=1, description="confidence of the intervals reported")
    scenarios: int = Field(10_000, ge=100, description="Monte Carlo scenarios of a forecast")
    seed: int = Field(20_260_101, description="seed of every random draw, for repeatable answers")
    guard: GuardThresholds = GuardThresholds()
