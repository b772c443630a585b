"""The dashboard's JSON API, in process: the CLI's JSON, one error shape on every endpoint, the pages render."""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from saleslead.forecast.schemas import AccuracyRequest, CallSubmitRequest
from saleslead.role.desk import AskRequest
from saleslead.seat import StatusRequest, open_seat
from saleslead.store import Store
from saleslead.store.shelf import Shelf
from saleslead.strategy.scorecard import ScoreRequest
from saleslead.web import create_app
from saleslead.web.app import PLOTLY_JS
from saleslead.web.context import PAGES

from .builders import export
from .conftest import DEMO_TODAY, build_once, copy_demo

TOKEN = "test-write-token"
WRITE = {"Authorization": f"Bearer {TOKEN}"}
ERROR_FIELDS = {"type", "message", "file", "line", "column", "hint"}


def client_for(store: Path, **kwargs: Any) -> TestClient:
    app = create_app(store, token=TOKEN, clock=lambda: DEMO_TODAY, **kwargs)
    return TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50123), raise_server_exceptions=False)


#: The call recorded in the seeded store: the company's 2026-Q3 commit, made in mid-August.
Q3_CALL = CallSubmitRequest(
    node="total", period="2026-Q3", amount=7_000_000, as_of=date(2026, 8, 14), author="maria", category="commit"
)


@functools.cache
def seeded_store(demo_store_file: Path) -> Path:
    """Once per run: the demo store with two handoffs (to the AE, to the SDRs) and a past call to judge (beside
    the demo store, shared by every worker: read-only, copy it)."""
    path = demo_store_file.parent / "web-seeded.duckdb"
    with build_once(path) as build:
        if build:
            shutil.copy(demo_store_file, path)
            with open_seat(path) as seat:
                seat.clock = lambda: DEMO_TODAY
                seat.ask(AskRequest(text="Please follow up with the customer on our biggest deal", as_of=DEMO_TODAY))
                seat.ask(AskRequest(text="Build a prospect list for SMB", as_of=DEMO_TODAY))
                seat.call_submit(Q3_CALL)
    return path


