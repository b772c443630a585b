"""The one exception hierarchy of saleslead.

Every error the library raises on purpose derives from :class:`SalesLeadError`.
Faces (CLI, web, MCP) turn these into exit codes, HTTP statuses or tool results at
the edge, always through :func:`error_payload`, so there is one JSON error shape::

    {"error": {"type", "message", "file", "line", "column", "hint"}}

Tree::

    SalesLeadError
    ├── InputError (also ValueError)      bad input: a file, a row, a column, an argument
    │   ├── SchemaError                   required columns missing, wrong types
    │   └── MappingError                  a mapping profile that cannot be applied
    ├── StoreError                        the store cannot be opened, migrated or written
    ├── SourceError                       a live source (CRM API, warehouse) refused or failed
    ├── NotFoundError (also LookupError)  a period, plan, call or handoff that does not exist
    ├── InsufficientDataError             too little history to compute an honest answer
    └── OutOfLaneError                    a request that belongs to another role (carries the handoff)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InputError",
    "InsufficientDataError",
    "MappingError",
    "NotFoundError",
    "OutOfLaneError",
    "SalesLeadError",
    "SchemaError",
    "SourceError",
    "StoreError",
    "error_payload",
    "exit_code",
    "http_status",
]


class SalesLeadError(Exception):
    """Root of every deliberate saleslead error.

    ``file``, ``line`` (1-based, counting the header as line 1) and ``column`` say where,
    when known; ``hint`` says what was expected or how to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class InputError(SalesLeadError, ValueError):
    """Input that cannot be accepted: a file, a row, a value, a command argument."""


class SchemaError(InputError):
    """A file lacks required columns or has a column of the wrong kind."""


class MappingError(InputError):
    """A mapping profile is malformed or does not fit the files it is applied to."""


class StoreError(SalesLeadError):
    """The store could not be opened, migrated or written."""


class SourceError(SalesLeadError):
    """A live source (a CRM's API, a warehouse) refused the request or failed: auth, limits, a failed job."""


class NotFoundError(SalesLeadError, LookupError):
    """Something asked for by name or id does not exist in the store."""


class InsufficientDataError(SalesLeadError):
    """There is too little history to compute an honest answer."""


class OutOfLaneError(SalesLeadError):
    """A request that belongs to another role. ``handoff`` carries the structured handoff."""

    def __init__(self, message: str, *, handoff: Any = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.handoff = handoff


def error_payload(error: BaseException) -> dict[str, Any]:
    """The one JSON error shape used by every face."""
    if isinstance(error, SalesLeadError):
        return {
            "error": {
                "type": type(error).__name__,
                "message": error.message,
                "file": error.file,
                "line": error.line,
                "column": error.column,
                "hint": error.hint,
            }
        }
    return {
        "error": {
            "type": type(error).__name__,
            "message": str(error),
            "file": None,
            "line": None,
            "column": None,
            "hint": None,
        }
    }


def exit_code(error: BaseException) -> int:
    """Exit code for the CLI: 2 for bad input or usage, 1 otherwise."""
    if isinstance(error, InputError | NotFoundError):
        return 2
    return 1


def http_status(error: BaseException) -> int:
    """HTTP status for the web face."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, InputError):
        return 422
    if isinstance(error, InsufficientDataError):
        return 409
    if isinstance(error, SourceError):
        return 502
    return 500
