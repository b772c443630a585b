"""Week-over-week forecast bridges over one quarter: how much of each move the refit explains.

    python benchmarks/bridge_weekly.py --store saleslead.duckdb --period 2026-Q4 --to 2026-12-03 [--weeks 8]

Every outlook is read from one deal book loaded at ``--to`` (cut at each date: the same forecast as
``saleslead forecast --as-of`` that date). Prints, per week, the P50 at both ends, each component's move,
whether the bridge reconciles, and the refit's share of the gross movement; then the totals.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from itertools import pairwise

from saleslead.forecast.bridge import COMPONENTS, forecast_bridge
from saleslead.forecast.outlook import run_outlook
from saleslead.forecast.panel import load_book
from saleslead.forecast.schemas import NodeBridge
from saleslead.periods import Period
from saleslead.seat import open_seat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--to", required=True, type=date.fromisoformat)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    names = [name for name, _ in COMPONENTS]
    with open_seat(args.store) as seat:
        period = Period.parse(args.period, seat.settings.fiscal_start_month)
        days = [args.to - timedelta(days=7 * k) for k in range(args.weeks, -1, -1)]
        days = [d for d in days if d >= period.start]
        started = time.perf_counter()
        book = load_book(seat.store, args.to)
        outlooks = [run_outlook(seat.store, seat.settings, period, d, book=book) for d in days]
        print(f"{len(days)} outlooks in {time.perf_counter() - started:.1f} s")
        print("| from → to | P50 from | P50 to | change | " + " | ".join(names) + " | reconciles | refit ÷ gross |")
        print("|---|---:|---:|---:|" + "---:|" * len(names) + "---|---:|")
        gross_all = refit_all = 0.0
        for a, b in pairwise(outlooks):
            r = forecast_bridge(seat.store, seat.settings, a, b, scenarios=seat.settings.scenarios).total
            moves = {s.component: s.p50 for s in r.steps}
            gross = sum(abs(v) for v in moves.values())
            gross_all += gross
            refit_all += abs(moves["refit"])
            cells = " | ".join(f"{moves[n] / 1e3:+,.0f}k" for n in names)
            print(
                f"| {a.as_of} → {b.as_of} | {r.start.p50 / 1e6:.2f}M | {r.end.p50 / 1e6:.2f}M | "
                f"{(r.end.p50 - r.start.p50) / 1e3:+,.0f}k | {cells} | {_adds(r)} | "
                f"{abs(moves['refit']) / gross if gross else 0:.0%} |"
            )
        print(f"refit: {refit_all / 1e3:,.0f}k of {gross_all / 1e3:,.0f}k gross movement ({refit_all / gross_all:.0%})")


def _adds(r: NodeBridge) -> str:
    return "yes" if abs(sum(s.p50 for s in r.steps) - (r.end.p50 - r.start.p50)) < 0.005 else "NO"


if __name__ == "__main__":
    main()
