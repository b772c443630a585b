"""Who may read and who may write: the localhost bind, the write token, the host check, the page headers.

* Reads need no token from the machine itself (a loopback client); from anywhere else they need it too.
* Every write needs the token: ``Authorization: Bearer <token>`` (or ``X-Saleslead-Token``), never a
  query string, so it can appear in no access log and no URL.
* The token is made on first start, printed once by ``saleslead serve``, and kept with the seat as a
  SHA-256 digest in the engagement's records (kind ``web-token``) — the secret itself is stored
  nowhere, and each engagement has its own, so one engagement's token opens no other.
* Requests must name this server by a host it answers to (loopback names by default), which stops a
  web page elsewhere from reaching the seat through DNS rebinding.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from saleslead.errors import SalesLeadError
from saleslead.store.records import Records

__all__ = [
    "LOOPBACK_HOSTS",
    "TOKEN_KIND",
    "AccessDenied",
    "Guard",
    "digest",
    "ensure_token",
    "is_loopback",
    "new_token",
    "security_headers",
]

TOKEN_KIND = "web-token"
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
