"""Who may read and who may write: the localhost bind, the write token, the host check, the page headers.

* Reads need no token from the machine itself (a loopback client); from anywhere else they need it too.
* Every write needs the token: ``Authorization: Bearer <token>`` (or ``X-Saleslead-Token``), never a
  query string, so it can appear in no access log and no URL.
* The token is made on first start, printed once by ``saleslead serve``, and kept with the seat as a
  SHA-256 digest in the engagement's records (kind ``web.token``) — the secret itself is stored
  nowhere, and each engagement has its own, so one engagement's token opens no other.
* Requests must name this server by a host it answers to (loopback names by default), which stops a
  web page elsewhere from reaching the seat through DNS rebinding.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from saleslead.errors import InputError, SalesLeadError, error_payload
from saleslead.periods import DAY_WINDOW
from saleslead.store.records import Records

__all__ = [
    "LOOPBACK_HOSTS",
    "MAX_BODY_BYTES",
    "TOKEN_KIND",
    "AccessDenied",
    "Guard",
    "Hardened",
    "digest",
    "ensure_token",
    "is_loopback",
    "new_token",
    "security_headers",
]

TOKEN_KIND = "web.token"
_TOKEN_KEY = "write"
_AUTHOR = "saleslead serve"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class AccessDenied(SalesLeadError):
    """A request without the token it needs (401), or with a wrong one (403)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def ensure_token(records: Records, token: str | None = None, *, rotate: bool = False) -> tuple[str, str | None]:
    """The digest of the engagement's write token, and the token itself when it was just made.

    ``token`` given: it becomes the token (its digest is stored when it differs). None stored yet, or
    ``rotate``: a new one is made and stored, and returned so the caller can show it once.
    """
    stored = records.latest(TOKEN_KIND, _TOKEN_KEY)
    if token is not None:
        wanted = digest(token)
        if stored is None or stored.payload.get("sha256") != wanted:
            records.put(TOKEN_KIND, _TOKEN_KEY, {"sha256": wanted}, author=_AUTHOR)
        return wanted, None
    if stored is not None and not rotate:
        return str(stored.payload["sha256"]), None
    fresh = new_token()
    records.put(TOKEN_KIND, _TOKEN_KEY, {"sha256": digest(fresh)}, author=_AUTHOR)
    return digest(fresh), fresh


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-saleslead-token") or None


@dataclass(frozen=True)
class Guard:
    """Checks one request against the engagement's token digest."""

    token_sha256: str

    def _check(self, request: Request, what: str) -> None:
        token = _presented(request)
        if token is None:
            raise AccessDenied(
                f"{what} needs the write token",
                status=401,
                hint="send it as 'Authorization: Bearer <token>' (printed once by `saleslead serve`; "
                "`saleslead serve --new-token` makes another)",
            )
        if not hmac.compare_digest(digest(token), self.token_sha256):
            raise AccessDenied(f"{what}: the token is not this engagement's", status=403)

    def read(self, request: Request) -> None:
        """Reads: free from this machine, token-protected from any other."""
        client = request.client.host if request.client else None
        if not is_loopback(client):
            self._check(request, "reading from another machine")

    def write(self, request: Request) -> None:
        """Writes: always the token."""
        self._check(request, "a write")


def security_headers() -> dict[str, str]:
    """Headers on every response: no framing, no sniffing, no referrer, scripts only from this server."""
    policy = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # plotly.js sets styles on the elements it draws
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


#: Request bodies above this are refused (413) before they are read whole: every write the API takes is small.
MAX_BODY_BYTES = 1_000_000
#: Numbers a query may carry: finite, and no larger than any money the store holds.
_MAX_NUMBER = 1e15
_DATE_PARAMS = ("as_of", "start", "end", "since", "day")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$", re.IGNORECASE)
_YEAR = re.compile(r"(\d{4})")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_log = logging.getLogger("saleslead.web")


class _TooLarge(Exception):
    pass


def check_query(query: str) -> None:
    """Refuse query values no answer can be computed for: dates and periods outside the window, numbers not finite."""
    low, high = DAY_WINDOW
    for key, value in parse_qsl(query, keep_blank_values=False):
        text = value.strip()
        if key in _DATE_PARAMS:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                continue  # not a date at all: the route's own validation says so, in the same shape
            if not low <= day <= high:
                raise InputError(
                    f"{key} {text} is out of range", column=key, hint=f"expected a date from {low} to {high}"
                )
        elif key == "period" and (year := _YEAR.search(text)) is not None:
            if not low.year < int(year.group(1)) < high.year:
                raise InputError(
                    f"the period {text!r} is out of range",
                    column=key,
                    hint=f"expected a year after {low.year} and before {high.year}",
                )
        elif _NUMBER.match(text):
            number = float(text)
            if not math.isfinite(number) or abs(number) > _MAX_NUMBER:
                raise InputError(
                    f"{key} {text} is out of range",
                    column=key,
                    hint=f"expected a finite number of at most {_MAX_NUMBER:g} in size",
                )


class Hardened:
    """ASGI middleware: the security headers on every response (errors and 5xx included), a cap on request
    bodies, and query values out of any sane range refused as 422 in the one error shape.

    An exception escaping the app is answered here through the app's own ``Exception`` handler (so the
    error page or JSON is the usual one) with the headers added, and logged; it does not travel further.
    """

    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reply = _WithHeaders(send)
        if await self._refused_early(scope, reply):
            return
        try:
            await self.app(scope, _CappedBody(receive, self.max_body), reply)
        except _TooLarge:
            if not reply.started:
                await _too_large(reply, self.max_body)
        except Exception as error:
            _log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if reply.started:
                raise
            await self._unexpected(scope, receive, reply, error)

    async def _refused_early(self, scope: Scope, send: Send) -> bool:
        """Answer, before the app sees it, a request whose query is out of range (422) or whose declared
        body is over the cap (413); True when it was answered."""
        try:
            check_query(scope.get("query_string", b"").decode("latin-1"))
        except InputError as error:
            await _json(send, 422, error_payload(error))
            return True
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _too_large(send, self.max_body)
            return True
        return False

    async def _unexpected(self, scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
        app = scope.get("app")
        handler = getattr(app, "exception_handlers", {}).get(Exception) if app is not None else None
        if handler is None:
            await _json(send, 500, error_payload(error))
            return
        response = await handler(Request(scope, receive), error)
        await response(scope, receive, send)


class _WithHeaders:
    """The ASGI ``send`` with the security headers added to the response's start (headers the app set win);
    it remembers whether the response has started, after which no other answer can be given."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._headers = [(k.lower().encode(), v.encode()) for k, v in security_headers().items()]
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            present = {name.lower() for name, _ in message.get("headers", [])}
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], *((k, v) for k, v in self._headers if k not in present)]
        await self._send(message)


class _CappedBody:
    """The ASGI ``receive`` counting the body's bytes; past the cap it raises :class:`_TooLarge`."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._seen = 0

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                raise _TooLarge
        return message


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send, limit: int) -> None:
    error = InputError(
        f"the request body is larger than {limit:,} bytes",
        hint="send a smaller body: every write the API takes is a small JSON object",
    )
    await _json(send, 413, error_payload(error))
