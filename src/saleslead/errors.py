"""The one exception hierarchy of saleslead.

Every error the library raises on purpose derives from :class:`SalesLeadError`.
Faces (CLI, web, MCP) turn these into exit codes, HTTP statuses or tool results at
the edge, always through :func:`error_payload`, :func:`exit_code` and :func:`http_status`, so there is
one JSON error shape (a request that fails its model's validation — pydantic's ``ValidationError`` —
is an :class:`InputError` here: exit 2, HTTP 422, an MCP ``isError`` result)::

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

from collections.abc import Iterable, Mapping
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
    "as_error",
    "error_payload",
    "exit_code",
    "http_status",
    "invalid_request",
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


def invalid_request(problems: Iterable[Mapping[str, Any]], hint: str | None = None) -> InputError:
    """Validation problems (pydantic's ``errors()`` items: ``loc``, ``msg``) as one :class:`InputError`.

    The message names every field and what was wrong with it; ``column`` is the first field named.
    """
    lines = []
    column = None
    for item in problems:
        where = [str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")]
        column = column or (where[-1] if where else None)
        lines.append(f"{'.'.join(where) or 'request'}: {item.get('msg', 'invalid')}")
    return InputError("; ".join(lines) or "invalid request", column=column, hint=hint)


def as_error(error: BaseException) -> BaseException:
    """The error as the faces report it: a request's ``ValidationError`` becomes an :class:`InputError`."""
    from pydantic import ValidationError  # here, so importing the errors (and the package) stays light

    if isinstance(error, ValidationError):
        return invalid_request(error.errors(), hint=f"check the fields of {error.title}")
    return error


def error_payload(error: BaseException) -> dict[str, Any]:
    """The one JSON error shape used by every face."""
    error = as_error(error)
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
    """Exit code for the CLI: 2 for bad input or usage (a refused request included), 1 otherwise."""
    error = as_error(error)
    if isinstance(error, InputError | NotFoundError | OutOfLaneError):
        return 2
    return 1


def http_status(error: BaseException) -> int:
    """HTTP status for the web face."""
    error = as_error(error)
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, InputError):
        return 422
    if isinstance(error, InsufficientDataError):
        return 409
    if isinstance(error, SourceError):
        return 502
    return 500
