"""Benchmark: an incremental Salesforce sync of a 1 % change beside a full sync, against the local fake org.

The fake org (tests/fake_salesforce.py, real REST and Bulk API 2.0 shapes over local HTTPS) holds a demo
company of N opportunities. Each row's SystemModstamp is the moment it last changed (an opportunity: its
last history row), as in a live org. The script times, in one run:

1. the first sync (full: every object, Bulk API 2.0 for objects of ≥ 10,000 rows, REST pages below);
2. a change of 1 % of the opportunities (each moves a stage: a new history row, the deal restamped, and a
   task logged), then the incremental sync that reads it;
3. a second full sync (``--full``) of the same, changed org into a fresh store: the baseline the
   incremental sync is compared with.

It prints rows read, HTTP requests and seconds of each, and the ratio full / incremental.

    python benchmarks/bench_sync.py --opportunities 20000 [--workdir /tmp/bench-sync]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_salesforce import TOKEN, FakeOrg, fake_salesforce, org_from_export

from saleslead.demo import DemoConfig, generate
from saleslead.seat import open_seat
from saleslead.sync import SalesforceSyncRequest, SyncReport
from saleslead.sync.run import sync_salesforce
from saleslead.sync.salesforce_api import SalesforceApi, connect

CHANGED_AT = "2026-07-02T09:00:00.000+0000"


def _restamp(org: FakeOrg) -> None:
    """Each row stamped when it last changed: an opportunity at its newest history row, others when created."""
    last: dict[str, str] = {}
    for row in org.objects["OpportunityHistory"].rows:
        row["SystemModstamp"] = row["CreatedDate"]
        last[row["OpportunityId"]] = max(last.get(row["OpportunityId"], ""), row["CreatedDate"])
    for row in org.objects["Opportunity"].rows:
        row["SystemModstamp"] = last.get(row["Id"], row["CreatedDate"])
    for name in ("User", "Account", "Task", "ForecastingQuota"):
        for row in org.objects[name].rows:
            when = row.get("CreatedDate") or row.get("ActivityDate") or row.get("StartDate")
            row["SystemModstamp"] = f"{when}T12:00:00.000+0000" if when and len(when) == 10 else when


def _change(org: FakeOrg, share: float, seed: int = 1) -> int:
    """Move ``share`` of the open deals (or any deals) one step: a history row, a restamp, a task."""
    rng = random.Random(seed)
    opps = org.objects["Opportunity"].rows
    picked = rng.sample(opps, max(1, int(len(opps) * share)))
    for i, opp in enumerate(picked):
        opp["SystemModstamp"] = CHANGED_AT
        opp["Amount"] = (opp["Amount"] or 0) + 100
        org.objects["OpportunityHistory"].rows.append(
            {
                "Id": f"008BENCH{i:010d}", "OpportunityId": opp["Id"], "CreatedDate": CHANGED_AT,
                "StageName": opp["StageName"], "Amount": opp["Amount"], "CloseDate": opp["CloseDate"],
                "Probability": opp["Probability"], "ForecastCategory": None, "SystemModstamp": CHANGED_AT,
                "IsDeleted": False,
            }
        )  # fmt: skip
        org.objects["Task"].rows.append(
            {"Id": f"00TBENCH{i:010d}", "WhatId": opp["Id"], "ActivityDate": "2026-07-02", "Subject": "Call",
             "Status": "Completed", "SystemModstamp": CHANGED_AT, "IsDeleted": False}
        )  # fmt: skip
    return len(picked)


def _run(store: Path, request: SalesforceSyncRequest) -> tuple[SyncReport, float]:
    with open_seat(store) as seat:
        started = time.perf_counter()
        report = sync_salesforce(seat, request, api=SalesforceApi(connect(), bulk_wait=0))
        return report, time.perf_counter() - started


def _line(label: str, report: SyncReport, seconds: float) -> str:
    rows = sum(o.rows + o.by_id for o in report.objects)
    read = ", ".join(
        f"{o.name} {o.rows:,}{f'+{o.by_id:,}' if o.by_id else ''} {o.api}" for o in report.objects if o.rows
    )
    return f"{label:<38} {rows:>8,} rows {report.requests:>5,} requests {seconds:>7.2f} s   [{read}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.01, help="share of opportunities changed (default 1 %%)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    export = work / "export"
    generate(
        export, DemoConfig(opportunities=args.opportunities, seed=7, start=date(2024, 7, 1), end=date(2026, 6, 30))
    )
    org = org_from_export(export, page_size=2000)
    _restamp(org)
    sizes = {name: len(table.rows) for name, table in org.objects.items()}
    print(f"fake org: {', '.join(f'{k} {v:,}' for k, v in sizes.items())}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with fake_salesforce(org) as (url, cert):
        os.environ.update(REQUESTS_CA_BUNDLE=str(cert), SALESFORCE_INSTANCE_URL=url, SALESFORCE_ACCESS_TOKEN=TOKEN)
        first, first_s = _run(work / "store.duckdb", SalesforceSyncRequest())
        print(_line("first sync (full)", first, first_s))
        changed = _change(org, args.share)
        delta, delta_s = _run(work / "store.duckdb", SalesforceSyncRequest())
        print(_line(f"incremental sync ({changed:,} deals changed)", delta, delta_s))
        full, full_s = _run(work / "baseline.duckdb", SalesforceSyncRequest(full=True))
        print(_line("full sync of the changed org", full, full_s))
    assert delta.ingest is not None
    print(f"incremental: {delta.ingest.history_added:,} events added; full / incremental time: {full_s / delta_s:.1f}×")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
