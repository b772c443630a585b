"""Safe output: HTML escapes data and carries a CSP, CSV cells never start a formula, JSON never holds NaN;
and the web's edges: out-of-range values are 422s in the one error shape, headers on every response (5xx
included), bodies above the limit refused."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from saleslead.briefing.html import briefing_html
from saleslead.role.desk import RunRequest
from saleslead.roster.finance import FINANCE_COLUMNS, FinanceRow, rows_to_csv
from saleslead.seat import open_seat
from saleslead.store.shelf import Shelf
from saleslead.web import create_app
from saleslead.web.security import MAX_BODY_BYTES

from .conftest import DEMO_TODAY, DEMO_WEEK, share_demo_fits

pytestmark = DEMO_WEEK  # its briefing reads the week's models: fitted once with the cadence files

TOKEN = "harden-token"
HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def store(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store with every deal and account named like a script (the demo's fitted models shared: they read
    no names; every answer computed afresh)."""
    path = tmp_path_factory.mktemp("harden-output") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE opportunities SET name = ?", [SCRIPT])
    con.execute("UPDATE users SET name = '=HYPERLINK(\"http://x\")' WHERE user_id IN (SELECT min(user_id) FROM users)")
    con.close()
    share_demo_fits(path, demo_shelf)
    return path


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    app = create_app(store, token=TOKEN, clock=lambda: DEMO_TODAY)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 1), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.slow
def test_briefing_html_escapes_names_and_runs_only_its_own_scripts(
    store: Path, demo_shelf: Shelf, tmp_path: Path
) -> None:
    copy = tmp_path / "s.duckdb"
    shutil.copy(store, copy)
    share_demo_fits(copy, demo_shelf)
    with open_seat(copy) as seat:
        seat.clock = lambda: DEMO_TODAY
        briefing = seat.run(RunRequest(as_of=DEMO_TODAY))
    page = briefing_html(briefing)
    assert SCRIPT not in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src &#x27;none&#x27;" in policy.group(1)
    scripts = re.findall(r"<script[^>]*>", page)
    hashes = re.findall(r"sha256-", policy.group(1))
    assert len(hashes) == len(scripts) > 0  # every script the page holds is allowed by hash, nothing else


def test_markdown_html_in_the_text_is_shown_not_run() -> None:
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).render(f"deal {SCRIPT}")
    assert "<script>" not in rendered
    assert "&lt;script&gt;" in rendered


def test_finance_csv_neutralises_formula_prefixes() -> None:
    base = {c: None for c in FINANCE_COLUMNS} | {"month": "2027-01", "quarter": "2027-Q1", "seat_id": "s1"}
    base |= {"segment": "SMB", "role": "AE", "status": "active", "tenure_month": 3}
    base |= {"ramp_factor": 1.0, "presence": 1.0, "quota": 1.0, "expected_bookings": -5.0, "cost": 1.0}
    names = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "Ann"]
    rows = [FinanceRow.model_validate(base | {"name": name}) for name in names]
    read = list(csv.DictReader(io.StringIO(rows_to_csv(rows), newline="")))
    assert [r["name"] for r in read] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\nx", "Ann"]
    assert {r["expected_bookings"] for r in read} == {"-5.0"}  # numbers stay numbers


def test_infinity_posted_as_a_call_is_refused_and_never_stored(client: TestClient) -> None:
    before = client.get("/api/calls")
    assert before.status_code == 200
    body = '{"node": "total", "period": "2026-Q4", "amount": Infinity, "category": "commit"}'
    posted = client.post(
        "/api/calls",
        content=body,
        headers={"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
    )
    assert posted.status_code == 422, posted.text
    assert posted.json()["error"]["type"] == "InputError"
    after = client.get("/api/calls")
    assert after.status_code == 200
    assert after.json() == before.json()
    assert "Infinity" not in after.text
    assert "NaN" not in after.text


OUT_OF_RANGE = [
    ("/api/status", {"as_of": "9999-12-31"}, "as_of"),
    ("/api/stalls", {"as_of": "0001-01-01"}, "as_of"),
    ("/api/forecast", {"period": "9999-Q4"}, "period"),
    ("/api/coverage", {"goal": "1e309"}, "goal"),
    ("/api/coverage", {"goal": "nan"}, "goal"),
    ("/api/roster/plan", {"goal": "1e300"}, "goal"),
    ("/api/waterfall", {"end": "9999-12-31"}, "end"),
    ("/coverage", {"period": "0001-Q1"}, "period"),
]


@pytest.mark.parametrize(("path", "params", "column"), OUT_OF_RANGE)
def test_out_of_range_values_are_422_in_the_one_shape_with_headers(
    client: TestClient, path: str, params: dict[str, str], column: str
) -> None:
    response = client.get(path, params=params, headers={"accept": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert set(error) == {"type", "message", "file", "line", "column", "hint"}
    assert error["column"] == column
    assert "out of range" in error["message"]
    assert all(h in response.headers for h in HEADERS)


def test_a_500_carries_the_security_headers(store: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copy(store, broken)
    app = create_app(broken, token=TOKEN, clock=lambda: DEMO_TODAY)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 1), raise_server_exceptions=False) as c:
        app.state.config.seat.close()
        con = duckdb.connect(str(broken))
        con.execute("DROP TABLE stages")  # the store is damaged under the running server
        con.close()
        response = c.get("/api/stalls")
    assert response.status_code >= 500
    assert response.json()["error"]["type"]
    assert all(h in response.headers for h in HEADERS)


def test_a_body_above_the_limit_is_refused(client: TestClient) -> None:
    big = "x" * (MAX_BODY_BYTES + 1)
    response = client.post(
        "/api/calls", content=big, headers={"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "InputError"
    assert all(h in response.headers for h in HEADERS)


@pytest.mark.parametrize("path", ["/stalls", "/call", "/"])
def test_dashboard_pages_escape_names_and_carry_the_csp(client: TestClient, path: str) -> None:
    page = client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
