"""What the fleet desk's actions take and give: a request to ``ask`` and its answer, the outbox's queries,
one turn of the weekly cadence."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saleslead.role.handoffs import Handoff, HandoffStatus
from saleslead.role.outbox_view import HandoffSort
from saleslead.role.router import Route

__all__ = ["Answer", "AskRequest", "AskResult", "HandoffList", "HandoffUpdate", "HandoffsRequest", "RunRequest"]


class AskRequest(BaseModel):
    """A request to the seat: free text, or a typed intent (an action id or a boundary id)."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    intent: str | None = None
    as_of: date | None = None


class Answer(BaseModel):
    """The in-lane part of a request, answered from the store (or said plainly to be missing)."""

    model_config = ConfigDict(frozen=True)

    action: str
    mandate: str
    available: bool
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class AskResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    route: Route
    answers: list[Answer]
    handoffs: list[Handoff]
    question: str | None


class HandoffsRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: HandoffStatus | None = None
    to_role: str | None = None
    owner: str | None = None  # a name or user id: the handoffs of that owner's deals
    segment: str | None = None
    sort: HandoffSort = "issued"
    limit: int | None = Field(None, ge=1)


class HandoffList(BaseModel):
    model_config = ConfigDict(frozen=True)

    engagement: str
    handoffs: list[Handoff]


class HandoffUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: HandoffStatus = "acknowledged"
    by: str = "fleet"


class RunRequest(BaseModel):
    """One turn of the weekly cadence as of a date, optionally ingesting a new export first."""

    model_config = ConfigDict(frozen=True)

    as_of: date | None = None
    ingest: Path | None = None
    mapping: str | None = None
    #: sync this CRM first (what changed since the last sync; credentials from the environment)
    sync: Literal["salesforce", "hubspot"] | None = None
