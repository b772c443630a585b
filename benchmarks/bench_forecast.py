"""Forecast benchmarks: the Monte Carlo + rollup at 1 M-opportunity scale, and the backtest quality on the demo.

    python benchmarks/bench_forecast.py scale [--open-deals 100000] [--reps 5000] [--scenarios 10000]
    python benchmarks/bench_forecast.py quality [--opportunities 40000] [--from 2024-07-01] [--to 2026-09-20]
    python benchmarks/bench_forecast.py end-to-end [--store PATH | --opportunities 1000000 --workdir DIR]
                                        [--as-of 2026-11-24]

``scale`` times 10,000 seeded scenarios over every open deal of a 1 M-opportunity org (the demo keeps ~7.5 %
of its opportunities open at a date: 75 k; 100 k by default to be safe) with a 5-level rollup
(rep → manager → director → VP → CRO) and P10/P50/P90 for every node, and compares with a same-run
baseline: the naive per-cell sigmoid (no shock levels), timed on a slice and scaled.
``quality`` generates the demo company, ingests it, and runs the walk-forward backtest (issue item 10).
``end-to-end`` times the whole ``saleslead forecast`` on a store (by default a 1 M-opportunity demo company it
generates and ingests into ``--workdir``, kept there for the next run): reading the book, fitting the hazard
model, the out-of-sample calibration, the 10,000 scenarios and the result, phase by phase, with peak RSS,
next to the engine's bare scan of the same history (the floor) measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy import special

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.backtest import run_backtest
from saleslead.forecast.schemas import BacktestRequest
from saleslead.forecast.simulate import Book, simulate
from saleslead.settings import Settings


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _org(reps: int) -> tuple[sp.csr_matrix, int]:
    """A 5-level tree: reps under managers (8 each), directors (5 managers), VPs (4 directors), one CRO."""
    managers = -(-reps // 8)
    directors = -(-managers // 5)
    vps = -(-directors // 4)
    n_nodes = reps + managers + directors + vps + 1
    rows, cols = [], []
    for r in range(reps):
        m = r // 8
        d = m // 5
        v = d // 4
        chain = [r, reps + m, reps + managers + d, reps + managers + directors + v, n_nodes - 1]
        rows.extend([r] * 5)
        cols.extend(chain)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(reps, n_nodes)), n_nodes


def scale(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(3)
    n, reps = args.open_deals, args.reps
    rollup, n_nodes = _org(reps)
    book = Book(
        p=rng.beta(0.8, 3.0, n),
        amount=np.round(rng.lognormal(11.0, 1.0, n), -2),
        owner=rng.integers(0, reps, n),
        segment=rng.integers(0, 3, n),
        closed_owner=rng.uniform(0, 2e5, reps),
        closed_segment=np.zeros(3),
        new_mean=np.asarray([1e6, 3e6, 5e6]),
        new_cv=np.asarray([0.3, 0.3, 0.3]),
        new_share=np.full((3, reps), 1.0 / reps),
        rollup=rollup,
    )
    t = time.perf_counter()
    cpu = time.process_time()
    sim = simulate(book, 0.25, args.scenarios, seed=20_260_101, n_segments=3)
    simulated = time.perf_counter() - t
    q = np.quantile(sim.nodes, [0.1, 0.5, 0.9], axis=1)
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    # same-run baseline: the naive per-cell shock (sigmoid of every deal in every scenario), on a slice
    slice_n = max(100, args.scenarios // 50)
    t = time.perf_counter()
    lg = special.logit(book.p)
    for _ in range(slice_n):
        z = rng.normal(0, 0.25)
        won = rng.random(n) < special.expit(lg + z)
        np.bincount(book.owner, weights=np.where(won, book.amount, 0.0), minlength=reps) @ rollup
    naive = (time.perf_counter() - t) * args.scenarios / slice_n
    print(f"open deals {n:,}, reps {reps:,}, nodes {n_nodes:,} (5 levels), scenarios {args.scenarios:,}")
    print(f"simulate + rollup + P10/P50/P90 of every node: {elapsed:.1f} s (target ≤ 30 s); simulate {simulated:.1f} s")
    print(f"naive per-scenario loop, scaled from {slice_n} scenarios: {naive:.1f} s; ratio {naive / elapsed:.1f}×")
    print(f"CPU time of the simulation + quantiles: {cpu:.1f} s (wall time depends on the machine's load)")
    print(f"peak RSS {_peak_mb():,.0f} MB; top node P50 {q[1, -1]:,.0f}")


def quality(args: argparse.Namespace) -> None:
    from saleslead.seat import IngestRequest, open_seat

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        config = DemoConfig(
            opportunities=args.opportunities, seed=args.seed, start=date(2023, 1, 1), end=date(2026, 11, 24)
        )
        t = time.perf_counter()
        generate(folder, config)
        with open_seat(Path(tmp) / "demo.duckdb") as seat:
            seat.ingest(IngestRequest(path=folder))
            print(
                f"demo: {args.opportunities:,} opportunities generated and ingested in {time.perf_counter() - t:.0f} s"
            )
            t = time.perf_counter()
            request = BacktestRequest(
                start=date.fromisoformat(args.start), end=date.fromisoformat(args.end), scenarios=args.scenarios,
                refit_weeks=args.refit,
            )  # fmt: skip
            result = run_backtest(
                seat.store, Settings(), request, lambda _l, d, n: print(f"\r{d}/{n}", end="", file=sys.stderr)
            )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nbacktest: {len(result.points)} points in {time.perf_counter() - t:.0f} s ({result.method}); load {load}")
    for name in ("p50", "mean", "stage_weighted", "categories"):
        s = result.summary[name]
        print(f"  {name:15s} WAPE {s['wape']:.1%}  bias {s['bias']:+.1%}")
    i = result.summary["interval"]
    print(
        f"  P10–P90 coverage {i['coverage_p10_p90']:.1%} "
        f"(below P10 {i['below_p10']:.1%}, above P90 {i['above_p90']:.1%})"
    )
    print(
        f"  CRPS/actual {i['crps']:.3f}; pinball P10 {i['pinball_p10']:.3f} "
        f"P50 {i['pinball_p50']:.3f} P90 {i['pinball_p90']:.3f}"
    )
    print(
        f"  Brier {result.brier:.4f} vs stage probabilities {result.brier_stage:.4f} "
        f"over {result.deals_scored:,} deal-points"
    )
    for w in result.by_week:
        print(
            f"  week {w['week_of_quarter']:>2}: n={w['points']} coverage {w['coverage_p10_p90']:.0%} "
            f"WAPE P50 {w['wape_p50']:.1%}"
            f" stage {w['wape_stage_weighted']:.1%} categories {w['wape_categories']:.1%}"
        )
    print(
        "  calibration: "
        + ", ".join(f"{c['predicted']:.2f}→{c['observed']:.2f} (n={c['deals']})" for c in result.calibration)
    )


def end_to_end(args: argparse.Namespace) -> None:
    import saleslead.forecast.outlook as outlook
    from saleslead.forecast.schemas import ForecastRequest
    from saleslead.funnel.state import history_until
    from saleslead.seat import IngestRequest, open_seat

    store_path = Path(args.store) if args.store else Path(args.workdir) / f"forecast-{args.opportunities}.duckdb"
    if not store_path.exists():
        folder = Path(args.workdir) / f"export-{args.opportunities}"
        t = time.perf_counter()
        config = DemoConfig(opportunities=args.opportunities, seed=args.seed, end=date.fromisoformat(args.as_of))
        generate(folder, config)
        with open_seat(store_path) as seat:
            seat.ingest(IngestRequest(path=folder))
        print(f"demo: {args.opportunities:,} opportunities generated and ingested in {time.perf_counter() - t:.0f} s")
    phases: dict[str, float] = {}
    for name in ("load_book", "fit_deal_model", "past_periods", "calibrate", "simulate"):
        original = getattr(outlook, name)

        def timed(*a: object, _f: object = original, _n: str = name, **k: object) -> object:
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)  # type: ignore[operator]
            finally:
                phases[_n] = phases.get(_n, 0.0) + time.perf_counter() - t0

        setattr(outlook, name, timed)
    as_of = date.fromisoformat(args.as_of)
    with open_seat(store_path) as seat:
        t = time.perf_counter()
        h = history_until(seat.store, as_of)
        floor_rows = h.select("opportunity_id", "changed_at", "stage", "amount", "close_date").to_pyarrow().num_rows
        floor = time.perf_counter() - t
        opps = int(seat.store.table("opportunities").count().execute())
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        t, cpu = time.perf_counter(), time.process_time()
        result = seat.forecast(ForecastRequest(as_of=as_of, scenarios=args.scenarios))
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    open_deals = sum(n.open_deals for n in result.nodes if n.level == 0)
    print(f"store {store_path}: {opps:,} opportunities, {floor_rows:,} history events known at {as_of}; load {load}")
    print(f"floor: the engine's bare scan of that history into Arrow {floor:.1f} s")
    print(
        f"saleslead forecast {result.period} as of {as_of}: {elapsed:.1f} s wall, {cpu:.1f} s CPU "
        f"({elapsed / floor:.1f}× the floor); {result.scenarios:,} scenarios over {open_deals:,} open deals, "
        f"{len(result.nodes):,} nodes; peak RSS {_peak_mb():,.0f} MB"
    )
    print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    print(
        f"  total P10 {result.total.p10:,.0f}  P50 {result.total.p50:,.0f}  P90 {result.total.p90:,.0f}; "
        f"calibration on {result.method.calibration_rows:,} replayed deal-origins, shock sd {result.method.shock_sd}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("scale")
    s.add_argument("--open-deals", type=int, default=100_000)
    s.add_argument("--reps", type=int, default=5_000)
    s.add_argument("--scenarios", type=int, default=10_000)
    q = sub.add_parser("quality")
    q.add_argument("--opportunities", type=int, default=40_000)
    q.add_argument("--seed", type=int, default=11)
    q.add_argument("--from", dest="start", default="2024-07-01")
    q.add_argument("--to", dest="end", default="2026-09-20")
    q.add_argument("--scenarios", type=int, default=2_000)
    q.add_argument("--refit", type=int, default=4)
    e = sub.add_parser("end-to-end")
    e.add_argument("--store", default=None, help="an existing store (else a demo company is made in --workdir)")
    e.add_argument("--opportunities", type=int, default=1_000_000)
    e.add_argument("--workdir", default=tempfile.gettempdir())
    e.add_argument("--seed", type=int, default=7)
    e.add_argument("--as-of", default="2026-11-24")
    e.add_argument("--scenarios", type=int, default=10_000)
    args = parser.parse_args()
    {"scale": scale, "quality": quality, "end-to-end": end_to_end}[args.what](args)


if __name__ == "__main__":
    main()
