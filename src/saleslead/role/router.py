"""Lanes: every request to the seat is routed in lane, out of lane, mixed, or unclear — no model needed.

The signals live in the role file. A signal is a few words; each word matches any word of the
request that *starts with* it (``reconcil`` matches reconcile, reconciling, reconciliation), and
``*`` stands for up to four words in between (``work * deal`` matches "work the Acme renewal deal").

Boundaries are read first and the words they cover are set aside, so "reconcile the quota plan to
the books" is a finance handoff even though "quota" alone would be in lane. Then the seat's own
actions are matched on the words left. A match inside a longer match of another action is dropped
("enough pipeline" asks for coverage, not for the pipeline table).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from saleslead.errors import InputError
from saleslead.role.schema import RoleDefinition

__all__ = ["LaneMatch", "Route", "Verdict", "route", "words"]

Verdict = Literal["in_lane", "out_of_lane", "mixed", "unclear"]

_WORD = re.compile(r"[a-z0-9&]+")
_GAP = 4


class LaneMatch(BaseModel):
    """One signal found in a request."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["action", "boundary"]
    id: str
    lane: str  # the mandate item of an action, the owner role of a boundary
    signal: str
    text: str
    start: int
    end: int


class Route(BaseModel):
    """Where a request goes: the verdict, the seat's actions it asks for, the boundaries it crosses."""

    model_config = ConfigDict(frozen=True)

    request: str
    verdict: Verdict
    actions: list[str]
    boundaries: list[str]
    owners: list[str]
    matches: list[LaneMatch]
    question: str | None = None


def words(text: str) -> list[str]:
    """The request as lower-case words (letters, digits and '&')."""
    return _WORD.findall(text.lower().replace("’", "'").replace("'", ""))


def _find(tokens: list[str], signal: list[str], blocked: set[int]) -> list[tuple[int, int]]:
    """Every (start, end) word span where ``signal`` matches, avoiding blocked words."""

    def extend(pos: int, k: int) -> int | None:
        if k == len(signal):
            return pos
        if signal[k] == "*":
            for skip in range(_GAP + 1):
                end = extend(pos + skip, k + 1)
                if end is not None and all(i not in blocked for i in range(pos, pos + skip)):
                    return end
            return None
        if pos < len(tokens) and pos not in blocked and tokens[pos].startswith(signal[k]):
            return extend(pos + 1, k + 1)
        return None

    spans = []
    for start in range(len(tokens)):
        end = extend(start, 0)
        if end is not None and end > start:
            spans.append((start, end))
    return spans


def _scan(
    tokens: list[str], kind: Literal["action", "boundary"], entries: list[tuple[str, str, list[str]]], blocked: set[int]
) -> list[LaneMatch]:
    found = []
    for entry_id, lane, signals in entries:
        for signal in signals:
            pattern = [w if w == "*" else "".join(words(w)) for w in signal.lower().split()]
            pattern = [w for w in pattern if w]
            if not pattern or pattern[0] == "*" or pattern[-1] == "*":
                continue
            for start, end in _find(tokens, pattern, blocked):
                found.append(
                    LaneMatch(
                        kind=kind,
                        id=entry_id,
                        lane=lane,
                        signal=signal,
                        text=" ".join(tokens[start:end]),
                        start=start,
                        end=end,
                    )
                )
    return found


def _outermost(matches: list[LaneMatch]) -> list[LaneMatch]:
    """Drop a match that sits strictly inside a longer match of a different entry."""
    kept = []
    for m in matches:
        inside = any(
            o.id != m.id and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
            for o in matches
        )
        if not inside:
            kept.append(m)
    return kept


def _ordered_ids(matches: list[LaneMatch]) -> list[str]:
    ids: list[str] = []
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if m.id not in ids:
            ids.append(m.id)
    return ids


def route(role: RoleDefinition, request: str = "", intent: str | None = None) -> Route:
    """Route a free-text request, or a typed intent (an action id or a boundary id), through the lanes."""
    if intent is not None:
        action_ids = [a.id for item in role.mandate for a in item.actions]
        if intent in action_ids:
            return Route(
                request=request or intent,
                verdict="in_lane",
                actions=[intent],
                boundaries=[],
                owners=[],
                matches=[],
            )
        for boundary in role.boundaries:
            if intent in (boundary.id, boundary.owner):
                return Route(
                    request=request or intent,
                    verdict="out_of_lane",
                    actions=[],
                    boundaries=[boundary.id],
                    owners=[boundary.owner],
                    matches=[],
                )
        known = ", ".join(action_ids + [b.id for b in role.boundaries])
        raise InputError(f"unknown intent {intent!r}", hint=f"one of: {known}")
    tokens = words(request)
    out = _outermost(_scan(tokens, "boundary", [(b.id, b.owner, b.signals) for b in role.boundaries], set()))
    blocked = {i for m in out for i in range(m.start, m.end)}
    entries = [(a.id, item.id, a.signals) for item in role.mandate for a in item.actions]
    inside = _outermost(_scan(tokens, "action", entries, blocked))
    boundaries = _ordered_ids(out)
    actions = _ordered_ids(inside)
    owners = [role.boundary(b).owner for b in boundaries]
    if actions and boundaries:
        verdict: Verdict = "mixed"
    elif boundaries:
        verdict = "out_of_lane"
    elif actions:
        verdict = "in_lane"
    else:
        verdict = "unclear"
    return Route(
        request=request,
        verdict=verdict,
        actions=actions,
        boundaries=boundaries,
        owners=owners,
        matches=sorted(out + inside, key=lambda m: (m.start, m.kind)),
        question=role.unclear_question if verdict == "unclear" else None,
    )
