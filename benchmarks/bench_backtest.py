"""Benchmark: the CPU of one walk-forward backtest origin, beside a full refit at each origin, same run.

On a generated org of N opportunities (ingested once into ``WORKDIR/backtest-N.duckdb``), the backtest runs over
weekly origins of one finished quarter (CPU seconds of this process, per origin):

1. ``--refit 1``, nothing kept — every origin refits the deal model and the 8 walk-forward models of its
   calibration (the baseline: a full refit per origin); its fits are kept on a shelf;
2. ``--refit 4`` (the default), nothing kept — the backtest's own reuse: the first origin refits, the next
   reuse its model and walk-forward models, each calibration starts from the last;
3. ``--refit 1`` again on the shelf 1 kept — every origin finds its model and calibration (keyed by the deal
   book as known at the origin, as the forecast keeps them): what a second backtest, or one over weeks the
   weekly run already forecast, costs per origin. Its result must equal 1's.

Target (issue 14): one backtest origin at 10 k opportunities ≤ 1 s of CPU, printed beside a full refit.

    python benchmarks/bench_backtest.py [--opportunities 10000] [--workdir DIR] [--scenarios 2000] [--points 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from saleslead.demo import DemoConfig, generate
from saleslead.forecast.backtest import run_backtest
from saleslead.forecast.model import FITS
from saleslead.forecast.schemas import BacktestRequest
from saleslead.settings import Settings
from saleslead.store.answers import Answers
from saleslead.store.shelf import Shelf

T = TypeVar("T")


def cpu(f: Callable[[], T]) -> tuple[T, float, int]:
    t, fits = time.process_time(), FITS.fits
    out = f()
    return out, time.process_time() - t, FITS.fits - fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--workdir", default=tempfile.gettempdir())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenarios", type=int, default=2_000)
    parser.add_argument("--origin", default="2026-04-20", help="the first origin (in a finished quarter)")
    parser.add_argument("--points", type=int, default=3)
    args = parser.parse_args()
    from saleslead.seat import IngestRequest, open_seat

    path = Path(args.workdir) / f"backtest-{args.opportunities}.duckdb"
    if not path.exists():
        folder = Path(args.workdir) / f"backtest-export-{args.opportunities}"
        generate(folder, DemoConfig(opportunities=args.opportunities, seed=args.seed, end=date(2026, 11, 24)))
        with open_seat(path) as seat:
            seat.ingest(IngestRequest(path=folder))
    settings = Settings()
    first = date.fromisoformat(args.origin)
    weekly = BacktestRequest(
        start=first, end=first + timedelta(days=7 * (args.points - 1)), scenarios=args.scenarios, refit_weeks=1
    )
    with open_seat(path, read_only=True) as seat:
        store = seat.store
        answers = Answers(store, settings, shelf=Shelf(None))
        print(f"{args.opportunities:,} opportunities, {args.scenarios:,} scenarios, {args.points} weekly origins "
              f"from {first}; load {', '.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip
        cases = [
            ("1 --refit 1, nothing kept (baseline)", weekly, answers),
            ("2 --refit 4, nothing kept", weekly.model_copy(update={"refit_weeks": 4}), None),
            ("3 --refit 1, fits kept by 1", weekly, answers),
        ]
        results = []
        for name, request, shelf in cases:
            result, seconds, fits = cpu(lambda r=request, a=shelf: run_backtest(store, settings, r, answers=a))
            results.append((result, seconds))
            n = len(result.points)
            print(f"  {name:38s} {seconds / n:6.2f} s CPU per origin ({seconds:.1f} s, {n} origins, {fits} fits)")
    (cold, cold_s), _, (kept, kept_s) = results
    print(f"kept/full refit per origin: {kept_s / cold_s:.3f} ({cold_s / kept_s:.0f}× less); "
          f"results equal: {kept == cold}")  # fmt: skip
    print("target (issue 14): one backtest origin at 10 k opportunities ≤ 1 s of CPU")


if __name__ == "__main__":
    main()
