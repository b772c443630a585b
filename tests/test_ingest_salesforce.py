"""Salesforce object exports: the real sample, segments, stages, snapshot, optional objects."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from saleslead.ingest import IngestSettings, StageSetting, read_export

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = DATA / "salesforce-sample"

OPP_HEADER = (
    "Id,AccountId,OwnerId,Name,Amount,StageName,Probability,CloseDate,CreatedDate,IsClosed,IsWon,"
    "Type,LeadSource,Segment__c,Color__c\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def org(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "Opportunity.csv",
        OPP_HEADER
        + "o1,a1,u1,Alpha,1000,Discover,10,2024-03-31,2024-01-05T09:00:00Z,false,false,New Business,Web,,red\n"
        + "o2,a2,u2,Beta,2000,Propose,60,2024-04-30,2024-01-06T09:00:00Z,false,false,,,,blue\n"
        + "o3,a3,u1,Gamma,3000,Signed,100,2024-02-28,2024-01-07T09:00:00Z,true,true,Renewal,Partner,Strategic,\n"
        + "o4,,u2,Delta,,Dropped,0,2024-02-20,2024-01-08T09:00:00Z,true,false,,,,\n",
    )
    write(
        tmp_path,
        "OpportunityHistory.csv",
        "OpportunityId,CreatedDate,StageName,Amount,CloseDate,Probability,ForecastCategory\n"
        "o1,2024-01-05T09:00:00Z,Discover,1000,2024-03-31,10,Pipeline\n"
        "o2,2024-01-06T09:00:00Z,Discover,2000,2024-04-30,10,Pipeline\n"
        "o2,2024-01-20T09:00:00Z,Propose,2000,2024-04-30,60,Pipeline\n"
        "o3,2024-01-07T09:00:00Z,Discover,3000,2024-02-28,10,Pipeline\n"
        "o3,2024-02-28T17:30:00Z,Signed,3000,2024-02-28,100,Closed\n"
        "o4,2024-01-08T09:00:00Z,Discover,,2024-02-20,10,Pipeline\n"
        "o4,2024-02-20T10:00:00Z,Dropped,,2024-02-20,0,Omitted\n",
    )
    write(
        tmp_path,
        "Account.csv",
        "Id,Name,Industry,NumberOfEmployees,BillingCountry,OwnerId,Segment__c\n"
        "a1,Acme,Tech,50,US,u1,\n"
        "a2,Bigco,Retail,5000,DE,u2,\n"
        "a3,Mid,Retail,500,FR,u2,Named\n",
    )
    return tmp_path


BANDS = {"SMB": (0, 200), "Mid-Market": (200, 2000), "Enterprise": (2000, None)}


def test_real_sample_counts_stages_and_dates() -> None:
    if not SAMPLE.is_dir():
        pytest.skip(f"the real Salesforce sample is not at {SAMPLE}")
    export = read_export(SAMPLE)
    assert export.opportunities.num_rows == 36
    assert export.history.num_rows == 48
    assert export.has_history
    stages = [s.name for s in export.stages]
    assert stages[-2:] == ["Closed Won", "Closed Lost"]
    assert stages.index("Prospecting") < stages.index("Needs Analysis") < stages.index("Negotiation/Review")
    assert [s.is_won for s in export.stages if s.is_closed] == [True, False]
    probabilities = [s.probability for s in export.stages if not s.is_closed]
    assert probabilities == sorted(probabilities)
    first = export.opportunities.to_pylist()[0]
    assert first["close_date"] == date(2024, 2, 3)  # 02/03/24
    assert first["created_at"] == datetime(2026, 2, 23)
    assert first["motion"] == "Unknown"  # the sample has no Type column
    assert json.loads(first["extra"])["Opp Creation Date_Simulated"] == "02/12/24"
    # LastModifiedDate max: 03/07/26 09:00 PM
    assert export.snapshot_at == datetime(2026, 3, 7, 21, 0)
    changed = export.history.column("changed_at").to_pylist()
    assert datetime(2026, 2, 23, 20, 55) in changed
    blank_amounts = export.opportunities.column("amount").null_count
    assert blank_amounts == 5
    assert set(export.files) >= {"Opportunity.csv", "OpportunityHistory.csv", "Account.csv"}


def test_segments_motion_channel(org: Path) -> None:
    export = read_export(org, settings=IngestSettings(employee_bands=BANDS))
    rows = {r["opportunity_id"]: r for r in export.opportunities.to_pylist()}
    assert rows["o1"]["segment"] == "SMB"  # account bands, 50 employees
    assert rows["o2"]["segment"] == "Enterprise"
    assert rows["o3"]["segment"] == "Strategic"  # Segment__c on the opportunity wins
    assert rows["o4"]["segment"] == "Unassigned"  # no account
    assert rows["o2"]["motion"] == "Unknown"
    assert rows["o2"]["channel"] == "Unknown"
    assert rows["o1"]["motion"] == "New Business"
    assert json.loads(rows["o1"]["extra"]) == {"Color__c": "red"}
    accounts = {r["account_id"]: r for r in export.accounts.to_pylist()}
    assert accounts["a3"]["segment"] == "Named"
    assert accounts["a2"]["employees"] == 5000


def test_stages_learned_without_config(org: Path) -> None:
    export = read_export(org)
    assert [(s.name, s.is_closed, s.is_won) for s in export.stages] == [
        ("Discover", False, False),
        ("Propose", False, False),
        ("Signed", True, True),
        ("Dropped", True, False),
    ]
    assert [s.order for s in export.stages] == [0, 1, 2, 3]


def test_configured_stages_override(org: Path) -> None:
    settings = IngestSettings(
        stages=(
            StageSetting(name="Propose"),
            StageSetting(name="Discover"),
            StageSetting(name="Dropped", is_closed=True),
        )
    )
    export = read_export(org, settings=settings)
    names = [s.name for s in export.stages]
    assert names == ["Propose", "Discover", "Signed", "Dropped"]


def test_snapshot_without_modstamps_is_latest_lived_date(org: Path) -> None:
    export = read_export(org)
    assert export.snapshot_at == datetime(2024, 2, 28, 17, 30)  # last history change
    again = read_export(org)
    assert again.snapshot_at == export.snapshot_at
    explicit = read_export(org, snapshot_at=datetime(2024, 3, 1, 12))
    assert explicit.snapshot_at == datetime(2024, 3, 1, 12)


def test_users_quotas_activities_and_progress(org: Path) -> None:
    write(
        org,
        "User.csv",
        "Id,Name,Title,ManagerId,IsActive,CreatedDate,StartDate__c,EndDate__c,Role__c\n"
        "u1,Ann,AE,m1,TRUE,2020-01-01T00:00:00.000+0000,2021-05-01,,AE\n"
        "u2,Bob,AE,m1,0,2020-01-01T00:00:00.000+0000,2022-05-01,2024-01-31,AE\n"
        "m1,May,Manager,,1,2019-01-01T00:00:00.000+0000,2019-01-01,,manager\n",
    )
    write(org, "ForecastingQuota.csv", "QuotaOwnerId,StartDate,QuotaAmount\nu1,2024-01-01,50000\n")
    write(org, "Task.csv", "Id,WhatId,ActivityDate\nt1,o1,2024-01-10\nt2,a1,2024-01-11\n")
    write(org, "Event.csv", "Id,WhatId,ActivityDate\ne1,o2,2024-01-12\n")
    calls: list[tuple[str, int]] = []
    export = read_export(
        org,
        settings=IngestSettings(user_start_field="StartDate__c"),
        progress=lambda label, rows: calls.append((label, rows)),
    )
    users = {u["user_id"]: u for u in export.users.to_pylist()}
    assert users["u1"]["start_date"] == date(2021, 5, 1)
    assert users["u2"]["end_date"] == date(2024, 1, 31)
    assert users["u2"]["is_active"] is False
    assert users["u1"]["manager_id"] == "m1"
    assert export.quotas.to_pylist() == [{"owner_id": "u1", "start_date": date(2024, 1, 1), "amount": 50000.0}]
    # the Task on an account (a1) is not an opportunity activity
    assert sorted(export.activities.column("opportunity_id").to_pylist()) == ["o1", "o2"]
    assert ("Opportunity.csv", 4) in calls
    assert ("User.csv", 3) in calls
    assert len(calls) == 7
