"""A view of the outbox for people: only some owners' or one segment's handoffs, in an order, the first N.

A handoff's deal (stalls hand each deal to its account executive) carries its owner and segment; a handoff
about a segment (a creation gap to the sales-development rep) carries the segment. Handoffs that name
neither are left out by an owner or segment filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from saleslead.role.handoffs import Handoff

__all__ = ["HandoffSort", "select_handoffs"]

HandoffSort = Literal["issued", "amount", "owner", "to_role", "status"]


def _field(h: Handoff, name: str) -> Any:
    deal = h.payload.get("deal")
    if isinstance(deal, dict) and deal.get(name) is not None:
        return deal.get(name)
    return h.payload.get(name)


def select_handoffs(
    handoffs: list[Handoff],
    owners: set[str] | None = None,
    segment: str | None = None,
    sort: str = "issued",
    limit: int | None = None,
) -> list[Handoff]:
    """The handoffs of ``owners`` (user ids) and ``segment``, ordered by ``sort``, the first ``limit``."""
    out = [h for h in handoffs if owners is None or _field(h, "owner_id") in owners]
    out = [h for h in out if segment is None or _field(h, "segment") == segment]
    keys: dict[str, Callable[[Handoff], tuple[Any, ...]]] = {
        "issued": lambda h: (h.sequence,),
        "amount": lambda h: (-float(_field(h, "amount") or 0.0), h.sequence),
        "owner": lambda h: (str(h.payload.get("owner_name") or _field(h, "owner_id") or "~"), h.sequence),
        "to_role": lambda h: (h.to_role, h.sequence),
        "status": lambda h: (h.status, h.sequence),
    }
    out.sort(key=keys[sort])
    return out[:limit] if limit else out
