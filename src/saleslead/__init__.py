"""saleslead: the sales-lead seat of an agent fleet.

``saleslead.Seat`` and ``saleslead.open_seat`` are the facade; they load on first use, so importing the
package (e.g. for its errors) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from saleslead.errors import (
    InputError,
    InsufficientDataError,
    MappingError,
    NotFoundError,
    OutOfLaneError,
    SalesLeadError,
    SchemaError,
    StoreError,
)
from saleslead.periods import Period
from saleslead.version import __version__

if TYPE_CHECKING:
    from saleslead.seat import Seat, open_seat

__all__ = [
    "InputError",
    "InsufficientDataError",
    "MappingError",
    "NotFoundError",
    "OutOfLaneError",
    "Period",
    "SalesLeadError",
    "SchemaError",
    "Seat",
    "StoreError",
    "__version__",
    "open_seat",
]


def __getattr__(name: str) -> Any:
    """``Seat`` and ``open_seat``, imported when first asked for (PEP 562)."""
    if name in ("Seat", "open_seat"):
        from saleslead import seat

        return {"Seat": seat.Seat, "open_seat": seat.open_seat}[name]
    raise AttributeError(f"module 'saleslead' has no attribute {name!r}")
