"""Benchmark: server time of every dashboard page on a large demo store, against the seat method it calls.

For each page the dashboard has (pages whose mandate has not landed are listed as such), this prints:

- ``seat``: the seat method the page calls, called directly (the same-run baseline: what no face can beat);
- ``cold``: the page served in process (``TestClient``, no network) the first time it is asked for — the
  seat method, the chart JSON and the Jinja2 render;
- ``again``: the same page asked for again (the app keeps the answer until the next write);
- ``warmed``: the page on a server started with the background warm-up (``saleslead serve`` does it), once
  the warm-up is done;
- ``cold ÷ seat``: the web face's own cost relative to the seat method.

Target (issue 8): every page under a second of server time on a 100 k-opportunity demo store.

    python benchmarks/bench_web.py [--store /tmp/saleslead-web-bench/demo100k.duckdb] [--opportunities 100000]

The store is generated with ``saleslead.demo.generate`` and ingested the first time (into ``--store``).
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.schemas import AccuracyRequest, ForecastRequest, StallsRequest, WaterfallRequest
from saleslead.periods import Period
from saleslead.role.desk import HandoffsRequest
from saleslead.roster.desk import RosterShowRequest
from saleslead.roster.plan import RosterPlanRequest
from saleslead.seat import IngestRequest, Seat, StatusRequest, open_seat
from saleslead.strategy.scorecard import ScoreRequest
from saleslead.targets.desk import DefendRequest
from saleslead.web import create_app
from saleslead.web.context import PAGES

TODAY = date(2026, 11, 24)
QUARTER = Period.quarter_of(TODAY).name
NEXT = Period.quarter_of(TODAY).shift(1).name
GOAL = 40_000_000


def ensure_store(path: Path, opportunities: int) -> None:
    if path.exists():
        return
    export = path.parent / "export"
    print(f"generating a {opportunities:,}-opportunity demo company in {export} …", flush=True)
    if export.exists():
        shutil.rmtree(export)
    generate(export, DemoConfig(opportunities=opportunities, seed=7, start=date(2023, 11, 1), end=TODAY))
    with open_seat(path) as seat:
        report = seat.ingest(IngestRequest(path=export))
    print(f"ingested {report.rows_read['opportunities']:,} opportunities into {path}", flush=True)


#: page path → the seat call it makes (the same request the page builds from its defaults).
CALLS: dict[str, tuple[str, Callable[[Seat], Any]]] = {
    "/": ("status", lambda s: s.status(StatusRequest())),
    "/call": ("forecast", lambda s: s.forecast(ForecastRequest())),
    "/coverage": ("defend_targets", lambda s: s.defend_targets(DefendRequest(period=QUARTER, weeks=6))),
    "/roster": ("roster_show", lambda s: s.roster_show(RosterShowRequest())),
    f"/roster?period={NEXT}&goal={GOAL}": (
        "roster_plan",
        lambda s: s.roster_plan(RosterPlanRequest(period=NEXT, goal=GOAL, save=False)),
    ),
    "/strategy": ("strategy_score", lambda s: s.strategy_score(ScoreRequest())),
    "/handoffs": ("handoffs", lambda s: s.handoffs(HandoffsRequest())),
    "/stalls": ("stalls", lambda s: s.stalls(StallsRequest())),
    "/waterfall": (
        "waterfall",
        lambda s: s.waterfall(WaterfallRequest(period=QUARTER, start=date(2026, 9, 30), end=TODAY)),
    ),
    "/accuracy": ("forecast_accuracy", lambda s: s.forecast_accuracy(AccuracyRequest())),
}


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/saleslead-web-bench/demo100k.duckdb"))
    parser.add_argument("--opportunities", type=int, default=100_000)
    args = parser.parse_args()
    ensure_store(args.store, args.opportunities)

    landed = {p.path for p in PAGES if p.landed}
    paths = [path for path in CALLS if path.split("?")[0] in landed]
    html = {"accept": "text/html"}
    rows: list[tuple[str, str, float, float, float, float]] = []
    # One seat stays open for the whole run, so DuckDB's buffers are as warm for the page as for the baseline.
    with open_seat(args.store) as seat:
        seat.clock = lambda: TODAY
        print(f"store: {args.store} ({seat.store.count('opportunities'):,} opportunities), as of {TODAY}")
        cold_app = create_app(args.store, token="bench-token", clock=lambda: TODAY)
        with TestClient(cold_app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
            client.get("/api/handoffs")  # open the app's seat once; every page below shares it
            for path in paths:
                method, call = CALLS[path]
                call(seat)  # the first read of what this method needs
                seat.forecast_desk.forget()  # the forecast desk keeps its last outlook: not here
                seat_s, _ = timed(lambda call=call: call(seat))  # type: ignore[misc]
                cold, response = timed(lambda path=path: client.get(path, headers=html))  # type: ignore[misc]
                assert response.status_code == 200, (path, response.text[:300])
                kept, _ = timed(lambda path=path: client.get(path, headers=html))  # type: ignore[misc]
                rows.append((path, method, seat_s, cold, kept, float("nan")))
        warm_app = create_app(args.store, token="bench-token", clock=lambda: TODAY, warm=True)
        with TestClient(warm_app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
            began = time.perf_counter()
            warm_app.state.warmed.wait()
            print(f"background warm-up of every page's default view: {time.perf_counter() - began:.1f} s")
            for i, (path, method, seat_s, cold, kept, _) in enumerate(rows):
                warmed, _ = timed(lambda path=path: client.get(path, headers=html))  # type: ignore[misc]
                rows[i] = (path, method, seat_s, cold, kept, warmed)

    head = (
        f"{'page':<40} {'seat method':<16} {'seat s':>8} {'cold s':>8} {'again s':>8} {'warmed s':>9} {'cold/seat':>10}"
    )
    print("\n" + head)
    for path, method, seat_s, cold, kept, warmed in rows:
        ratio = cold / seat_s if seat_s > 0 else float("nan")
        print(f"{path:<40} {method:<16} {seat_s:8.3f} {cold:8.3f} {kept:8.3f} {warmed:9.3f} {ratio:10.2f}")
    over = [r for r in rows if r[3] >= 1.0]
    again = sum(r[4] < 1.0 for r in rows)
    warmed = sum(r[5] < 1.0 for r in rows)
    n = len(rows)
    print(
        f"\nunder 1 s of server time: cold {n - len(over)} of {n}; asked again {again} of {n}; "
        f"after the warm-up {warmed} of {n}"
    )
    for path, method, seat_s, cold, _, _ in over:
        print(f"  cold over budget: {path} — {method} alone takes {seat_s:.2f} s of its {cold:.2f} s")
    for page in PAGES:
        if not page.landed:
            print(f"  not benchmarked: {page.path} — the {page.mandate} mandate has no {page.method}() on the seat yet")


if __name__ == "__main__":
    main()
