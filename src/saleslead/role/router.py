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
from saleslead.role.intent import Entry, IntentIndex, Nearest
from saleslead.role.schema import RoleDefinition

__all__ = ["LaneMatch", "Route", "Verdict", "route", "words"]

Verdict = Literal["in_lane", "out_of_lane", "mixed", "unclear"]

_WORD = re.compile(r"[a-z0-9&]+")
_GAP = 4
#: what one signal found adds to its entry's similarity, per extra word, and at most
_SIGNAL, _PER_WORD, _SIGNAL_CAP = 0.15, 0.05, 0.35
#: how hard a signal shared by many entries is discounted
_SHARPNESS = 2.0
#: how far an action must outscore a boundary whose signal was found to keep the request in lane
_OVERRULE = 0.25
#: a further action answered beside the best one scores at least this share of it
_KEEP = 0.9
#: how far a boundary with no signal found must outscore the best action to be handed over anyway
_UNSAID = 0.05
#: where one request holds several asks: sentence ends, semicolons, and "and" before a new request
_CLAUSE = re.compile(
    r"[.?!;]+\s+|[.?!;]+$|,\s*(?:and|also|then|plus)\s+|\s+(?:and|also|then|plus)\s+(?=(?:please|pls|can|could|would|will)\b)",
    re.IGNORECASE,
)  # fmt: skip


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


_INDEXES: dict[int, tuple[RoleDefinition, IntentIndex]] = {}


def intent_index(role: RoleDefinition) -> IntentIndex:
    """The nearest-example index of a role's actions and boundaries (built once per role object)."""
    cached = _INDEXES.get(id(role))
    if cached is None or cached[0] is not role:
        entries = [
            Entry("action", a.id, item.id, (*a.examples, *a.signals)) for item in role.mandate for a in item.actions
        ] + [Entry("boundary", b.id, b.owner, (*b.examples, *b.signals)) for b in role.boundaries]
        cached = (role, IntentIndex(entries))
        _INDEXES[id(role)] = cached
    return cached[1]


def _nearest_match(tokens: list[str], span: tuple[int, int], nearest: Nearest) -> LaneMatch:
    entry = nearest.entry
    return LaneMatch(
        kind=entry.kind,
        id=entry.id,
        lane=entry.lane,
        signal=f"nearest example (similarity {nearest.score:.2f}, ahead by {nearest.margin:.2f})",
        text=" ".join(tokens[span[0] : span[1]]),
        start=span[0],
        end=span[1],
    )


def clauses(request: str) -> list[str]:
    """The request's parts: sentences, and clauses joined by "and please", "and can you", "; " and the like."""
    parts = [p.strip(" ,") for p in _CLAUSE.split(request)]
    return [p for p in parts if words(p)]


def _signals(role: RoleDefinition, tokens: list[str], offset: int) -> tuple[list[LaneMatch], list[LaneMatch]]:
    """The boundary and action signals found in a clause (boundaries first; their words set aside)."""
    out = _outermost(_scan(tokens, "boundary", [(b.id, b.owner, b.signals) for b in role.boundaries], set()))
    blocked = {i for m in out for i in range(m.start, m.end)}
    entries = [(a.id, item.id, a.signals) for item in role.mandate for a in item.actions]
    inside = _outermost(_scan(tokens, "action", entries, blocked))
    shift = {"start": offset, "end": offset}
    return (
        [m.model_copy(update={k: getattr(m, k) + v for k, v in shift.items()}) for m in out],
        [m.model_copy(update={k: getattr(m, k) + v for k, v in shift.items()}) for m in inside],
    )


def _bonus(index: IntentIndex, matches: list[LaneMatch]) -> dict[str, float]:
    """Evidence a signal adds to its entry: more for a longer phrase and for words few entries use, capped."""
    bonus: dict[str, float] = {}
    for m in matches:
        weight = (_SIGNAL + _PER_WORD * (m.end - m.start - 1)) * index.specificity(m.text) ** _SHARPNESS
        bonus[m.id] = min(bonus.get(m.id, 0.0) + weight, _SIGNAL_CAP)
    return bonus


def _weigh(
    role: RoleDefinition, clause: str, tokens: list[str], span: tuple[int, int], out: list[LaneMatch],
    inside: list[LaneMatch],
) -> tuple[list[LaneMatch], list[LaneMatch]]:  # fmt: skip
    """Settle one clause's lane from the signals found in it and its nearest examples together.

    Each entry scores its similarity to the clause plus a bonus for each of its signals found. With
    signals of both kinds, the side that outscores the other by a clear margin takes the clause (an
    action's side: it asks for our view of that work, "what is sitting too long in negotiation"; a
    boundary's: "reconcile quota attainment to the books"); otherwise both stay (mixed). The best
    action leads the in-lane answer. With no signal at all, the nearest entry is taken when it is
    near enough and clearly ahead.
    """
    index = intent_index(role)
    if not out and not inside:
        nearest = index.nearest(clause)
        if nearest is None:
            return [], []
        match = _nearest_match(tokens, span, nearest)
        return ([match], []) if nearest.entry.kind == "boundary" else ([], [match])
    similarity = {e.id: score for e, score in index.scores(clause)}
    bonus = _bonus(index, out + inside)
    total = {i: similarity.get(i, 0.0) + bonus.get(i, 0.0) for i in similarity}
    action = max((a.id for item in role.mandate for a in item.actions), key=lambda i: total[i])
    boundary = max((b.id for b in role.boundaries), key=lambda i: total[i])
    said_action = any(m.id == action for m in inside)
    said_boundary = any(m.id == boundary for m in out)
    if out and total[action] > total[boundary] + _OVERRULE:
        out = []
    elif inside and total[boundary] > total[action] + _OVERRULE:
        inside = []
    if not out and total[boundary] > total[action] + (_OVERRULE if said_action else _UNSAID):
        margin = total[boundary] - total[action]
        return [_nearest_match(tokens, span, Nearest(index.entry(boundary), total[boundary], margin))], []
    if not inside:
        return out, []
    lead = [m for m in inside if m.id == action]
    if not lead and not said_boundary:
        lead = [_nearest_match(tokens, span, Nearest(index.entry(action), total[action], 0.0))]
    rest = [m for m in inside if m.id != action and total[m.id] >= _KEEP * total[action]]
    return out, lead + rest


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
    out: list[LaneMatch] = []
    inside: list[LaneMatch] = []
    start = 0
    for clause in clauses(request):
        part = words(clause)
        span = (start, start + len(part))
        found_out, found_in = _signals(role, part, start)
        settled_out, settled_in = _weigh(role, clause, tokens, span, found_out, found_in)
        out += settled_out
        inside += settled_in
        start = span[1]
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