@pytest.fixture(scope="module")
def web_store(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the seeded demo store (its answers on the run's shelf: seeding adds records only)."""
    return copy_demo(seeded_store(demo_store_file), demo_shelf, tmp_path_factory.mktemp("web") / "demo.duckdb")


@pytest.fixture(scope="module")
def client(web_store: Path) -> Iterator[TestClient]:
    with client_for(web_store) as c:
        yield c


def assert_error(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_FIELDS
    assert body["error"]["type"] == kind
    assert body["error"]["message"]
    return dict(body["error"])


# --- the numbers: by hand on a tiny store, and the same JSON as the CLI on the demo company --------------------


@pytest.fixture
def tiny_store(tmp_path: Path) -> Path:
    """Deal A won 110 on 2 Apr 2025 (SMB); B open 5 (SMB); C open 40 (Mid-Market); all created in Q1 2025."""
    opps = [
        {"opportunity_id": "A", "created_at": datetime(2025, 1, 1), "segment": "SMB", "owner_id": "u1"},
        {"opportunity_id": "B", "created_at": datetime(2025, 3, 1), "segment": "SMB", "owner_id": "u1"},
        {"opportunity_id": "C", "created_at": datetime(2025, 3, 5), "segment": "Mid-Market", "owner_id": "u2"},
    ]
    history = [
        {"opportunity_id": "A", "changed_at": datetime(2025, 1, 1), "stage": "Qualify", "amount": 100.0},
        {"opportunity_id": "A", "changed_at": datetime(2025, 2, 1), "stage": "Propose", "amount": 100.0},
        {
            "opportunity_id": "A",
            "changed_at": datetime(2025, 4, 2),
            "stage": "Won",
            "amount": 110.0,
            "close_date": date(2025, 4, 2),
        },
        {"opportunity_id": "B", "changed_at": datetime(2025, 3, 1), "stage": "Qualify", "amount": 5.0},
        {"opportunity_id": "C", "changed_at": datetime(2025, 3, 5), "stage": "Qualify", "amount": 25.0},
        {"opportunity_id": "C", "changed_at": datetime(2025, 4, 10), "stage": "Propose", "amount": 40.0},
    ]
    path = tmp_path / "tiny.duckdb"
    with Store.open(path) as store:
        store.ingest(export(datetime(2025, 5, 1), opps, history))
    return path


def test_status_by_hand_and_as_of(tiny_store: Path) -> None:
    with client_for(tiny_store) as c:
        may = c.get("/api/status", params={"as_of": "2025-05-01"}).json()
        march = c.get("/api/status", params={"as_of": "2025-03-31"}).json()
        page = c.get("/", params={"as_of": "2025-05-01"}, headers={"accept": "text/html"})
    assert (may["open_count"], may["open_amount"]) == (2, 45.0)  # B 5 + C 40; A is won
    assert {s["name"]: (s["count"], s["amount"]) for s in may["open_by_segment"]} == {
        "Mid-Market": (1, 40.0),
        "SMB": (1, 5.0),
    }
    assert {s["name"]: s["amount"] for s in may["open_by_stage"]} == {"Qualify": 5.0, "Propose": 40.0}
    assert may["closed_won_quarter_to_date"] == {"period": "2025-Q2", "count": 1, "amount": 110.0}
    # at the end of March A was open at 100 and C at its first amount, 25: nothing later leaks in
    assert (march["open_count"], march["open_amount"]) == (3, 130.0)
    assert march["closed_won_quarter_to_date"] == {"period": "2025-Q1", "count": 0, "amount": 0.0}
    assert page.status_code == 200
    assert "$45" in page.text
    assert "2025-Q2" in page.text


def test_pages_are_prepared_in_the_background_and_again_after_a_write(tiny_store: Path) -> None:
    app = create_app(tiny_store, token=TOKEN, clock=lambda: date(2025, 5, 1), warm=True)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50123)) as c:
        assert app.state.warmed.wait(60)
        kept = app.state.config.seat.kept()
        assert {"status", "handoffs"} <= set(kept)
        assert c.get("/api/status").json()["open_count"] == 2  # the kept answer: as of the clock's today
        decided = c.post("/api/strategy/decide", json={"author": "x", "as_of": "2025-05-01"}, headers=WRITE)
        assert decided.status_code in (200, 409, 422)  # decided, or too little history: a write either way
        assert app.state.warmed.wait(60)
        assert {"status", "handoffs"} <= set(app.state.config.seat.kept())


def test_api_returns_the_clis_json(client: TestClient, web_store: Path) -> None:
    with open_seat(web_store) as seat:
        seat.clock = lambda: DEMO_TODAY
        status = json.loads(seat.status(StatusRequest(as_of=date(2026, 6, 30))).model_dump_json())
        card = json.loads(seat.strategy_score(ScoreRequest(as_of=DEMO_TODAY)).model_dump_json())
        outbox = json.loads(seat.handoffs().model_dump_json())
    assert client.get("/api/status", params={"as_of": "2026-06-30"}).json() == status
    assert client.get("/api/strategy/scorecard").json() == card
    assert client.get("/api/handoffs").json() == outbox
    assert [h["to_role"] for h in outbox["handoffs"]] == ["account-executive", "sales-development-rep"]
    assert status["as_of"] == "2026-06-30"
    assert status["open_count"] > 0


def test_handoffs_filter_by_role_and_status(client: TestClient) -> None:
    ae = client.get("/api/handoffs", params={"to_role": "account-executive"}).json()["handoffs"]
    assert [h["boundary"] for h in ae] == ["deal-execution"]
    assert client.get("/api/handoffs", params={"status": "done"}).json()["handoffs"] == []
    page = client.get("/handoffs", params={"to_role": "sales-development-rep"}, headers={"accept": "text/html"})
    assert page.text.count('data-handoff="') == 1
    assert "Build a prospect list for SMB" in page.text


# --- one error shape, on every endpoint ---------------------------------------------------------------------------

#: (method, path, params or body, expected status, expected type): a failing request for each endpoint.
BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", "/api/status", {"as_of": "yesterday"}, 422, "InputError"),
    ("GET", "/api/forecast", {"by": "region"}, 422, "InputError"),
    ("GET", "/api/calls", {"history": "maybe"}, 422, "InputError"),
    ("POST", "/api/calls", {"node": "total", "period": "2026-Q4", "amount": -5}, 422, "InputError"),
    ("GET", "/api/stalls", {"as_of": "soon"}, 422, "InputError"),
    ("GET", "/api/grid", {"period": "2026-Q9"}, 422, "InputError"),
    ("GET", "/api/deals", {"measure": "bogus"}, 422, "InputError"),
    ("GET", "/api/deal/{deal}", {}, 404, "NotFoundError"),
    ("GET", "/api/waterfall", {"period": "2026-Q9"}, 422, "InputError"),
    ("GET", "/api/accuracy", {"as_of": "2026-11-31"}, 422, "InputError"),
    ("GET", "/api/coverage", {"period": "2026-Q9"}, 422, "InputError"),
    ("GET", "/api/targets/defend", {"weeks": "0"}, 422, "InputError"),
    ("GET", "/api/targets", {"period": "2019-Q1"}, 404, "NotFoundError"),
    ("POST", "/api/targets", {"goal": 1e6}, 422, "InputError"),
    ("GET", "/api/strategy/scorecard", {"by": "segment,planet"}, 422, "InputError"),
    ("GET", "/api/strategy", {}, 404, "NotFoundError"),
    ("POST", "/api/strategy/decide", {"author": ""}, 422, "InputError"),
    ("GET", "/api/roster", {"as_of": "2026-02-30"}, 422, "InputError"),
    ("GET", "/api/roster/plan", {"period": "2026-Q3"}, 422, "InputError"),
    ("POST", "/api/roster/plan", {"period": "2027-Q1", "goal": 1e6, "scenario": "rosy"}, 422, "InputError"),
    ("GET", "/api/handoffs", {"status": "lost"}, 422, "InputError"),
    ("POST", "/api/handoffs/update", {"id": "ho-0000000000000000"}, 404, "NotFoundError"),
]


