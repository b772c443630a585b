"""The small index of fleet roles this seat knows by name: itself and the roles it hands work to.

The other roles are *external*: this package does not implement them, it only addresses handoffs to
them. Every boundary of the role file must name an owner listed here (checked when the role loads).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from saleslead.errors import NotFoundError

__all__ = ["LIBRARY", "LibraryRole", "library_role"]


class LibraryRole(BaseModel):
    """One role of the fleet, as far as this seat needs to know it."""

    model_config = ConfigDict(frozen=True)

    id: str
    domain: str
    summary: str
    external: bool
    receives: str


LIBRARY: tuple[LibraryRole, ...] = (
    LibraryRole(
        id="sales-lead",
        domain="sales",
        summary="This seat: strategy, pipeline targets, roster and the forecast call.",
        external=False,
        receives="requests about the number, the pipeline, the seats and where to compete",
    ),
    LibraryRole(
        id="account-executive",
        domain="sales",
        summary="Runs individual opportunities from discovery to signature.",
        external=True,
        receives="stalled or at-risk deals, with stage, days in stage, pushes and last activity",
    ),
    LibraryRole(
        id="sales-development-rep",
        domain="sales",
        summary="Prospects, qualifies leads and books first meetings.",
        external=True,
        receives="the weekly pipeline creation gap by segment",
    ),
    LibraryRole(
        id="finance-analyst",
        domain="finance",
        summary="Keeps the financial model and reconciles plans to the books.",
        external=True,
        receives="the quota and capacity plan, to reconcile",
    ),
)


def library_role(role_id: str) -> LibraryRole:
    """The library entry of a role, or NotFoundError."""
    for role in LIBRARY:
        if role.id == role_id:
            return role
    known = ", ".join(r.id for r in LIBRARY)
    raise NotFoundError(f"no role {role_id!r} in the fleet library", hint=f"known roles: {known}")
