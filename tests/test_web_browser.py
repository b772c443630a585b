"""The dashboard end to end in real headless Chromium (Debian's, driven by Playwright): every page draws its
chart, writes through the forms are refused without the token and go through with it. Screenshots are saved
under ``test-artifacts/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saleslead.store.shelf import Shelf
from saleslead.web import create_app
from saleslead.web.context import PAGES

from .conftest import DEMO_TODAY, copy_demo
from .test_web_api import seeded_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TOKEN = "browser-test-token"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(demo_store_file: Path, demo_shelf: Shelf, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on the demo company (two handoffs, a past call), served by uvicorn on a free port."""
    import uvicorn

    path = copy_demo(seeded_store(demo_store_file), demo_shelf, tmp_path_factory.mktemp("web-browser") / "demo.duckdb")
    app = create_app(path, token=TOKEN, clock=lambda: DEMO_TODAY)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    web.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab that records console errors and failed requests."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(120_000)  # the forecast behind /call is seconds of Monte Carlo on a busy machine
    context.set_default_navigation_timeout(120_000)
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.on("requestfailed", lambda r: tab.problems.append(f"failed {r.url}"))
    yield tab
    context.close()


def shoot(tab: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"web-{name}.png"
    tab.screenshot(path=str(target), full_page=True)
    return target


@pytest.mark.parametrize("shown", [p for p in PAGES if p.landed], ids=lambda p: p.slug)
def test_every_page_loads_with_its_chart_drawn(server: str, page: Any, shown: Any) -> None:
    response = page.goto(server + shown.path)
    assert response.status == 200
    page.wait_for_selector(".chart .main-svg", timeout=60_000)
    charts = page.locator(".chart[data-figure]")
    drawn = page.locator(".chart .plotly .main-svg")
    assert charts.count() >= 1
    page.wait_for_function(
        "() => document.querySelectorAll('.chart[data-figure]').length === "
        "document.querySelectorAll('.chart .plotly').length"
    )
    assert drawn.count() >= charts.count()
    box = page.locator(".chart").first.bounding_box()
    assert box["width"] > 300
    assert box["height"] > 150
    assert page.locator("nav a.active").inner_text().startswith(shown.title)
    assert shoot(page, shown.slug).stat().st_size > 20_000
    assert page.problems == [], "no script error, no blocked or failed request (CSP, CDN)"


def test_a_roster_plan_draws_capacity_against_goal(server: str, page: Any) -> None:
    page.goto(server + "/roster")
    page.wait_for_selector("#chart-headcount .main-svg")
    page.fill("#plan-form input[name=goal]", "9000000")
    page.locator("#plan-form button[type=submit]").click()
    page.wait_for_selector("#chart-capacity .main-svg", timeout=60_000)
    assert "goal=9000000" in page.url
    legend = page.locator("#chart-capacity .legendtext").all_text_contents()
    assert "goal × (1 + 10% buffer)" in legend
    assert page.locator("#hires-table tbody tr").count() == 3
    shoot(page, "roster-plan")
    assert page.problems == []


def test_a_roster_plan_without_a_goal_staffs_the_periods_target(server: str, page: Any) -> None:
    page.goto(server + "/roster")
    page.wait_for_selector("#chart-headcount .main-svg")
    page.locator("#plan-form button[type=submit]").click()  # the goal left empty
    page.wait_for_selector("#chart-capacity .main-svg", timeout=60_000)
    assert "carried forward" in page.locator("body").inner_text()  # the goal's source, as in the briefing
    assert page.locator("#hires-table tbody tr").count() == 3
    assert "of goal" in page.locator("#hires-table").inner_text()
    assert page.problems == []


def test_the_status_chart_shows_every_stage(server: str, page: Any) -> None:
    page.goto(server + "/?as_of=2026-06-30")
    page.wait_for_selector("#chart-stage .main-svg")
    status = page.request.get(server + "/api/status?as_of=2026-06-30").json()
    ticks = page.locator("#chart-stage .ytick text").all_text_contents()
    assert ticks == [s["name"] for s in reversed(status["open_by_stage"])]  # drawn top-down in funnel order
    assert len(ticks) == sum(1 for s in status["stages"] if not s["is_closed"])
    assert page.locator("input[name=as_of]").input_value() == "2026-06-30"
    assert page.locator(".kpi .value").first.inner_text() == f"${status['open_amount'] / 1e6:,.2f}M"


def test_a_write_without_the_token_is_refused_then_goes_through_with_it(server: str, page: Any) -> None:
    page.goto(server + "/handoffs?to_role=account-executive")
    row = page.locator("tr[data-handoff]").first
    assert row.locator(".tag").inner_text() == "open"
    row.get_by_role("button", name="Acknowledge").click()
    result = row.locator(".result")
    result.locator(".refused").wait_for()
    assert "Refused (401, AccessDenied)" in result.inner_text()
    assert result.get_attribute("data-status") == "401"
    shoot(page, "write-refused")
    page.reload()
    assert page.locator("tr[data-handoff]").first.locator(".tag").inner_text() == "open"

    page.fill("#write-token", TOKEN)
    page.dispatch_event("#write-token", "change")
    page.locator("tr[data-handoff]").first.get_by_role("button", name="Acknowledge").click()
    page.locator("tr[data-handoff] .result .ok").wait_for()
    assert "is now acknowledged" in page.locator("tr[data-handoff] .result .ok").inner_text()
    page.wait_for_load_state("load")
    page.locator("tr[data-handoff] .tag:text('acknowledged')").wait_for(timeout=15_000)
    assert TOKEN not in page.content(), "the token is never rendered into the page"
    shoot(page, "write-accepted")


def test_a_call_submitted_through_the_form_shows_its_verdict(server: str, page: Any) -> None:
    page.goto(server + "/call")
    page.wait_for_selector("#chart-fan .main-svg", timeout=60_000)
    forecast = page.request.get(server + "/api/forecast").json()
    page.fill("#write-token", TOKEN)
    page.dispatch_event("#write-token", "change")
    page.select_option("#call-form select[name=node]", "total")
    page.fill("#call-form input[name=amount]", str(round(forecast["total"]["p90"] * 1.5)))
    page.fill("#call-form input[name=author]", "dana")
    page.locator("#call-form button[type=submit]").click()
    verdict = page.locator("#call-result .ok .verdict")
    verdict.wait_for(timeout=60_000)
    assert verdict.inner_text() == "outruns-pipeline", "half again above P90 outruns the pipeline"
    assert "P(outcome ≥ call)" in page.locator("#call-result").inner_text()
    shoot(page, "call-verdict")
    calls = page.request.get(server + "/api/calls?node=total&period=" + forecast["period"]).json()["calls"]
    assert [(c["author"], c["check"]["verdict"]) for c in calls] == [("dana", "outruns-pipeline")]


def test_tables_sort_by_a_click(server: str, page: Any) -> None:
    page.goto(server + "/strategy")
    table = page.locator("#scorecard-table")
    table.locator("th", has_text="Decided").click()
    first = [int(x.replace(",", "")) for x in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert first == sorted(first)
    table.locator("th", has_text="Decided").click()
    second = [int(x.replace(",", "")) for x in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert second == sorted(first, reverse=True)


def _a_rep(server: str, page: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A rep with commit deals in the grid, and their manager (rows of /api/grid)."""
    grid = page.request.get(server + "/api/grid").json()
    rows = {r["node"]: r for r in grid["rows"]}
    parents = {r["parent_id"] for r in grid["rows"]}
    rep = next(r for r in grid["rows"] if r["node"] not in parents and r["commit"] > 0 and r["parent_id"] in rows)
    return rep, rows[rep["parent_id"]]


def test_the_grid_shows_names_and_an_override_gets_its_verdict(server: str, page: Any) -> None:
    page.goto(server + "/grid")
    page.wait_for_selector("#chart-grid-attainment .main-svg", timeout=120_000)
    rep, boss = _a_rep(server, page)
    row = page.locator(f"#grid-table tr[data-node='{rep['node']}']")
    assert row.locator("td").first.locator("strong").inner_text() == rep["name"]  # the name, the id only beneath
    assert not row.locator("td").first.inner_text().startswith(rep["node"])
    names = page.locator("#grid-table tbody tr td:first-child strong").all_inner_texts()
    assert not any(n.startswith("005") for n in names)
    page.fill("#write-token", TOKEN)
    page.dispatch_event("#write-token", "change")
    # the rep's call, then the manager's override with its reason
    row.locator("input[name=amount]").fill(str(round(rep["p50"])))
    row.locator("input[name=author]").fill(rep["name"])
    row.locator("button[type=submit]").click()
    row.locator(".result .ok").wait_for(timeout=120_000)
    assert row.locator(".result .ok").inner_text().startswith(rep["name"] + " v1")
    page.wait_for_load_state("load")
    page.locator(f"#grid-table tr[data-node='{rep['node']}'] td:nth-child(10) .evidence").wait_for(timeout=120_000)
    row = page.locator(f"#grid-table tr[data-node='{rep['node']}']")
    low = round(rep["p10"] * 0.5)
    row.locator("input[name=amount]").fill(str(low))
    row.locator("input[name=author]").fill(boss["name"])
    row.locator("input[name=reason]").fill("the largest deal slips to next quarter")
    row.locator("button[type=submit]").click()
    verdict = row.locator(".result .ok .verdict")
    verdict.wait_for(timeout=120_000)
    shown = verdict.inner_text()
    page.locator(f"#grid-table tr[data-node='{rep['node']}'] td:nth-child(11) .evidence").first.wait_for(
        timeout=120_000
    )
    after = {r["node"]: r for r in page.request.get(server + "/api/grid").json()["rows"]}[rep["node"]]
    assert (after["call"], after["call_author"]) == (round(rep["p50"]), rep["name"])
    assert (after["override"], after["override_author"]) == (low, boss["name"])
    assert after["override_reason"] == "the largest deal slips to next quarter"
    assert shown == after["verdict"] == "sandbag"  # half the P10: the pipeline says more, nine times in ten
    cell = page.locator(f"#grid-table tr[data-node='{rep['node']}'] td:nth-child(11)").inner_text()
    assert boss["name"] in cell
    assert "slips to next quarter" in cell
    tag = page.locator(f"#grid-table tr[data-node='{rep['node']}'] td:nth-child(12) .tag").inner_text()
    assert tag == after["verdict"]
    history = page.request.get(server + f"/api/calls?node={rep['node']}&history=true").json()["calls"]
    assert [c["version"] for c in history] == [1, 2]  # every version kept
    shoot(page, "grid-override")
    assert page.problems == []


def test_a_number_opens_its_deals_and_the_filters_narrow_them(server: str, page: Any) -> None:
    page.goto(server + "/grid")
    page.wait_for_selector("#grid-table")
    rep, _ = _a_rep(server, page)
    page.locator(f"#grid-table tr[data-node='{rep['node']}'] td:nth-child(5) a").click()
    page.wait_for_selector("#deals-table")
    assert "measure=commit" in page.url
    behind = page.request.get(server + f"/api/deals?measure=commit&team={rep['node']}&limit=0").json()
    assert behind["amount"] == rep["commit"]
    rows = page.locator("#deals-table tbody tr")
    assert rows.count() == behind["count"] > 0
    owners = set(page.locator("#deals-table tbody tr td:nth-child(2) a").all_inner_texts())
    assert owners == {rep["name"]}  # names, not ids
    # a filter: every open deal, then the SMB ones only
    page.goto(server + "/deals?measure=open")
    page.wait_for_selector("#chart-deals .main-svg")
    every = page.locator("#deals-table tbody tr").count()
    page.fill("#deal-filters input[name=segment]", "SMB")
    page.locator("#deal-filters button[type=submit]").click()
    page.wait_for_url("**segment=SMB**")
    page.wait_for_selector("#deals-table")
    segments = set(page.locator("#deals-table tbody tr td:nth-child(3)").all_inner_texts())
    assert segments == {"SMB"}
    assert page.locator("#deals-table tbody tr").count() < every
    # and a deal opens its risks
    page.locator("#deals-table tbody tr td:first-child a").first.click()
    page.wait_for_selector("#deal-history")
    assert page.locator(".topbar h1").inner_text()
    shoot(page, "deals-filtered")
    assert page.problems == []


def test_the_grid_downloads_as_csv(server: str, page: Any) -> None:
    import csv
    import io

    page.goto(server + "/grid")
    page.wait_for_selector("#grid-table")
    with page.expect_download() as caught:
        page.locator("a.download[href^='/grid.csv']").click()
    text = Path(caught.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    grid = page.request.get(server + "/api/grid").json()["rows"]
    assert [r["node"] for r in rows] == [r["node"] for r in grid]
    assert [r["name"] for r in rows] == [r["name"] for r in grid]
    assert float(rows[0]["p50"]) == grid[0]["p50"]
    assert caught.value.suggested_filename.startswith("grid-")
