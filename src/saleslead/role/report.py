"""What one turn of the weekly cadence produces: the call, the funnel's leaks, each mandate's section,
the flags and handoffs. :class:`WeeklyBriefing` is what ``saleslead run`` returns (its JSON form is the
documented schema); :mod:`saleslead.briefing` turns it into words.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from saleslead.role.flags import Flag
from saleslead.role.handoffs import Handoff

__all__ = ["BridgeLine", "CallLine", "LeakLine", "PipelineLine", "Section", "WeeklyBriefing"]


class BridgeLine(BaseModel):
    """One component of the forecast bridge: how much it moved the P50 and the mean since the week before."""

    model_config = ConfigDict(frozen=True)

    component: str
    p50: float
    mean: float
    deals: int
    amount: float


class CallLine(BaseModel):
    """The call: one number with its range and the evidence behind it."""

    model_config = ConfigDict(frozen=True)

    period: str
    call: float
    low: float | None
    high: float | None
    confidence: float | None
    method: str
    sample_size: int | None
    verdict: str | None = Field(None, description="the honesty guard's verdict on the call, when checked")
    version: int | None = Field(None, description="version of the seat's stored call (forecast-seat-call)")
    as_of: date | None = Field(None, description="the date the stored call was made as of")
    previous: float | None = Field(None, description="the seat's previous call of the period, if any")
    booked: float | None = Field(None, description="the outlook's parts: booked to date")
    expected_open: float | None = Field(None, description="expected from deals open now")
    expected_new: float | None = Field(None, description="expected from pipeline not yet created")
    bridge_since: date | None = Field(None, description="the as-of date the bridge starts from")
    bridge_from: float | None = Field(None, description="the P50 as of bridge_since")
    bridge: list[BridgeLine] = Field(default_factory=list, description="the P50's move since, by component")


class LeakLine(BaseModel):
    """Conversion out of one open stage (matured creation cohorts), with its interval."""

    model_config = ConfigDict(frozen=True)

    stage: str
    next_stage: str | None
    reached: int
    advanced: int
    lost: int
    conversion: float | None
    low: float | None
    high: float | None
    thin: bool


class PipelineLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    count: int
    amount: float


class Section(BaseModel):
    """One mandate's part of the briefing: its words and the numbers they come from."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    available: bool
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class WeeklyBriefing(BaseModel):
    """The result of the weekly cadence (``saleslead run``)."""

    model_config = ConfigDict(frozen=True)

    engagement: str
    as_of: date
    period: str
    ingested: dict[str, Any] | None = Field(None, description="the ingest report (--ingest) or sync report (--sync)")
    call: CallLine | None
    open_count: int
    open_amount: float
    closed_won_to_date: float
    pipeline_by_segment: list[PipelineLine]
    pipeline_by_stage: list[PipelineLine]
    leaks: list[LeakLine]
    leak_evidence: str
    sections: list[Section]
    flags: list[Flag]
    handoffs: list[Handoff]
    new_flags: list[str]
    resolved_flags: list[str]
    new_handoffs: list[str]
    mandates_run: list[str]
    mandates_missing: list[str]
