"""Bounded exponential backoff for rate-limited API calls (Salesforce REQUEST_LIMIT_EXCEEDED, HTTP 429)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from saleslead.errors import SourceError

__all__ = ["Backoff"]

T = TypeVar("T")


@dataclass
class Backoff:
    """Retry a call while the source says it is rate-limited: waits ``base``, 2×, 4× … up to ``cap``.

    ``limited(error)`` says whether an error is a rate limit, and how long the source asked to wait
    (``Retry-After``; 0 when it did not say). Any other error passes through at once. After
    ``attempts`` tries the last refusal becomes a :class:`SourceError`.
    """

    attempts: int = 6
    base: float = 1.0
    cap: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    #: waits taken so far (over every call made through this backoff)
    retries: int = 0
    waited: float = 0.0
    _log: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < self.base:
            raise ValueError("backoff needs attempts >= 1 and 0 <= base <= cap")

    def run(self, call: Callable[[], T], limited: Callable[[BaseException], float | None], what: str) -> T:
        for attempt in range(self.attempts):
            try:
                return call()
            except Exception as error:
                asked = limited(error)
                if asked is None:
                    raise
                if attempt == self.attempts - 1:
                    raise SourceError(
                        f"{what}: still rate-limited after {self.attempts} attempts ({error})",
                        hint="the org's API limit is spent; run the sync again later or raise the limit",
                    ) from error
                delay = min(self.cap, max(asked, self.base * 2**attempt))
                self.retries += 1
                self.waited += delay
                self._log.append(delay)
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def delays(self) -> tuple[float, ...]:
        """Every wait taken, in order (for reports and tests)."""
        return tuple(self._log)
