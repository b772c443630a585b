"""The strategy as a decision record: which cells the team pursues and where it deliberately does not compete.

A decision is built from the scorecard as of a date: by default every judged cell takes its
recommendation (with the scorecard's evidence as the reason); the author may override cells
(``pursue`` / ``do_not_compete``) with a reason of their own. It is stored as a record of kind
``strategy`` (key ``strategy``) in the engagement, so every version is kept: who decided, when,
and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saleslead.errors import InputError, NotFoundError
from saleslead.store.records import Record, Records
from saleslead.strategy.rules import StrategyRules
from saleslead.strategy.scorecard import Scorecard, cell_key, parse_dimensions

__all__ = [
    "KIND",
    "CellDecision",
    "DecideRequest",
    "Decision",
    "ShowRequest",
    "StrategyDecision",
    "StrategyVersion",
    "StrategyView",
    "applicable",
    "decision_of",
    "make_decision",
    "parse_cell",
    "show",
]

KIND = "strategy"
KEY = "strategy"
Decision = Literal["pursue", "maintain", "deprioritise", "do-not-compete"]


class DecideRequest(BaseModel):
    """Decide the strategy from the scorecard as of ``as_of`` (also the day it takes effect)."""

    model_config = ConfigDict(frozen=True)

    author: str = Field(min_length=1)
    as_of: date | None = None
    by: tuple[str, ...] = ("segment", "motion", "channel")
    lookback_months: int = Field(12, ge=1, le=60)
    rules: StrategyRules = StrategyRules()
    pursue: tuple[str, ...] = Field((), description="cells to pursue whatever the scorecard says")
    do_not_compete: tuple[str, ...] = Field((), description="cells not to compete in whatever the scorecard says")
    reason: str = Field("", description="why the overrides (required when there are any)")
    adopt: bool = Field(True, description="cells not overridden take the scorecard's recommendation")
    note: str = ""


class CellDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    cell: dict[str, str]
    decision: Decision
    reason: str
    source: Literal["scorecard", "override"]


class StrategyDecision(BaseModel):
    """One version of the strategy."""

    model_config = ConfigDict(frozen=True)

    version: int
    author: str
    decided_on: date = Field(description="the scorecard's as-of date; the strategy holds from the day after")
    recorded_at: datetime
    dimensions: list[str]
    lookback_months: int
    note: str
    pursue: list[CellDecision]
    do_not_compete: list[CellDecision]
    deprioritise: list[CellDecision]
    maintain: list[CellDecision]
    undecided: list[str] = Field(description="cells without enough evidence and no override")


class ShowRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int | None = Field(None, description="a version (default: the latest)")


class StrategyVersion(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    author: str
    decided_on: date
    recorded_at: datetime
    pursue: int
    do_not_compete: int


class StrategyView(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision: StrategyDecision
    versions: list[StrategyVersion]


def parse_cell(text: str, dimensions: Sequence[str]) -> dict[str, str]:
    """``"SMB / New Business / Inbound"`` → ``{"segment": "SMB", ...}`` in dimension order."""
    parts = [p.strip() for p in text.split("/")]
    if len(parts) != len(dimensions) or not all(parts):
        raise InputError(
            f"cell {text!r} does not name one value per dimension",
            hint="write it as " + " / ".join(d.upper() for d in dimensions),
        )
    return dict(zip(dimensions, parts, strict=True))


def make_decision(request: DecideRequest, card: Scorecard, records: Records) -> StrategyDecision:
    """Build the decision from the scorecard and the overrides, and store it as a new version."""
    dims = parse_dimensions(request.by)
    if (request.pursue or request.do_not_compete) and not request.reason.strip():
        raise InputError("overriding the scorecard needs a reason", hint="pass --reason '…'")
    overrides: dict[str, tuple[dict[str, str], Decision]] = {}
    asked: list[tuple[str, Decision]] = [(c, "pursue") for c in request.pursue]
    asked += [(c, "do-not-compete") for c in request.do_not_compete]
    for text, decision in asked:
        cell = parse_cell(text, dims)
        key = cell_key(cell, dims)
        if key in overrides and overrides[key][1] != decision:
            raise InputError(f"cell {key!r} is both pursued and not competed in")
        overrides[key] = (cell, decision)

    decided: dict[str, CellDecision] = {}
    undecided: list[str] = []
    for c in card.cells:
        if c.key in overrides:
            continue
        cell = {d: str(getattr(c, d)) for d in dims}
        if not request.adopt or c.recommendation == "insufficient-evidence":
            undecided.append(c.key)
            continue
        decided[c.key] = CellDecision(
            key=c.key, cell=cell, decision=c.recommendation, reason=c.evidence, source="scorecard"
        )
    for key, (cell, decision) in overrides.items():
        scored = next((c for c in card.cells if c.key == key), None)
        said = f" The scorecard said {scored.recommendation}: {scored.evidence}" if scored else ""
        decided[key] = CellDecision(
            key=key,
            cell=cell,
            decision=decision,
            reason=request.reason.strip().rstrip(".") + "." + said,
            source="override",
        )

    payload = {
        "decided_on": card.as_of.isoformat(),
        "dimensions": list(dims),
        "lookback_months": request.lookback_months,
        "note": request.note,
        "rules": request.rules.model_dump(mode="json"),
        "cells": [d.model_dump(mode="json") for d in sorted(decided.values(), key=lambda d: d.key)],
        "undecided": sorted(undecided),
    }
    record = records.put(KIND, KEY, payload, author=request.author, status="active")
    return decision_of(record)


def decision_of(record: Record) -> StrategyDecision:
    p = record.payload
    cells = [CellDecision.model_validate(c) for c in p["cells"]]

    def of(kind: str) -> list[CellDecision]:
        return [c for c in cells if c.decision == kind]

    return StrategyDecision(
        version=record.version,
        author=record.author,
        decided_on=date.fromisoformat(p["decided_on"]),
        recorded_at=record.created_at,
        dimensions=list(p["dimensions"]),
        lookback_months=int(p["lookback_months"]),
        note=p.get("note", ""),
        pursue=of("pursue"),
        do_not_compete=of("do-not-compete"),
        deprioritise=of("deprioritise"),
        maintain=of("maintain"),
        undecided=list(p.get("undecided", [])),
    )


def show(records: Records, request: ShowRequest) -> StrategyView:
    """A version of the strategy (default the latest) and the list of all versions."""
    versions = records.history(KIND, KEY)
    if not versions:
        raise NotFoundError("no strategy has been decided yet", hint="run `saleslead strategy decide`")
    chosen = (
        versions[-1] if request.version is None else next((r for r in versions if r.version == request.version), None)
    )
    if chosen is None:
        raise NotFoundError(f"no strategy version {request.version}", hint=f"versions 1..{versions[-1].version}")
    summaries = [decision_of(r) for r in versions]
    return StrategyView(
        decision=decision_of(chosen),
        versions=[
            StrategyVersion(
                version=d.version,
                author=d.author,
                decided_on=d.decided_on,
                recorded_at=d.recorded_at,
                pursue=len(d.pursue),
                do_not_compete=len(d.do_not_compete),
            )
            for d in summaries
        ],
    )


def applicable(records: Records, as_of: date) -> StrategyDecision:
    """The strategy in force at the end of ``as_of``: the latest version decided on or before it."""
    in_force = [d for d in (decision_of(r) for r in records.history(KIND, KEY)) if d.decided_on <= as_of]
    if not in_force:
        raise NotFoundError(
            f"no strategy was decided on or before {as_of}", hint="run `saleslead strategy decide --as-of …` first"
        )
    return max(in_force, key=lambda d: (d.decided_on, d.version))
