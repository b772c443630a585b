"""Benchmark: an incremental Salesforce sync of a 1 % change beside a full sync, against the local fake org.

The fake org (tests/fake_salesforce.py's server, real REST and Bulk API 2.0 shapes over local HTTPS) holds
a demo company of N opportunities, its rows in a DuckDB file (tests/fake_salesforce_duckdb.py: a million
opportunities are ≈ 14 M rows, too many for Python dicts). Each row's SystemModstamp is the moment it last
changed (an opportunity: its last history row), as in a live org. The script times, in one run:

1. the first sync (full: every object, Bulk API 2.0 for objects of ≥ 10,000 rows, REST pages below);
2. a change of 1 % of the opportunities (each deal's amount raised: a new history row, the deal restamped,
   and a task logged), then the incremental sync that reads it;
3. a full sync (``--full``) of the same, changed org into a fresh store: the baseline the incremental sync
   is compared with.

It prints rows read, HTTP requests, wall and CPU seconds and peak RSS of each, and the ratio full /
incremental. The fake org serves from the same process (its CPU is counted with the sync's; it answers
from DuckDB, where Salesforce would use its index on SystemModstamp).

    nice python benchmarks/bench_sync.py --opportunities 1000000 --workdir /tmp/bench-sync
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_salesforce import TOKEN, fake_salesforce
from tests.fake_salesforce_duckdb import DuckOrg, duck_org_from_export

from saleslead.demo import DemoConfig, generate
from saleslead.seat import open_seat
from saleslead.sync import SalesforceSyncRequest, SyncReport
from saleslead.sync.run import sync_salesforce
from saleslead.sync.salesforce_api import SalesforceApi, connect

CHANGED_AT = "2026-07-02T09:00:00.000+0000"


def _restamp(org: DuckOrg) -> None:
    """Each row stamped when it last changed: an opportunity at its newest history row, others when created."""
    org.sql('UPDATE "OpportunityHistory" SET "SystemModstamp" = "CreatedDate"')
    org.sql('UPDATE "Opportunity" SET "SystemModstamp" = "CreatedDate"')
    org.sql(
        'UPDATE "Opportunity" AS o SET "SystemModstamp" = h.last FROM (SELECT "OpportunityId" AS id, '
        'max("CreatedDate") AS last FROM "OpportunityHistory" GROUP BY 1) AS h WHERE h.id = o."Id"'
    )
    for name in ("User", "Account", "Task", "ForecastingQuota"):
        have = [c for c in ("CreatedDate", "ActivityDate", "StartDate") if c in org.objects[name].fields]
        when = f"coalesce({', '.join(chr(34) + c + chr(34) for c in have)})"
        # a day's rows spread over the day (as edits are), not all at one moment
        spread = f'CAST(CAST({when} AS DATE) AS TIMESTAMP) + to_seconds(CAST(hash("Id") % 86400 AS BIGINT))'
        org.sql(
            f'UPDATE "{name}" SET "SystemModstamp" = CASE WHEN length({when}) = 10 '
            f"THEN strftime({spread}, '%Y-%m-%dT%H:%M:%S.000+0000') ELSE {when} END"
        )


def _change(org: DuckOrg, share: float) -> int:
    """Raise the amount of ``share`` of the deals (picked by a hash of the id): a history row, a restamp, a task."""
    size = max(1, int(org.count("Opportunity") * share))
    org.sql(
        f'CREATE OR REPLACE TEMP TABLE picked AS SELECT row_number() OVER (ORDER BY hash("Id"), "Id") AS i, "Id" '
        f'FROM "Opportunity" ORDER BY hash("Id"), "Id" LIMIT {size}'
    )
    org.sql(
        f'UPDATE "Opportunity" SET "SystemModstamp" = \'{CHANGED_AT}\', "Amount" = coalesce("Amount", 0) + 100 '
        'WHERE "Id" IN (SELECT "Id" FROM picked)'
    )
    org.sql(
        'INSERT INTO "OpportunityHistory" BY NAME SELECT (SELECT max(_rn) FROM "OpportunityHistory") + p.i AS _rn, '
        '\'008BENCH\' || lpad(CAST(p.i AS VARCHAR), 10, \'0\') AS "Id", o."Id" AS "OpportunityId", '
        f'\'{CHANGED_AT}\' AS "CreatedDate", o."StageName", o."Amount", o."CloseDate", o."Probability", '
        f'\'{CHANGED_AT}\' AS "SystemModstamp", FALSE AS "IsDeleted" '
        'FROM picked AS p JOIN "Opportunity" AS o ON o."Id" = p."Id"'
    )
    org.sql(
        'INSERT INTO "Task" BY NAME SELECT (SELECT max(_rn) FROM "Task") + p.i AS _rn, '
        '\'00TBENCH\' || lpad(CAST(p.i AS VARCHAR), 10, \'0\') AS "Id", p."Id" AS "WhatId", '
        f"'2026-07-02' AS \"ActivityDate\", 'Call' AS \"Subject\", 'Completed' AS \"Status\", "
        f'\'{CHANGED_AT}\' AS "SystemModstamp", FALSE AS "IsDeleted" FROM picked AS p'
    )
    return size


class _Peak:
    """Peak RSS of this process while a piece of work runs (sampled every 0.2 s)."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.2):
            self.peak = max(self.peak, self.me.memory_info().rss)

    def __enter__(self) -> _Peak:
        self.peak = self.me.memory_info().rss
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _run(store: Path, request: SalesforceSyncRequest) -> tuple[SyncReport, dict[str, float]]:
    with open_seat(store) as seat, _Peak() as peak:
        cpu, started = time.process_time(), time.perf_counter()
        report = sync_salesforce(seat, request, api=SalesforceApi(connect(), bulk_wait=0))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return report, {"wall": wall, "cpu": cpu, "gb": peak.peak / 1e9}


