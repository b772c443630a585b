"""What every page and endpoint of the web face shares: the app's settings, a seat per request, the
guards, the templates, and the pages in the navigation.

Each request opens the seat, calls one seat method and closes it: reads open the store read-only (many at
once, never waiting for a writer), writes open it to write, one at a time. Answers to reads are kept, keyed by
the method, the request, today's date and the state of the store file, so a write by any process (the
dashboard's own, a weekly ``run``, an ``ingest``, an MCP client) is seen by the next request.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.responses import Response

from saleslead.actions import ACTIONS
from saleslead.format import count, currency_symbol, money, pct
from saleslead.seat import Seat
from saleslead.settings import Settings
from saleslead.web.security import Guard

__all__ = [
    "PAGES",
    "Page",
    "ReadAccess",
    "SeatHolder",
    "WebConfig",
    "WriteAccess",
    "config_of",
    "may_read",
    "may_write",
    "render",
    "seat",
    "templates",
]


R = TypeVar("R")
T = TypeVar("T")
_KEPT = 64


class SeatHolder:
    """The app's seat, opened per request and closed after it: a read opens the store read-only (many at once,
    never waiting for a writer), a write opens it to write (one at a time); answers are kept per state of the
    store file, so a write by any process is seen by the next request."""

    def __init__(self, opener: Callable[[bool], Seat], location: str, settings: Settings | None = None) -> None:
        self._opener = opener
        self._location = location
        self.after_write: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._answers: OrderedDict[str, Any] = OrderedDict()
        #: the settings given to the app (None: the engagement's stored ones, read again when the store changes)
        self._fixed = settings
        self._settings: tuple[str, Settings] | None = None

    def settings(self) -> Settings:
        """The settings the seat computes with: given to the app, else the stored ones (``saleslead config set``
        by any process is seen by the next request: they are read again whenever the store file changed)."""
        if self._fixed is not None:
            return self._fixed
        with self._lock:
            kept = self._settings
            state = _state(self._location)
            if kept is not None and kept[0] == state:
                return kept[1]
            with self._open(True) as seat:
                self._settings = (state, seat.settings)
                return seat.settings

    @contextmanager
    def _open(self, read_only: bool) -> Iterator[Seat]:
        seat = self._opener(read_only)
        try:
            yield seat
        finally:
            seat.close()

    def today(self) -> date:
        """The seat's today (its clock)."""
        with self._open(True) as seat:
            return seat.today()

    def read(self, method: Callable[[Seat, R], T], request: R) -> T:
        """``seat.<method>(request)``, or the answer kept from the same call today on the same store state."""
        state = _state(self._location)  # before opening: an answer is never kept under a newer state than its own
        with self._open(True) as seat:
            body = request.model_dump_json() if isinstance(request, BaseModel) else repr(request)
            key = f"{method.__name__}|{seat.today()}|{state}|{body}"
            with self._lock:
                if key in self._answers:
                    self._answers.move_to_end(key)
                    kept: T = self._answers[key]
                    return kept
            answer = method(seat, request)
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > _KEPT:
                    self._answers.popitem(last=False)
            return answer

    def write(self, method: Callable[[Seat, R], T], request: R) -> T:
        """``seat.<method>(request)`` for a change: every kept answer is forgotten."""
        with self._writing:
            try:
                with self._open(False) as seat:
                    return method(seat, request)
            finally:
                with self._lock:
                    self._answers.clear()
                if self.after_write is not None:
                    self.after_write()

    def kept(self) -> list[str]:
        """The seat methods whose answers are kept (oldest first)."""
        with self._lock:
            return [key.split("|", 1)[0] for key in self._answers]

    def close(self) -> None:
        with self._lock:
            self._answers.clear()


def _state(location: str) -> str:
    """The store file's identity, size and change time (with its WAL's): a write by any process changes it
    (a writer renames its copy over the file)."""
    parts = []
    for path in (location, location + ".wal"):
        try:
            stat = os.stat(path)
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}")
    return "/".join(parts)


@dataclass(frozen=True)
class WebConfig:
    """One running dashboard: its store, its engagement (and only that one), clock, token digest; its settings."""

    store: str
    engagement: str
    clock: Callable[[], date] | None
    guard: Guard
    seat: SeatHolder

    @property
    def settings(self) -> Settings:
        """The settings in force (given to the app, else the engagement's stored ones, kept current)."""
        return self.seat.settings()


@dataclass(frozen=True)
class Page:
    """A page in the navigation, and the action of the action table it shows."""

    slug: str
    path: str
    title: str
    action: str

    @property
    def mandate(self) -> str:
        return next((a.mandate for a in ACTIONS if a.id == self.action), "")

    @property
    def landed(self) -> bool:
        """The page's action is in the action table (a page naming no action is not shown)."""
        return self.action in {a.id for a in ACTIONS}


PAGES: tuple[Page, ...] = (
    Page("status", "/", "Pipeline", "pipeline"),
    Page("call", "/call", "The call", "forecast"),
    Page("grid", "/grid", "The grid", "forecast_grid"),
    Page("deals", "/deals", "Deals", "deals"),
    Page("coverage", "/coverage", "Coverage", "coverage"),
    Page("waterfall", "/waterfall", "Waterfall", "waterfall"),
    Page("stalls", "/stalls", "Stalls", "stalls"),
    Page("accuracy", "/accuracy", "Accuracy", "forecast_accuracy"),
    Page("roster", "/roster", "Roster", "roster_show"),
    Page("strategy", "/strategy", "Strategy", "strategy_score"),
    Page("handoffs", "/handoffs", "Handoffs", "handoffs"),
)


def config_of(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config
    return config


def seat(request: Request) -> SeatHolder:
    """The engagement's seat (one at a time)."""
    return config_of(request).seat


def may_read(request: Request) -> None:
    config_of(request).guard.read(request)


def may_write(request: Request) -> None:
    config_of(request).guard.write(request)


ReadAccess = Depends(may_read)
WriteAccess = Depends(may_write)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


templates.env.filters["money"] = money
templates.env.filters["pct"] = pct
templates.env.filters["count"] = count


def render(request: Request, template: str, page: str, status_code: int = 200, **context: Any) -> Response:
    """A page: its template, the navigation, the engagement and the as-of date it shows."""
    config = config_of(request)
    return templates.TemplateResponse(
        request,
        template,
        {
            "pages": PAGES,
            "page": page,
            "engagement": config.engagement,
            "store_name": Path(config.store).name,
            "currency": currency_symbol(),
            **context,
        },
        status_code=status_code,
    )
