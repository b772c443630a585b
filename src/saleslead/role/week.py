"""What the weekly cadence passes around: the week, and what each mandate adapter returns.

An :class:`Adapter` names the seat method it needs; :class:`Outcome` is its briefing section, the call
(from the forecast), the flags it raises, the flag kinds it checked (open flags of those kinds it no
longer sees are resolved) and the handoffs it issues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from saleslead.briefing.weekly import CallLine, Section
from saleslead.periods import Period
from saleslead.role.flags import Severity
from saleslead.settings import Settings
from saleslead.status import StatusReport
from saleslead.store import Store

__all__ = ["Adapter", "FlagDraft", "HandoffDraft", "Outcome", "Week"]


@dataclass(frozen=True)
class Week:
    """What every adapter gets: the store, the as-of date, the quarter it sits in, the pipeline.

    ``writes`` is True in the weekly cadence (the seat's call, the roster plan are stored) and False
    when ``ask`` borrows an adapter to answer a question (nothing is stored).
    """

    store: Store
    settings: Settings
    as_of: date
    period: Period
    status: StatusReport
    writes: bool = True
    ingested: bool = False


@dataclass(frozen=True)
class FlagDraft:
    kind: str
    key: str
    severity: Severity
    message: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class HandoffDraft:
    boundary: str
    request: str
    key: str
    payload: dict[str, Any]


@dataclass
class Outcome:
    section: Section
    call: CallLine | None = None
    flags: list[FlagDraft] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)  # flag kinds this adapter evaluated (cleared if not raised)
    handoffs: list[HandoffDraft] = field(default_factory=list)


@dataclass(frozen=True)
class Adapter:
    """A mandate action the cadence, ``ask`` and the MCP server can run when the seat has its method."""

    action: str
    mandate: str
    method: str
    title: str
    read_only: bool
    brief: Callable[[Any, Week], Outcome]

    def available(self, seat: object) -> bool:
        return callable(getattr(seat, self.method, None))
