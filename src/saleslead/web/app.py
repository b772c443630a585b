"""The web face of the seat: ``create_app`` builds the FastAPI app behind ``saleslead serve``.

Pages (Jinja2 + Plotly, drawn in the browser) and a JSON API under ``/api`` that returns exactly what
the CLI prints under ``--json``; the OpenAPI description is at ``/openapi.json``. Every failure, on a
page or an endpoint, comes out in the one error shape of :func:`saleslead.errors.error_payload`. The
app serves one engagement; who may read and write is settled in :mod:`saleslead.web.security`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from saleslead.errors import InputError, NotFoundError, SalesLeadError, error_payload, http_status, invalid_request
from saleslead.format import currency_of
from saleslead.seat import Seat, open_seat
from saleslead.settings import Settings
from saleslead.store import resolve_location
from saleslead.version import __version__
from saleslead.web.context import PAGES, SeatHolder, WebConfig, render
from saleslead.web.routes import ROUTERS
from saleslead.web.security import LOOPBACK_HOSTS, AccessDenied, Guard, Hardened, ensure_token, security_headers

__all__ = ["PLOTLY_JS", "create_app"]

#: plotly.js as the installed ``plotly`` package ships it: the dashboard never loads it from a CDN.
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_STATIC = Path(__file__).parent / "static"
Next = Callable[[Request], Awaitable[Response]]


def _status_of(error: BaseException) -> int:
    if isinstance(error, AccessDenied):
        return error.status
    return http_status(error)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json" or request.method != "GET":
        return True
    return "text/html" not in request.headers.get("accept", "")


def _respond(request: Request, error: BaseException, status: int) -> Response:
    payload = error_payload(error)
    if _wants_json(request):
        return JSONResponse(payload, status_code=status)
    return render(request, "error.html", page="", status_code=status, error=payload["error"], status=status)


def _http_error(error: StarletteHTTPException) -> SalesLeadError:
    if error.status_code == 404:
        return NotFoundError("no such page or endpoint", hint="pages are in the navigation; the API in /openapi.json")
    if error.status_code == 405:
        return InputError("method not allowed here", hint="see /openapi.json")
    return SalesLeadError(str(error.detail))


def _warm(app: FastAPI) -> None:
    """Ask for every page once, in the background, so the first visitor gets kept answers."""
    from starlette.testclient import TestClient

    done: threading.Event = app.state.warmed
    done.clear()

    def run() -> None:
        client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 0), raise_server_exceptions=False)
        for page in PAGES:
            if page.landed:
                client.get(page.path, headers={"accept": "text/html"})
        done.set()

    threading.Thread(target=run, name="saleslead-warm", daemon=True).start()


def create_app(
    store_path: str | Path | None = None,
    engagement: str = "default",
    token: str | None = None,
    *,
    settings: Settings | None = None,
    clock: Callable[[], date] | None = None,
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS,
    new_token: bool = False,
    warm: bool = False,
) -> FastAPI:
    """The dashboard over one store and one engagement.

    ``token`` sets the write token; without it the engagement's stored token is used, and on first
    start (or with ``new_token``) one is made — it is on ``app.state.new_token`` for the caller to
    show once. ``allowed_hosts`` are the names the server answers to (the Host header). ``warm``: once
    started, and after every write, compute every page's default answer in the background
    (``app.state.warmed`` is set when done).
    """
    location = resolve_location(store_path)
    with open_seat(location, settings=settings, engagement=engagement) as seat:
        token_sha256, fresh = ensure_token(seat.records, token, rotate=new_token)
    holder = _seat_holder(location, engagement, settings, clock)
    app = FastAPI(
        title="saleslead",
        lifespan=_lifespan(holder, warm),
        version=__version__,
        summary="The sales-lead seat's dashboard and JSON API (the same JSON as the CLI's --json).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = WebConfig(
        store=location, engagement=engagement, clock=clock, guard=Guard(token_sha256), seat=holder
    )
    app.state.new_token = fresh
    app.state.warmed = threading.Event()
    _guard_hosts_and_headers(app, {h.lower() for h in allowed_hosts}, holder)
    app.add_middleware(Hardened)  # headers on 5xx too, body size cap, out-of-range query values → 422
    _answer_errors(app)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app


def _seat_holder(
    location: str, engagement: str, settings: Settings | None, clock: Callable[[], date] | None
) -> SeatHolder:
    """The app's seat: opened per request with the settings given, else the engagement's stored ones as they
    are now (``saleslead config set``), on the clock given."""

    def opener(read_only: bool) -> Seat:
        opened = open_seat(location, settings=settings, engagement=engagement, read_only=read_only)
        if clock is not None:
            opened.clock = clock
        return opened

    return SeatHolder(opener, location, settings)


def _lifespan(holder: SeatHolder, warm: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Warm the pages on start and after every write (when asked); close the seat on shutdown."""

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        if warm:
            holder.after_write = lambda: _warm(started)
            _warm(started)
        yield
        holder.after_write = None
        holder.close()

    return lifespan


def _guard_hosts_and_headers(app: FastAPI, hosts: set[str], holder: SeatHolder) -> None:
    """Refuse a Host the server does not answer to (400); answer the rest in the engagement's currency; add the
    security headers (static files may be cached for a day)."""

    @app.middleware("http")
    async def guard_hosts_and_headers(request: Request, call_next: Next) -> Response:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if "*" not in hosts and name.lower() not in hosts:
            error = AccessDenied(f"this server does not answer to the host {name!r}", status=400)
            response: Response = JSONResponse(error_payload(error), status_code=400)
        else:
            in_force = await run_in_threadpool(holder.settings)
            with currency_of(in_force.currency):  # pages, charts and words write amounts in it
                response = await call_next(request)
        for key, value in security_headers().items():
            if key == "Cache-Control" and request.url.path.startswith("/static/"):
                value = "public, max-age=86400"
            response.headers.setdefault(key, value)
        return response


def _answer_errors(app: FastAPI) -> None:
    """Every failure, on a page or an endpoint, answered in the one error shape."""

    @app.exception_handler(SalesLeadError)
    async def _seat_error(request: Request, error: SalesLeadError) -> Response:
        return _respond(request, error, _status_of(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        return _respond(request, invalid_request(error.errors(), hint="see /openapi.json"), 422)

    @app.exception_handler(ValidationError)
    async def _invalid_request(request: Request, error: ValidationError) -> Response:
        return _respond(request, error, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        return _respond(request, _http_error(error), error.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        return _respond(request, error, 500)
