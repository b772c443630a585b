"""Mapping profiles: the shipped Maven profile on the real data, a HubSpot export, profile errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from saleslead.errors import MappingError, SchemaError
from saleslead.ingest import CanonicalExport, read_export

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm"


@pytest.fixture(scope="module")
def maven() -> CanonicalExport:
    if not MAVEN.is_dir():
        pytest.skip(f"the Maven CRM data is not at {MAVEN}")
    return read_export(MAVEN, mapping="maven")


def test_maven_counts_and_stages(maven: CanonicalExport) -> None:
    opps = maven.opportunities
    assert opps.num_rows == 8800
    assert pc.sum(opps.column("is_won")).as_py() == 4238
    lost = pc.and_(opps.column("is_closed"), pc.invert(opps.column("is_won")))
    assert pc.sum(lost).as_py() == 2473
    assert [(s.name, s.is_closed, s.is_won) for s in maven.stages] == [
        ("Prospecting", False, False),
        ("Engaging", False, False),
        ("Won", True, True),
        ("Lost", True, False),
    ]
    assert not maven.has_history
    assert maven.history.num_rows == 0


def test_maven_aliases_and_accounts(maven: CanonicalExport) -> None:
    products = set(maven.opportunities.column("product").to_pylist())
    assert "GTX Pro" in products
    assert "GTXPro" not in products
    industries = set(maven.accounts.column("industry").to_pylist())
    assert "technology" in industries
    assert "technolgy" not in industries
    open_rows = maven.opportunities.filter(pc.invert(maven.opportunities.column("is_closed")))
    assert open_rows.num_rows == 2089
    assert open_rows.filter(pc.is_null(open_rows.column("account_id"))).num_rows == 1425


def test_maven_rules(maven: CanonicalExport) -> None:
    opps = maven.opportunities
    assert maven.snapshot_at == datetime(2017, 12, 31)
    open_rows = opps.filter(pc.invert(opps.column("is_closed"))).to_pylist()
    assert {row["close_date"] for row in open_rows} == {date(2018, 2, 26)}  # snapshot + 57-day median
    gtx_pro = next(row for row in open_rows if row["product"] == "GTX Pro")
    assert gtx_pro["amount"] == 4821.0  # list price from products.csv
    prospecting = [row for row in open_rows if row["stage"] == "Prospecting"]
    assert all(row["created_at"] is None for row in prospecting)
    won = opps.filter(opps.column("is_won")).to_pylist()
    assert won[0]["amount"] == 1054.0  # won deals keep close_value
    assert set(opps.column("segment").to_pylist()) == {"GTX", "MG", "GTK"}


def test_maven_user_hierarchy(maven: CanonicalExport) -> None:
    users = {u["user_id"]: u for u in maven.users.to_pylist()}
    assert maven.users.num_rows == 35 + 6 + 3
    agent = users["Anna Snelling"]
    assert (agent["role"], agent["manager_id"]) == ("AE", "Dustin Brinkmann")
    manager = users["Dustin Brinkmann"]
    assert (manager["role"], manager["manager_id"]) == ("manager", "office:Central")
    assert users["office:Central"]["manager_id"] is None
    owners = set(maven.opportunities.column("owner_id").to_pylist())
    assert owners <= set(users)


HUBSPOT = (
    "Deal ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline,Deal Type,"
    "Original Source\n"
    "101,Acme renewal,Closed Won,12000,2024-02-15,2024-01-02 09:15,Ann Lee,Sales Pipeline,"
    "existingbusiness,Direct Traffic\n"
    "102,Bigco,Contract Sent,30000,2024-04-30,2024-01-10 10:00,Bob Ray,Sales Pipeline,newbusiness,"
    "Organic Search\n"
    "103,Cogs,Closed Lost,5000,2024-03-01,2024-01-20 11:00,Ann Lee,Sales Pipeline,,\n"
    "104,Dyno,Appointment Scheduled,,,2024-03-05 16:45,Bob Ray,Sales Pipeline,newbusiness,Referrals\n"
)


def test_hubspot_export(tmp_path: Path) -> None:
    (tmp_path / "hubspot-crm-exports-all-deals-2024-03-06.csv").write_text(HUBSPOT, encoding="utf-8")
    export = read_export(tmp_path, mapping="hubspot")
    rows = {r["opportunity_id"]: r for r in export.opportunities.to_pylist()}
    assert rows["101"]["is_won"] is True
    assert rows["103"]["is_closed"] is True
    assert rows["103"]["is_won"] is False
    assert rows["102"]["motion"] == "newbusiness"
    assert rows["103"]["channel"] == "Unknown"
    assert rows["102"]["owner_id"] == "Bob Ray"
    assert '"Pipeline":"Sales Pipeline"' in rows["102"]["extra"]
    assert export.snapshot_at == datetime(2024, 3, 5, 16, 45)
    # open deal without close date: snapshot day + median won cycle (2024-01-02 -> 2024-02-15 = 44 days)
    assert rows["104"]["close_date"] == date(2024, 4, 18)
    names = [s.name for s in export.stages]
    assert names[0] == "Appointment Scheduled"
    assert names[-2:] == ["Closed Won", "Closed Lost"]
    assert sorted(export.users.column("user_id").to_pylist()) == ["Ann Lee", "Bob Ray"]


def test_profile_problems(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no mapping profile") as caught:
        read_export(tmp_path, mapping="salesforce-classic")
    assert "maven" in (caught.value.hint or "")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntables:\n  opportunities:\n    file: deals.csv\n    columns: {deal_id: Id}\n")
    with pytest.raises(MappingError, match="no canonical field 'deal_id'") as caught:
        read_export(tmp_path, mapping=bad)
    assert caught.value.file == "bad.yaml"
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntables: [\n")
    with pytest.raises(MappingError, match="not valid YAML") as caught:
        read_export(tmp_path, mapping=broken)
    assert caught.value.line is not None


def test_profile_file_and_column_problems(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no file in") as caught:
        read_export(tmp_path, mapping="hubspot")
    assert caught.value.file == "hubspot.yaml"
    (tmp_path / "deals.csv").write_text("Deal ID,Deal Name,Amount\n1,x,5\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="missing required columns") as schema:
        read_export(tmp_path, mapping="hubspot")
    assert (schema.value.file, schema.value.line, schema.value.column) == ("deals.csv", 1, "Deal Stage")
