"""`saleslead sync salesforce` against a local fake org that speaks Salesforce's REST and Bulk 2.0 shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.config import ConfigSetRequest
from saleslead.demo import DemoConfig, generate
from saleslead.errors import InputError, SourceError
from saleslead.funnel import state_as_of
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.store import Store
from saleslead.sync import SalesforceSyncRequest
from saleslead.sync.backoff import Backoff
from saleslead.sync.run import sync_salesforce
from saleslead.sync.salesforce_api import SalesforceApi, connect

from .fake_salesforce import TOKEN, FakeOrg, fake_salesforce, org_from_export
from .fake_salesforce_duckdb import duck_org_from_export

EXPORT_STAMP = "2026-06-30T23:59:59Z"


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sf") / "export"
    generate(out, DemoConfig(opportunities=400, seed=5, start=date(2025, 1, 1), end=date(2026, 6, 30)))
    return out


@pytest.fixture
def org(small_export: Path) -> FakeOrg:
    return org_from_export(small_export, EXPORT_STAMP, page_size=500, bulk_page=700)


@pytest.fixture
def server(org: FakeOrg, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fake_salesforce(org) as (url, cert):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        monkeypatch.setenv("SALESFORCE_INSTANCE_URL", url)
        monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", TOKEN)
        for name in ("SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        yield url


@pytest.fixture
def seat(tmp_path: Path) -> Iterator[Seat]:
    with open_seat(tmp_path / "synced.duckdb") as opened:
        yield opened


def _api(delays: list[float] | None = None, attempts: int = 6) -> SalesforceApi:
    sleep = delays.append if delays is not None else (lambda _: None)
    return SalesforceApi(connect(), backoff=Backoff(attempts=attempts, base=0.5, cap=4.0, sleep=sleep), bulk_wait=0)


def _rows(seat: Seat, table: str, order: list[str], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    arrow: pa.Table = seat.store.table(table).to_pyarrow()
    kept = arrow.drop_columns([c for c in drop if c in arrow.column_names])
    return sorted(kept.to_pylist(), key=lambda r: tuple(str(r[c]) for c in order))


def _same_store(synced: Seat, folder: Seat) -> None:
    """The synced store holds what ingesting the export folder holds (ids, states, events, owners)."""
    history_key = ["opportunity_id", "changed_at", "source"]
    drop_history = ("seq", "ingest_id")
    assert _rows(synced, "history", history_key, drop_history) == _rows(folder, "history", history_key, drop_history)
    opp_key = ["opportunity_id"]
    assert _rows(synced, "opportunities", opp_key, ("extra",)) == _rows(folder, "opportunities", opp_key, ("extra",))
    for table, key in (("users", "user_id"), ("accounts", "account_id")):
        assert _rows(synced, table, [key], ("extra",)) == _rows(folder, table, [key], ("extra",))
    for table, keys in (("quotas", ["owner_id", "start_date"]), ("activities", ["opportunity_id", "activity_date"])):
        assert _rows(synced, table, keys) == _rows(folder, table, keys)
    assert _rows(synced, "stages", ["stage_order"]) == _rows(folder, "stages", ["stage_order"])


def _folder_seat(small_export: Path, tmp_path: Path) -> Seat:
    folder = open_seat(tmp_path / "folder.duckdb")
    folder.ingest(IngestRequest(path=small_export))
    return folder


def test_first_sync_reads_everything_over_rest_pages_and_equals_the_folder_ingest(
    server: str, org: FakeOrg, seat: Seat, small_export: Path, tmp_path: Path
) -> None:
    report = sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    assert report.mode == "full"
    by_name = {o.name: o for o in report.objects}
    assert by_name["Opportunity"].api == "rest"
    assert by_name["Opportunity"].rows == len(org.objects["Opportunity"].rows)
    assert by_name["OpportunityHistory"].rows == len(org.objects["OpportunityHistory"].rows) > 500
    assert by_name["Event"].api == "absent"  # the demo org logs no events: the sync goes on without them
    assert any(line.startswith("GET /services/data/v59.0/queryAll/") for line in org.log)  # nextRecordsUrl followed
    assert report.ingest is not None
    assert report.ingest.rejected == []
    assert report.ingest.files[0] == "Opportunity (Salesforce API)"
    with _folder_seat(small_export, tmp_path) as folder:
        _same_store(seat, folder)


def test_bulk_api_2_jobs_read_large_objects_with_locators(
    server: str, org: FakeOrg, seat: Seat, small_export: Path, tmp_path: Path
) -> None:
    report = sync_salesforce(seat, SalesforceSyncRequest(bulk_threshold=300), api=_api())
    by_name = {o.name: o for o in report.objects}
    assert by_name["Opportunity"].api == "bulk2"
    assert by_name["OpportunityHistory"].api == "bulk2"
    assert by_name["User"].api == "rest"  # a handful of users: one REST page
    assert sum(line.startswith("POST /services/data/v59.0/jobs/query") for line in org.log) >= 3
    results = [line for line in org.log if line.endswith("/results")]
    assert len(results) > 3  # several pages per job: Sforce-Locator followed
    with _folder_seat(small_export, tmp_path) as folder:
        _same_store(seat, folder)


def _change(org: FakeOrg) -> dict[str, str]:
    """One deal moves a stage, one is created, one deleted; an unchanged deal gets a task. Later stamps."""
    stamp = "2026-07-02T09:30:00.000+0000"
    opps = org.objects["Opportunity"].rows
    open_deal = next(r for r in opps if not r["IsClosed"])
    moved, deleted = open_deal["Id"], next(r for r in opps if r["IsClosed"] and r["Id"] != open_deal["Id"])["Id"]
    quiet = next(r for r in opps if not r["IsClosed"] and r["Id"] != moved)
    open_deal.update(StageName="Closed Won", IsClosed=True, IsWon=True, Probability=100.0, SystemModstamp=stamp)
    open_deal["CloseDate"] = "2026-07-02"
    history = org.objects["OpportunityHistory"]
    history.rows.append(
        {
            "Id": "0088d00B9999999AAA",
            "OpportunityId": moved,
            "CreatedDate": stamp,
            "StageName": "Closed Won",
            "Amount": open_deal["Amount"],
            "CloseDate": "2026-07-02",
            "Probability": 100.0,
            "ForecastCategory": "Closed",
            "SystemModstamp": stamp,
            "IsDeleted": False,
        }
    )
    new = dict(open_deal, Id="0068d00B9999999AAA", Name="Brand new deal", StageName=quiet["StageName"])
    new.update(IsClosed=False, IsWon=False, Probability=quiet["Probability"], CreatedDate=stamp, CloseDate="2026-09-30")
    opps.append(new)
    gone = next(r for r in opps if r["Id"] == deleted)
    gone.update(IsDeleted=True, SystemModstamp=stamp)
    for row in history.rows:
        if row["OpportunityId"] == deleted:
            row.update(IsDeleted=True, SystemModstamp=stamp)
    org.objects["Task"].rows.append(
        {"Id": "00T8d00B9999999AAA", "WhatId": quiet["Id"], "ActivityDate": "2026-07-01", "Subject": "Call",
         "Status": "Completed", "SystemModstamp": stamp, "IsDeleted": False}
    )  # fmt: skip
    return {"moved": moved, "new": new["Id"], "deleted": deleted, "quiet": quiet["Id"]}


def test_incremental_sync_reads_only_the_change_and_removes_deleted_deals(
    server: str, org: FakeOrg, seat: Seat
) -> None:
    sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    before = seat.store.count("history")
    ids = _change(org)
    org.log.clear()
    # every row of the demo org shares one stamp: without an overlap only the change is read
    report = sync_salesforce(seat, SalesforceSyncRequest(overlap_minutes=0), api=_api())
    assert report.mode == "incremental"
    by_name = {o.name: o for o in report.objects}
    assert by_name["Opportunity"].rows == 3  # moved, new, deleted
    assert by_name["Opportunity"].deleted == 1
    assert by_name["Opportunity"].by_id == 1  # the quiet deal, named by its new task
    assert by_name["Task"].rows == 1
    assert report.removed_opportunities == 1
    stored = {r["opportunity_id"]: r for r in seat.store.table("opportunities").to_pyarrow().to_pylist()}
    assert ids["deleted"] not in stored
    assert stored[ids["new"]]["name"] == "Brand new deal"
    state = {r["opportunity_id"]: r for r in state_as_of(seat.store, date(2026, 7, 3)).to_pyarrow().to_pylist()}
    assert state[ids["moved"]]["stage"] == "Closed Won"
    assert state[ids["new"]]["stage"] == org.objects["Opportunity"].rows[-1]["StageName"]
    assert ids["deleted"] not in state
    before_change = {r["opportunity_id"] for r in state_as_of(seat.store, date(2026, 6, 30)).to_pyarrow().to_pylist()}
    assert ids["moved"] in before_change
    assert ids["new"] not in before_change
    history = seat.store.table("history").to_pyarrow()
    assert ids["deleted"] not in set(history.column("opportunity_id").to_pylist())
    assert seat.store.count("history") > before - 20  # a few events of the deleted deal gone, new ones added
    assert report.ingest is not None
    assert report.ingest.history_added >= 2
    # the next sync finds nothing new: the default overlap re-reads the last rows, the store keeps them as they are
    again = sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    assert again.mode == "incremental"
    assert again.unchanged
    assert {o.name: o.rows for o in again.objects}["Opportunity"] == 3  # the three changed deals, re-read
    assert again.removed_opportunities == 0
    assert again.ingest is not None
    assert again.ingest.history_added == 0
    assert seat.store.count("opportunities") == len(stored)


def test_rate_limits_are_retried_with_bounded_backoff(server: str, org: FakeOrg, seat: Seat) -> None:
    org.refuse(2)  # REQUEST_LIMIT_EXCEEDED (403)
    org.refuse(1, status=429, code="TOO_MANY_REQUESTS")
    delays: list[float] = []
    report = sync_salesforce(seat, SalesforceSyncRequest(), api=_api(delays))
    assert report.retries == 3
    assert delays == [0.5, 1.0, 2.0]
    assert seat.store.count("opportunities") == len(org.objects["Opportunity"].rows)


def test_a_limit_that_does_not_lift_fails_cleanly_and_writes_nothing(server: str, org: FakeOrg, seat: Seat) -> None:
    org.refuse(50)
    delays: list[float] = []
    with pytest.raises(SourceError, match="still rate-limited after 3 attempts"):
        sync_salesforce(seat, SalesforceSyncRequest(), api=_api(delays, attempts=3))
    assert delays == [0.5, 1.0]
    assert seat.store.count("opportunities") == 0
    assert seat.records.latest("sync", "salesforce") is None


def test_a_bad_row_fails_the_whole_sync_naming_object_row_and_column(server: str, org: FakeOrg, seat: Seat) -> None:
    org.objects["Opportunity"].rows[3]["Amount"] = -5.0
    with pytest.raises(InputError) as caught:
        sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    assert caught.value.file == "Opportunity (Salesforce API)"
    assert caught.value.column == "Amount"
    assert caught.value.line == 5
    assert seat.store.count("opportunities") == 0
    assert seat.records.latest("sync", "salesforce") is None
    report = sync_salesforce(seat, SalesforceSyncRequest(strict=False), api=_api())
    assert report.ingest is not None
    rejected = [(r.file, r.line, r.column) for r in report.ingest.rejected]
    assert rejected[0] == ("Opportunity (Salesforce API)", 5, "Amount")
    # as in a folder export, the history of a quarantined deal is quarantined with it
    assert {r[0] for r in rejected[1:]} <= {"OpportunityHistory (Salesforce API)"}


def test_custom_fields_come_through_the_mapping(server: str, org: FakeOrg, seat: Seat) -> None:
    table = org.objects["Opportunity"]
    table.fields["Region__c"] = table.fields.pop("Segment__c")
    for row in table.rows:
        row["Region__c"] = "Region " + str(row.pop("Segment__c"))
    request = SalesforceSyncRequest(fields={"Opportunity": {"Segment__c": "Region__c"}})
    sync_salesforce(seat, request, api=_api())
    segments = set(seat.store.table("opportunities").to_pyarrow().column("segment").to_pylist())
    assert segments
    assert all(s.startswith("Region ") for s in segments)


def test_stage_ladder_contact_roles_events_and_a_missing_forecasting_quota(
    server: str, org: FakeOrg, seat: Seat
) -> None:
    del org.objects["ForecastingQuota"]
    stages = ["Qualification", "Discovery", "Solution", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
    org.add(
        "OpportunityStage",
        {"ApiName": "string", "MasterLabel": "string", "IsActive": "boolean", "IsClosed": "boolean",
         "IsWon": "boolean", "DefaultProbability": "currency", "SortOrder": "int"},
        [{"ApiName": name, "MasterLabel": name, "IsActive": True, "IsClosed": name.startswith("Closed"),
          "IsWon": name == "Closed Won", "DefaultProbability": [10, 20, 40, 60, 80, 100, 0][i], "SortOrder": i + 1}
         for i, name in enumerate(stages)],
    )  # fmt: skip
    first = org.objects["Opportunity"].rows[0]["Id"]
    org.add(
        "OpportunityContactRole",
        {"Id": "id", "OpportunityId": "reference", "ContactId": "reference", "IsPrimary": "boolean", "Role": "string"},
        [{"Id": "00K1", "OpportunityId": first, "ContactId": "0031", "IsPrimary": True, "Role": "Decision Maker"},
         {"Id": "00K2", "OpportunityId": first, "ContactId": "0032", "IsPrimary": False, "Role": "Evaluator"}],
    )  # fmt: skip
    org.add(
        "Event",
        {"Id": "id", "WhatId": "reference", "ActivityDate": "date"},
        [{"Id": "00U1", "WhatId": first, "ActivityDate": "2026-06-29"}],
    )
    report = sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    by_name = {o.name: o for o in report.objects}
    assert by_name["ForecastingQuota"].api == "absent"
    assert by_name["Event"].rows == 1
    ladder = seat.store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    known = [r["name"] for r in ladder if r["name"] in stages]
    assert known == stages
    assert {r["name"]: r["probability"] for r in ladder}["Solution"] == 40
    row = seat.store.table("opportunities").filter(lambda t: t.opportunity_id == first).to_pyarrow().to_pylist()[0]
    assert json.loads(row["extra"])["ContactRoles"] == "2"
    assert json.loads(row["extra"])["PrimaryContactId"] == "0031"
    activities = seat.store.table("activities").filter(lambda t: t.opportunity_id == first).to_pyarrow()
    assert date(2026, 6, 29) in activities.column("activity_date").to_pylist()


def test_the_seats_stage_overrides_and_segment_rules_steer_a_sync(server: str, org: FakeOrg, seat: Seat) -> None:
    """A sync reads the org as ``ingest`` reads a folder: the configured stage order wins over the learned one,
    and accounts without a segment are banded by the configured rules."""
    del org.objects["Account"].fields["Segment__c"]  # the org keeps no segment: the employee bands give it
    seat.config_set(ConfigSetRequest(key="stages", value='[{name = "Discovery"}, {name = "Qualification"}]'))
    seat.config_set(ConfigSetRequest(key="segment_bands", value="{Small = [0, 500], Large = [500]}"))
    sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    ladder = seat.store.table("stages").order_by("stage_order").to_pyarrow().column("name").to_pylist()
    assert ladder[:2] == ["Discovery", "Qualification"]  # learned, Qualification comes first
    accounts = seat.store.table("accounts").to_pyarrow().to_pylist()
    assert {a["segment"] for a in accounts} == {"Small", "Large"}
    assert all((a["segment"] == "Large") == (a["employees"] >= 500) for a in accounts)


def test_cli_json_and_credentials_never_shown(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "cli.duckdb"
    runner = CliRunner()
    result = runner.invoke(app, ["sync", "salesforce", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.stdout
    body = json.loads(result.stdout)
    assert body["source"] == "salesforce"
    assert body["mode"] == "full"
    assert body["ingest"]["opportunities_new"] > 0
    with open_seat(store) as opened:
        record = opened.records.latest("sync", "salesforce")
        assert record is not None
        assert TOKEN not in json.dumps(record.payload)
        assert record.payload["watermarks"]["Opportunity"].startswith("2026-06-30T23:59:59")
    assert TOKEN not in result.stdout
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "wrong-token-value")
    refused = runner.invoke(app, ["sync", "salesforce", "--store", str(store), "--json"])
    assert refused.exit_code == 1
    error = json.loads(refused.stdout)["error"]
    assert error["type"] == "SourceError"
    assert "INVALID_SESSION_ID" in error["message"]
    assert "wrong-token-value" not in refused.stdout
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN")
    missing = runner.invoke(app, ["sync", "salesforce", "--store", str(store), "--json"])
    assert missing.exit_code == 2
    assert "SALESFORCE_ACCESS_TOKEN" in json.loads(missing.stdout)["error"]["hint"]


def test_removing_deleted_deals_is_the_same_on_every_engine(any_store: Store, small_export: Path) -> None:
    from saleslead.ingest import read_export

    any_store.ingest(read_export(small_export))
    ids = any_store.table("opportunities").order_by("opportunity_id").limit(2).to_pyarrow().column(0).to_pylist()
    history = any_store.count("history")
    gone_events = int(any_store.table("history").filter(lambda t: t.opportunity_id.isin(ids)).count().execute())
    assert any_store.remove_opportunities([*ids, "006-not-stored"]) == 2
    assert any_store.count("history") == history - gone_events
    assert gone_events > 0
    assert not any_store.table("opportunities").filter(lambda t: t.opportunity_id.isin(ids)).count().execute()


@pytest.mark.slow
def test_the_weekly_cadence_syncs_first(server: str, tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "weekly.duckdb")
    args = ["run", "--as-of", "2026-06-30", "--sync", "salesforce", "--format", "json", "--store", store]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stdout
    synced = json.loads(first.stdout)["ingested"]
    assert synced["source"] == "salesforce"
    assert synced["mode"] == "full"
    assert synced["ingest"]["opportunities_new"] > 0
    again = json.loads(runner.invoke(app, args).stdout)["ingested"]
    assert again["mode"] == "incremental"
    assert again["unchanged"] is True
    bad = runner.invoke(app, ["run", "--as-of", "2026-06-30", "--sync", "zoho", "--format", "json", "--store", store])
    assert bad.exit_code == 2


def test_the_duckdb_org_of_the_benchmark_answers_as_the_tests_org(
    small_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """benchmarks/bench_sync.py serves a million opportunities from DuckDB: the same rows, queries and sync."""
    duck = duck_org_from_export(small_export, tmp_path / "org.duckdb", EXPORT_STAMP, page_size=500, bulk_page=700)
    plain = org_from_export(small_export, EXPORT_STAMP)
    opp = plain.objects["Opportunity"].rows[7]["Id"]
    queries = [
        *(f"SELECT {', '.join(t.fields)} FROM {name}" for name, t in plain.objects.items()),
        f"SELECT Id, StageName FROM OpportunityHistory WHERE (OpportunityId IN ('{opp}', 'nope')) "
        "AND (CreatedDate > 2025-03-01T00:00:00Z)",
        "SELECT Id, Field FROM OpportunityFieldHistory WHERE (Field IN ('Owner', 'OwnerId'))",
        "SELECT Id FROM Opportunity WHERE (IsClosed = false) AND (ForecastCategoryName != null)",
    ]
    for soql in queries:
        rows, fields, _ = plain.run(soql, True)
        assert list(duck.run(soql, True)[0]) == [{f: r.get(f) for f in fields} for r in rows], soql
        assert len(duck.run(re.sub(r"^SELECT .+? FROM", "SELECT COUNT() FROM", soql), False)[0]) == sum(
            not r["IsDeleted"] for r in rows
        )
    with fake_salesforce(duck) as (url, cert):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        monkeypatch.setenv("SALESFORCE_INSTANCE_URL", url)
        monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", TOKEN)
        with open_seat(tmp_path / "synced.duckdb") as seat:
            report = sync_salesforce(seat, SalesforceSyncRequest(bulk_threshold=300), api=_api())
            assert {o.name: o.api for o in report.objects}["OpportunityHistory"] == "bulk2"
            with _folder_seat(small_export, tmp_path) as folder:
                _same_store(seat, folder)
            duck.sql(
                'UPDATE "Opportunity" SET "IsDeleted" = true, "SystemModstamp" = \'2026-07-02T09:30:00.000+0000\' '
                f"WHERE \"Id\" = '{opp}'"
            )
            again = sync_salesforce(seat, SalesforceSyncRequest(overlap_minutes=0), api=_api())
            assert {o.name: o.rows for o in again.objects}["Opportunity"] == 1
            assert again.removed_opportunities == 1
            assert seat.store.count("opportunities") == len(plain.objects["Opportunity"].rows) - 1


def test_only_owner_changes_are_read_from_field_history_and_contact_roles_follow_a_delta(
    server: str, org: FakeOrg, seat: Seat
) -> None:
    history = org.objects["OpportunityFieldHistory"]
    owners = len(history.rows)
    assert owners > 0
    assert {r["Field"] for r in history.rows} <= {"Owner", "OwnerId"}
    deal = org.objects["Opportunity"].rows[5]["Id"]
    history.rows.append(
        {"Id": "0178d00B9999999AAA", "OpportunityId": deal, "CreatedDate": "2026-06-01T10:00:00.000+0000",
         "Field": "Amount", "DataType": "Currency", "OldValue": "1", "NewValue": "2", "IsDeleted": False}
    )  # fmt: skip
    role = {
        "OpportunityId": deal,
        "IsPrimary": False,
        "Role": "Evaluator",
        "SystemModstamp": "2026-06-30T10:00:00.000+0000",
    }
    org.add(
        "OpportunityContactRole",
        {"Id": "id", "OpportunityId": "reference", "ContactId": "reference", "IsPrimary": "boolean", "Role": "string"},
        [role | {"Id": "00K1", "ContactId": "0031", "IsPrimary": True, "Role": "Decision Maker"}],
    )
    first = sync_salesforce(seat, SalesforceSyncRequest(), api=_api())
    assert {o.name: o.rows for o in first.objects}["OpportunityFieldHistory"] == owners  # the Amount row not read

    def extra() -> dict[str, Any]:
        row = seat.store.table("opportunities").filter(lambda t: t.opportunity_id == deal).to_pyarrow().to_pylist()
        return dict(json.loads(row[0]["extra"]))

    assert (extra()["ContactRoles"], extra()["PrimaryContactId"]) == ("1", "0031")
    # a second contact joins the (otherwise unchanged) deal: the delta fetches the deal and all its roles
    later = "2026-07-02T09:30:00.000+0000"
    org.objects["OpportunityContactRole"].rows.append(
        role | {"Id": "00K2", "ContactId": "0032", "SystemModstamp": later}
    )
    delta = sync_salesforce(seat, SalesforceSyncRequest(overlap_minutes=0), api=_api())
    by_name = {o.name: o for o in delta.objects}
    assert by_name["OpportunityContactRole"].rows == 1
    assert (by_name["Opportunity"].rows, by_name["Opportunity"].by_id) == (0, 1)
    assert (extra()["ContactRoles"], extra()["PrimaryContactId"]) == ("2", "0031")


def test_rate_limits_inside_bulk_jobs_are_retried_and_the_sync_is_whole(
    server: str, org: FakeOrg, seat: Seat, small_export: Path, tmp_path: Path
) -> None:
    org.refuse(1, path="/jobs/query")  # REQUEST_LIMIT_EXCEEDED (403) creating or polling a job
    org.refuse(1, status=429, code="TOO_MANY_REQUESTS", path="/results")  # a gateway's 429 on a results page
    delays: list[float] = []
    report = sync_salesforce(seat, SalesforceSyncRequest(bulk_threshold=300), api=_api(delays))
    assert {o.name: o.api for o in report.objects}["OpportunityHistory"] == "bulk2"
    assert report.retries == 2
    assert delays == [0.5, 1.0]  # one job, run again after each refusal: the backoff grows
    assert org.refusals == []
    with _folder_seat(small_export, tmp_path) as folder:
        _same_store(seat, folder)


def test_a_failed_bulk_job_fails_the_sync_and_writes_nothing(server: str, org: FakeOrg, seat: Seat) -> None:
    org.fail_jobs = 1
    with pytest.raises(SourceError, match=r"Bulk API 2\.0 job on Opportunity.*INVALID_QUERY_LOCATOR"):
        sync_salesforce(seat, SalesforceSyncRequest(bulk_threshold=300), api=_api())
    assert seat.store.count("opportunities") == 0
    assert seat.records.latest("sync", "salesforce") is None
