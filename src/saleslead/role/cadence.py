"""The weekly cadence's mandate adapters: one small function per mandate action the seat can run.

Each adapter names the seat method it needs. When the seat has it, the cadence calls it with a
request built from the week's as-of date, and turns the result into a briefing section, the flags it
raises and the handoffs it issues. When the seat lacks it, the mandate is listed as missing: the
briefing never invents a number a mandate did not compute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from saleslead.briefing.render import money
from saleslead.briefing.weekly import CallLine, Section
from saleslead.funnel.state import state_as_of
from saleslead.periods import Period
from saleslead.role.flags import Severity
from saleslead.settings import Settings
from saleslead.status import StatusReport
from saleslead.store import Store
from saleslead.strategy.scorecard import Scorecard, ScoreRequest

__all__ = ["ADAPTERS", "Adapter", "FlagDraft", "HandoffDraft", "Outcome", "Week"]


@dataclass(frozen=True)
class Week:
    """What every adapter gets: the store, the as-of date, the quarter it sits in, the pipeline."""

    store: Store
    settings: Settings
    as_of: date
    period: Period
    status: StatusReport


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


# --- strategy --------------------------------------------------------------------------------------
def _strategy(seat: Any, week: Week) -> Outcome:
    card: Scorecard = seat.strategy_score(ScoreRequest(as_of=week.as_of))
    dims = card.dimensions
    skip = [c for c in card.cells if c.recommendation == "do-not-compete"]
    pursue = sorted((c for c in card.cells if c.recommendation == "pursue"), key=lambda c: -(c.velocity or 0.0))
    counts = ", ".join(f"{n} {k}" for k, n in card.recommendations.items() if n)
    lines = [f"{len(card.cells)} cells scored by {' × '.join(dims)} ({counts})."]
    if pursue:
        lines.append(
            "Pursue: " + "; ".join(f"**{c.key}** (velocity {money(c.velocity or 0.0)}/day)" for c in pursue[:3]) + "."
        )
    flags: list[FlagDraft] = []
    if skip:
        state = state_as_of(week.store, week.as_of)
        open_deals = state.filter(~state.is_closed)
        cells = open_deals.group_by(list(dims)).aggregate(deals=open_deals.count(), amount=open_deals.amount.sum())
        rows = cells.to_pyarrow().to_pylist()
        by_key = {" / ".join(str(r[d]) for d in dims): r for r in rows}
        for cell in skip:
            row = by_key.get(cell.key)
            if row and row["deals"]:
                flags.append(
                    FlagDraft(
                        kind="do-not-compete",
                        key=cell.key,
                        severity="warning",
                        message=(
                            f"{row['deals']} open deals ({money(float(row['amount'] or 0))}) sit in {cell.key}, "
                            "a cell we decided not to compete in"
                        ),
                        evidence={
                            "cell": cell.key,
                            "open_deals": row["deals"],
                            "open_amount": row["amount"],
                            "rules_fired": cell.rules_fired,
                            "evidence": cell.evidence,
                        },
                    )
                )
        lines.append("Do not compete: " + ", ".join(f"**{c.key}**" for c in skip) + ".")
    data = {
        "recommendations": card.recommendations,
        "pursue": [c.key for c in pursue],
        "do_not_compete": [c.key for c in skip],
    }
    return Outcome(
        section=Section(id="strategy", title="Where we compete", available=True, text="\n".join(lines), data=data),
        flags=flags,
        checked={"do-not-compete"},
    )


ADAPTERS: tuple[Adapter, ...] = (
    Adapter("strategy_score", "strategy", "strategy_score", "Where we compete", True, _strategy),
)
