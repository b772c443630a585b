"""Settings that steer ingestion: stage overrides, employee bands, user date fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["IngestSettings", "StageSetting"]


class StageSetting(BaseModel):
    """One configured stage. A configured list is ordered: earlier means earlier in the funnel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    is_closed: bool = False
    is_won: bool = False
    probability: float | None = None


class IngestSettings(BaseModel):
    """How to read an export. Every field has a default that fits a stock Salesforce org."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Segment name -> [min, max) NumberOfEmployees; ``None`` as max means no upper bound.
    employee_bands: dict[str, tuple[int, int | None]] = Field(default_factory=dict)
    #: Ordered stage declarations that override what is learned from the data.
    stages: tuple[StageSetting, ...] = ()
    #: User field holding the rep's start date (e.g. a custom ``StartDate__c``).
    user_start_field: str = "CreatedDate"
    #: User field holding the rep's end date, when the org keeps one.
    user_end_field: str = "EndDate__c"

    @field_validator("stages")
    @classmethod
    def _won_is_closed(cls, stages: tuple[StageSetting, ...]) -> tuple[StageSetting, ...]:
        for stage in stages:
            if stage.is_won and not stage.is_closed:
                raise ValueError(f"stage {stage.name!r} is won but not closed")
        names = [stage.name for stage in stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique")
        return stages

    @field_validator("employee_bands")
    @classmethod
    def _bands_ordered(cls, bands: dict[str, tuple[int, int | None]]) -> dict[str, tuple[int, int | None]]:
        for name, (low, high) in bands.items():
            if low < 0 or (high is not None and high <= low):
                raise ValueError(f"employee band {name!r} must satisfy 0 <= min < max")
        return bands