def _line(label: str, report: SyncReport, cost: dict[str, float]) -> str:
    rows = sum(o.rows + o.by_id for o in report.objects)
    read = ", ".join(
        f"{o.name} {o.rows:,}{f'+{o.by_id:,}' if o.by_id else ''} {o.api}" for o in report.objects if o.rows
    )
    return (
        f"{label:<40} {rows:>11,} rows {report.requests:>5,} requests {cost['wall']:>8.2f} s wall "
        f"{cost['cpu']:>7.1f} s CPU {cost['gb']:5.2f} GB peak RSS\n{'':<6}[{read}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.01, help="share of opportunities changed (default 1 %%)")
    parser.add_argument("--workdir", type=Path, default=None, help="kept, with the export for the next run")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip step 3: compare the change with the first (full) sync"
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*.duckdb*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    export = work / f"export-{args.opportunities}"
    started = time.perf_counter()
    if not (export / "User.csv").exists():
        config = DemoConfig(opportunities=args.opportunities, seed=7, start=date(2024, 7, 1), end=date(2026, 6, 30))
        generate(export, config)
    made = time.perf_counter() - started
    org = duck_org_from_export(export, work / "org.duckdb", page_size=2000)
    _restamp(org)
    sizes = {name: org.count(name) for name in org.objects}
    print(f"fake org (export {made:.0f} s, loaded in {time.perf_counter() - started - made:.0f} s): "
          + ", ".join(f"{k} {v:,}" for k, v in sizes.items()), flush=True)  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)", flush=True)
    with fake_salesforce(org) as (url, cert):
        os.environ.update(REQUESTS_CA_BUNDLE=str(cert), SALESFORCE_INSTANCE_URL=url, SALESFORCE_ACCESS_TOKEN=TOKEN)
        first, first_cost = _run(work / "store.duckdb", SalesforceSyncRequest())
        print(_line("first sync (full)", first, first_cost), flush=True)
        changed = _change(org, args.share)
        delta, delta_cost = _run(work / "store.duckdb", SalesforceSyncRequest())
        print(_line(f"incremental sync ({changed:,} deals changed)", delta, delta_cost), flush=True)
        if args.no_baseline:
            full, full_cost = first, first_cost
        else:
            full, full_cost = _run(work / "baseline.duckdb", SalesforceSyncRequest(full=True))
            print(_line("full sync of the changed org (baseline)", full, full_cost), flush=True)
    assert delta.ingest is not None
    ratio = full_cost["wall"] / delta_cost["wall"]
    read = sum(o.rows + o.by_id for o in delta.objects) / sum(o.rows for o in full.objects)
    print(
        f"incremental: {delta.ingest.history_added:,} events added, {read:.2%} of the full sync's rows read; "
        f"{'first' if args.no_baseline else 'full'} / incremental: {ratio:.1f}× wall, "
        f"{full_cost['cpu'] / delta_cost['cpu']:.1f}× CPU"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}; peak RSS of the run {_maxrss():.2f} GB")
    org.con.close()
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


def _maxrss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


if __name__ == "__main__":
    main()
