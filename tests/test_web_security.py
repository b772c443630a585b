"""Who may read and write through the dashboard: the token, the host check, engagements kept apart."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from saleslead.role.desk import AskRequest
from saleslead.seat import open_seat
from saleslead.store.shelf import Shelf
from saleslead.web import create_app
from saleslead.web.security import TOKEN_KIND

from .conftest import DEMO_TODAY, copy_demo

TOKEN = "s3cret-token-for-tests"
LOCAL = ("127.0.0.1", 50200)


def make_client(
    store: Path, engagement: str = "default", token: str | None = TOKEN, client: tuple[str, int] = LOCAL
) -> TestClient:
    app = create_app(store, engagement, token, clock=lambda: DEMO_TODAY)
    return TestClient(app, base_url="http://127.0.0.1", client=client, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def store(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store with one handoff to the AE in engagement ``acme`` and none in ``globex``."""
    path = copy_demo(demo_store_file, demo_shelf, tmp_path_factory.mktemp("web-security") / "demo.duckdb")
    with open_seat(path, engagement="acme") as seat:
        seat.ask(AskRequest(text="Please follow up with the customer on our biggest deal", as_of=DEMO_TODAY))
    return path


@pytest.fixture(scope="module")
def acme(store: Path) -> Iterator[TestClient]:
    with make_client(store, "acme") as c:
        yield c


def handoff_id(client: TestClient) -> str:
    return str(client.get("/api/handoffs").json()["handoffs"][0]["id"])


def test_a_write_without_the_token_is_refused_and_changes_nothing(acme: TestClient) -> None:
    hid = handoff_id(acme)
    body = {"id": hid, "status": "acknowledged", "by": "test"}
    missing = acme.post("/api/handoffs/update", json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "AccessDenied"
    assert "Authorization: Bearer" in missing.json()["error"]["hint"]
    wrong = acme.post("/api/handoffs/update", json=body, headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 403
    in_query = acme.post("/api/handoffs/update", params={"token": TOKEN}, json=body)
    assert in_query.status_code == 401, "a token in the URL would end up in access logs: never accepted"
    assert acme.get("/api/handoffs").json()["handoffs"][0]["status"] == "open"
    ok = acme.post("/api/handoffs/update", json=body, headers={"X-Saleslead-Token": TOKEN})
    assert ok.status_code == 200
    assert ok.json()["status"] == "acknowledged"
    assert acme.get("/api/handoffs").json()["handoffs"][0]["status"] == "acknowledged"  # no stale answer kept
    back = acme.post(
        "/api/handoffs/update", json={**body, "status": "open"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert back.status_code == 422
    assert back.json()["error"]["type"] == "InputError"


def test_every_write_endpoint_needs_the_token(acme: TestClient) -> None:
    spec = acme.get("/openapi.json").json()
    writes = [path for path, item in spec["paths"].items() if "post" in item]
    assert len(writes) >= 3
    for path in writes:
        response = acme.post(path, json={})
        assert response.status_code == 401, path
        assert set(response.json()["error"]) == {"type", "message", "file", "line", "column", "hint"}


def test_reads_from_another_machine_need_the_token(store: Path) -> None:
    with make_client(store, "acme", client=("192.168.1.20", 40000)) as remote:
        assert remote.get("/api/handoffs").status_code == 401
        assert remote.get("/handoffs", headers={"accept": "text/html"}).status_code == 401
        assert remote.get("/api/handoffs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with make_client(store, "acme", client=("::1", 40000)) as local_v6:
        assert local_v6.get("/api/handoffs").status_code == 200


def test_only_the_hosts_it_answers_to(acme: TestClient) -> None:
    rebound = acme.get("/api/handoffs", headers={"host": "evil.example:8765"})
    assert rebound.status_code == 400
    assert rebound.json()["error"]["type"] == "AccessDenied"
    assert acme.get("/api/handoffs", headers={"host": "localhost:8765"}).status_code == 200


def test_the_token_is_made_once_stored_as_a_digest_and_never_shown(tmp_path: Path, store: Path) -> None:
    path = tmp_path / "fresh.duckdb"
    shutil.copy(store, path)
    first = create_app(path, "initech")
    token = first.state.new_token
    assert isinstance(token, str)
    assert len(token) >= 40
    again = create_app(path, "initech")
    assert again.state.new_token is None, "printed once: a second start makes no new token"
    with open_seat(path, engagement="initech") as seat:
        kept = seat.records.current(TOKEN_KIND)
    assert [r.payload for r in kept] == [{"sha256": hashlib.sha256(token.encode()).hexdigest()}]
    with TestClient(again, base_url="http://127.0.0.1", client=LOCAL) as c:
        pages = [c.get(p, headers={"accept": "text/html"}).text for p in ("/", "/handoffs", "/strategy")]
        api = [c.get(p).text for p in ("/api/handoffs", "/openapi.json")]
        assert (
            c.post("/api/strategy/decide", json={"author": "x"}, headers={"Authorization": "Bearer x"}).status_code
            == 403
        )
        refused = c.post("/api/strategy/decide", json={"author": ""}, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 422  # the token opened the door; the request itself was bad
    digest = hashlib.sha256(token.encode()).hexdigest()
    for text in pages + api:
        assert token not in text
        assert digest not in text
    rotated = create_app(path, "initech", new_token=True).state.new_token
    assert rotated
    assert rotated != token
    with TestClient(create_app(path, "initech"), base_url="http://127.0.0.1", client=LOCAL) as c:
        old = c.post("/api/strategy/decide", json={"author": ""}, headers={"Authorization": f"Bearer {token}"})
        assert old.status_code == 403


def test_engagements_are_kept_apart(store: Path) -> None:
    with make_client(store, "globex", token="globex-token") as globex:
        assert globex.get("/api/handoffs").json() == {"engagement": "globex", "handoffs": []}
        html = globex.get("/handoffs", headers={"accept": "text/html"}).text
        assert "globex" in html
        assert "acme" not in html
        acme_write = globex.post(
            "/api/strategy/decide", json={"author": "x"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert acme_write.status_code == 403, "acme's token opens nothing in globex"
    with make_client(store, "acme") as acme:
        assert acme.get("/api/handoffs").json()["engagement"] == "acme"
        assert len(acme.get("/api/handoffs").json()["handoffs"]) == 1


def test_every_response_carries_the_protective_headers(acme: TestClient) -> None:
    for path in ("/", "/api/handoffs", "/api/nothing", "/static/saleslead.css"):
        headers = acme.get(path, headers={"accept": "text/html"}).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    page = acme.get("/", headers={"accept": "text/html"}).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "no inline script: the policy forbids it"
