"""Stall benchmark: is a stall flag evidence? The rule replayed on the demo company against what happened next.

    python benchmarks/bench_stalls.py [--opportunities 20000] [--seed 11] [--offsets 120 90 60] [--store PATH]

Generates the demo company (or reads ``--store``), then :func:`saleslead.forecast.stall_check.check_stalls`
flags the open deals as of each date (``--offsets`` days before the end of the history, history known
then only) and compares the win rates of stalled and other deals by the end of the history. Prints one
table row per date and the pooled row (deal-dates), each signal's figures, and the time of one
``find_stalls`` at the end date.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from saleslead.demo import DemoConfig, generate
from saleslead.evidence import Rate
from saleslead.forecast.stall_check import DateCheck, check_stalls
from saleslead.forecast.stalls import find_stalls
from saleslead.seat import IngestRequest, open_seat
from saleslead.store import Store


def _rate(r: Rate) -> str:
    if r.value is None or r.low is None or r.high is None:
        return "—"
    return f"{r.value:.1%} [{r.low:.1%}, {r.high:.1%}] n={int(r.trials):,}"


def _row(c: DateCheck) -> str:
    when = str(c.as_of) if c.as_of else "pooled (deal-dates)"
    return (
        f"| {when} | {c.open_deals:,} | {c.flagged:,} ({c.share:.1%}) | {_rate(c.flagged_win_rate)} | "
        f"{_rate(c.unflagged_win_rate)} | {c.gap or 0:+.1%} | {c.ratio or 0:.2f} | {'yes' if c.apart else 'no'} |"
    )


def _signals(c: DateCheck) -> list[str]:
    out = ["| signal | holds | win rate | alone | win rate alone | among the stalled |", "|---|---:|---|---:|---|---:|"]
    for r in c.reasons:
        out.append(
            f"| {r.reason} | {r.holds:,} ({r.share:.1%}) | {_rate(r.win_rate)} | {r.alone:,} | "
            f"{_rate(r.alone_win_rate)} | {r.stalled:,} |"
        )
    out.append(f"| a signal, not stalled | {c.not_raised:,} | {_rate(c.not_raised_win_rate)} | | | |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 24))
    parser.add_argument("--offsets", type=int, nargs="+", default=[120, 90, 60])
    parser.add_argument("--min-sample", type=int, default=30)
    parser.add_argument("--store", type=Path, help="an existing store (its history must reach --end)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store
        if path is None:
            t = time.perf_counter()
            config = DemoConfig(opportunities=args.opportunities, seed=args.seed, start=date(2023, 1, 1), end=args.end)
            generate(Path(tmp) / "export", config)
            path = Path(tmp) / "demo.duckdb"
            with open_seat(path) as seat:
                seat.ingest(IngestRequest(path=Path(tmp) / "export"))
            built = time.perf_counter() - t
            print(f"demo: {args.opportunities:,} opportunities, seed {args.seed}, built in {built:.1f} s")
        with Store.open(path, read_only=True) as store:
            t = time.perf_counter()
            dates = [args.end - timedelta(days=d) for d in args.offsets]
            check = check_stalls(store, args.end, dates, args.min_sample)
            spent = time.perf_counter() - t
            t = time.perf_counter()
            now = find_stalls(store, args.end, args.min_sample)
            once = time.perf_counter() - t
    print(f"outcomes: won by {check.until}; {check.method}")
    print("| as of | open deals | stalled | stalled win rate | other win rate | gap | ratio | apart |")
    print("|---|---:|---:|---|---|---:|---:|---|")
    for c in [*check.dates, check.pooled]:
        print(_row(c))
    print()
    print("\n".join(_signals(check.pooled)))
    print()
    print(f"as of {args.end}: {now.evidence.note}")
    print(f"check over {len(dates)} dates: {spent:.2f} s; find_stalls at {args.end}: {once:.2f} s")


if __name__ == "__main__":
    main()