@pytest.mark.parametrize(("method", "path", "data", "status", "kind"), BAD_REQUESTS)
def test_every_endpoint_fails_in_one_shape(
    client: TestClient, method: str, path: str, data: dict[str, Any], status: int, kind: str
) -> None:
    if method == "GET":
        response = client.get(path, params=data)
    else:
        response = client.post(path, json=data, headers=WRITE)
    assert_error(response, status, kind)


def test_bad_requests_cover_every_api_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    published = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert published == {(m, p) for m, p, *_ in BAD_REQUESTS}
    for method, path in published:
        operation = spec["paths"][path][method.lower()]
        assert "200" in operation["responses"], path
        assert operation.get("description") or operation.get("summary"), path


def test_unknown_paths_methods_and_pages_in_the_same_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nothing"), 404, "NotFoundError")
    assert_error(client.delete("/api/handoffs"), 405, "InputError")
    error = assert_error(client.get("/api/status", params={"as_of": "2026-13-01"}), 422, "InputError")
    assert error["column"] == "as_of"
    page = client.get("/strategy", params={"by": "planet"}, headers={"accept": "text/html"})
    assert page.status_code == 422
    assert 'data-error-type="InputError"' in page.text
    assert "unknown dimension &#39;planet&#39;" in page.text
    missing = client.get("/nothing-here", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "Not found" in missing.text


# --- the pages: every landed page draws a chart from plotly.js served by this server ------------------------------


def figures(html: str) -> list[dict[str, Any]]:
    import html as markup

    return [json.loads(markup.unescape(raw)) for raw in re.findall(r'data-figure="([^"]*)"', html)]


@pytest.mark.parametrize("page", [p for p in PAGES if p.landed], ids=lambda p: p.slug)
@pytest.mark.slow
def test_every_landed_page_renders_its_charts(client: TestClient, page: Any) -> None:
    response = client.get(page.path, headers={"accept": "text/html"})
    assert response.status_code == 200, response.text[:500]
    charts = figures(response.text)
    assert charts, f"{page.slug} has no chart"
    assert all(fig["data"] for fig in charts)
    assert '<script src="/static/plotly.min.js"' in response.text
    assert not re.search(r'<script[^>]+src="(https?:)?//', response.text), "no script from elsewhere"
    assert f'class="active" data-page="{page.slug}"' in response.text


def test_pages_not_landed_say_so(client: TestClient) -> None:
    html = client.get("/", headers={"accept": "text/html"}).text
    for page in PAGES:
        if page.landed:
            assert f'data-page="{page.slug}"' in html
        else:
            assert f'title="the {page.mandate} mandate has not landed on this seat yet">{page.title}' in html
            assert_error(client.get(page.path), 404, "NotFoundError")


def test_strategy_heatmap_holds_every_cell(client: TestClient) -> None:
    card = client.get("/api/strategy/scorecard").json()
    heatmap = figures(client.get("/strategy", headers={"accept": "text/html"}).text)[0]["data"][0]
    assert heatmap["type"] == "heatmap"
    filled = sum(1 for row in heatmap["z"] for z in row if z is not None)
    assert filled == len(card["cells"])
    assert set(heatmap["y"]) == {c["segment"] for c in card["cells"]}


def test_roster_plan_draws_capacity_against_goal(client: TestClient) -> None:
    params = {"period": "2027-Q1", "goal": "9000000"}
    plan = client.get("/api/roster/plan", params=params).json()
    assert plan["goal"] == 9_000_000
    assert plan["key"] is None, "a plan computed for a page is not saved"
    page = client.get("/roster", params=params, headers={"accept": "text/html"})
    chart = figures(page.text)[0]["data"]
    months = sorted({m["month"] for m in plan["months"]})
    assert months == ["2027-01", "2027-02", "2027-03"]
    goal_line = next(t for t in chart if t["name"].startswith("goal"))
    want = [sum(m["goal"] for m in plan["months"] if m["month"] == month) for month in months]
    assert goal_line["y"] == pytest.approx(want)
    bars = [t for t in chart if t["type"] == "bar"]
    assert sum(sum(t["y"]) for t in bars) == pytest.approx(sum(m["capacity"] for m in plan["months"]))
    assert f'<span class="value">{plan["total_hires"]}</span>' in page.text


def test_accuracy_judges_the_recorded_call(client: TestClient, web_store: Path) -> None:
    with open_seat(web_store) as seat:
        seat.clock = lambda: DEMO_TODAY
        booked = seat.status(StatusRequest(as_of=date(2026, 9, 30))).closed_won_quarter_to_date
        ledger = json.loads(seat.forecast_accuracy(AccuracyRequest()).model_dump_json())
    assert booked.period == "2026-Q3"
    api = client.get("/api/accuracy").json()
    assert api["rows"] == ledger["rows"]
    [row] = api["rows"]
    assert row["node"] == "total"
    assert row["calls"] == 1
    assert row["mean_error"] == pytest.approx((Q3_CALL.amount - booked.amount) / booked.amount)
    chart = figures(client.get("/accuracy", headers={"accept": "text/html"}).text)[0]
    assert chart["data"][0]["y"] == [pytest.approx(row["mean_error"])]


def test_calls_listed_with_their_verdicts(client: TestClient) -> None:
    calls = client.get("/api/calls", params={"period": "2026-Q3"}).json()["calls"]
    assert [(c["node"], c["amount"], c["author"]) for c in calls] == [("total", 7_000_000, "maria")]
    assert calls[0]["check"]["verdict"] in {"supported", "stretch", "outruns-pipeline"}
    page = client.get("/call", params={"period": "2026-Q3", "as_of": "2026-08-14"}, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert f'<span class="tag {calls[0]["check"]["verdict"]}">' in page.text


def test_plotly_comes_from_the_installed_package(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.content == PLOTLY_JS.read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/saleslead.css").status_code == 200
