"""`saleslead ingest --from URL --schema NAME`: Fivetran's Salesforce tables on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.demo import DemoConfig, generate
from saleslead.errors import InputError
from saleslead.seat import IngestRequest, open_seat
from saleslead.sync import WarehouseRequest
from saleslead.sync.warehouse import TABLES, fivetran_name, safe_url

from .postgres_server import new_database
from .test_sync_salesforce import _same_store

OBJECTS = {
    "Opportunity": "opportunity",
    "OpportunityHistory": "opportunity_history",
    "OpportunityFieldHistory": "opportunity_field_history",
    "User": "user",
    "Account": "account",
    "ForecastingQuota": "forecasting_quota",
    "Task": "task",
}
SYNCED = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wh") / "export"
    generate(out, DemoConfig(opportunities=300, seed=13, start=date(2025, 1, 1), end=date(2026, 6, 30)))
    return out


def _fivetran(path: Path) -> pa.Table:
    """One export file as Fivetran lands it: snake-case columns, typed, with its bookkeeping columns."""
    table = pacsv.read_csv(path)
    columns = {
        fivetran_name(name): (column.cast(pa.string()) if pa.types.is_null(column.type) else column)
        for name, column in zip(table.column_names, table.columns, strict=True)
    }
    size = table.num_rows
    columns["_fivetran_synced"] = pa.array([SYNCED] * size, pa.timestamp("us", tz="UTC"))
    columns["_fivetran_deleted"] = pa.array([False] * size)
    return pa.table(columns)


def _with_deleted(table: pa.Table, changes: dict[str, object]) -> pa.Table:
    """The first row again, changed and marked deleted: it must never reach the store."""
    row = table.slice(0, 1).to_pylist()[0] | changes | {"_fivetran_deleted": True}
    return pa.concat_tables([table, pa.Table.from_pylist([row], schema=table.schema)])


def _load(url: str, export: Path, schema: str) -> None:
    con = ibis.connect(url)
    try:
        con.raw_sql(f"CREATE SCHEMA {schema}")
        for name, table in OBJECTS.items():
            rows = _fivetran(export / f"{name}.csv")
            if name == "Opportunity":
                rows = _with_deleted(rows, {"id": "006DELETEDXXXXXXXX", "name": "gone"})
            if name == "OpportunityHistory":
                rows = _with_deleted(rows, {"stage_name": "Ghost Stage"})
            con.create_table(table, rows, database=schema)
    finally:
        con.disconnect()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path, export: Path) -> str:
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    else:
        base = request.getfixturevalue("postgres_url")
        if base is None:
            pytest.skip("no PostgreSQL server: install Debian's postgresql or set SALESLEAD_TEST_POSTGRES")
        url = new_database(base)
    _load(url, export, "sf_fivetran")
    return url


def test_fivetran_names() -> None:
    assert fivetran_name("StageName") == "stage_name"
    assert fivetran_name("ForecastCategoryName") == "forecast_category_name"
    assert fivetran_name("NumberOfEmployees") == "number_of_employees"
    assert fivetran_name("Segment__c") == "segment_c"
    assert fivetran_name("StartDate__c") == "start_date_c"
    assert fivetran_name("SystemModstamp") == "system_modstamp"
    assert set(TABLES.values()) >= set(OBJECTS.values())
    assert safe_url("postgres://bob:s3cret@db:5432/wh") == "postgres://bob@db:5432/wh"


def test_warehouse_tables_give_the_store_a_folder_ingest_gives(warehouse: str, export: Path, tmp_path: Path) -> None:
    with open_seat(tmp_path / "from-warehouse.duckdb") as seat:
        report = seat.sync(WarehouseRequest(url=warehouse, schema_name="sf_fivetran"))
        assert report.source == "warehouse"
        assert report.ingest is not None
        assert report.ingest.rejected == []
        counts = {o.name: o.deleted for o in report.objects}
        assert counts["opportunity"] == 1
        assert counts["opportunity_history"] == 1
        with open_seat(tmp_path / "from-folder.duckdb") as folder:
            folder.ingest(IngestRequest(path=export))
            _same_store(seat, folder)
        stored = seat.store.table("opportunities").to_pyarrow().column("opportunity_id")
        assert not pc.any(pc.equal(stored, "006DELETEDXXXXXXXX")).as_py()


def test_a_bad_warehouse_row_names_schema_table_row_and_column(warehouse: str, tmp_path: Path) -> None:
    con = ibis.connect(warehouse)
    try:
        con.raw_sql(
            "UPDATE sf_fivetran.opportunity SET amount = -1 WHERE id = (SELECT min(id) FROM sf_fivetran.opportunity)"
        )
    finally:
        con.disconnect()
    with open_seat(tmp_path / "bad.duckdb") as seat, pytest.raises(InputError) as caught:
        seat.sync(WarehouseRequest(url=warehouse, schema_name="sf_fivetran"))
    assert caught.value.file == "sf_fivetran.opportunity"
    assert caught.value.column == "Amount"
    assert caught.value.line is not None


def test_ingest_from_on_the_command_line(warehouse: str, tmp_path: Path, export: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "cli.duckdb")
    result = runner.invoke(app, ["ingest", "--from", warehouse, "--schema", "sf_fivetran", "--store", store, "--json"])
    assert result.exit_code == 0, result.stdout
    body = json.loads(result.stdout)
    assert body["opportunities_new"] == pacsv.read_csv(export / "Opportunity.csv").num_rows
    assert body["files"][0] == "sf_fivetran.opportunity"
    both = runner.invoke(app, ["ingest", "somewhere", "--from", warehouse, "--store", store, "--json"])
    assert both.exit_code == 2
    missing = runner.invoke(
        app, ["ingest", "--from", warehouse, "--schema", "nothing_here", "--store", store, "--json"]
    )
    assert missing.exit_code == 2
    assert "nothing_here" in json.loads(missing.stdout)["error"]["message"]


def test_a_deal_deleted_upstream_leaves_the_store_and_history_mode_reads_current_versions(
    warehouse: str, tmp_path: Path
) -> None:
    with open_seat(tmp_path / "twice.duckdb") as seat:
        seat.sync(WarehouseRequest(url=warehouse, schema_name="sf_fivetran"))
        stored = seat.store.count("opportunities")
        con = ibis.connect(warehouse)
        try:
            opps = con.table("opportunity", database="sf_fivetran").to_pyarrow()
            live = sorted(
                i
                for i, gone in zip(opps["id"].to_pylist(), opps["_fivetran_deleted"].to_pylist(), strict=True)
                if not gone
            )
            victim, kept = live[0], live[1]
            # Salesforce deletes a deal's history and activities with it; Fivetran marks every such row deleted
            con.raw_sql(f"UPDATE sf_fivetran.opportunity SET _fivetran_deleted = TRUE WHERE id = '{victim}'")
            for table, column in (
                ("opportunity_history", "opportunity_id"),
                ("opportunity_field_history", "opportunity_id"),
                ("task", "what_id"),
            ):
                con.raw_sql(f"UPDATE sf_fivetran.{table} SET _fivetran_deleted = TRUE WHERE {column} = '{victim}'")
            # history mode: each row's versions, only the active one current; an old version of a kept deal
            current = opps.filter(pc.equal(opps["id"], kept))
            old = current.set_column(
                current.schema.get_field_index("stage_name"), "stage_name", pa.array(["Ghost Stage"], pa.string())
            )
            con.raw_sql("ALTER TABLE sf_fivetran.opportunity ADD COLUMN _fivetran_active BOOLEAN")
            con.raw_sql("UPDATE sf_fivetran.opportunity SET _fivetran_active = TRUE")
            con.insert("opportunity", old.append_column("_fivetran_active", pa.array([False])), database="sf_fivetran")
        finally:
            con.disconnect()
        report = seat.sync(WarehouseRequest(url=warehouse, schema_name="sf_fivetran"))
        assert report.removed_opportunities == 1  # the deleted deal; the kept deal's old version is not a deletion
        ids = set(seat.store.table("opportunities").to_pyarrow().column("opportunity_id").to_pylist())
        assert victim not in ids
        assert kept in ids
        assert len(ids) == stored - 1
        history = seat.store.table("history").to_pyarrow()
        assert victim not in set(history.column("opportunity_id").to_pylist())
        assert "Ghost Stage" not in set(history.column("stage").to_pylist())
        assert "Ghost Stage" not in set(seat.store.table("stages").to_pyarrow().column("name").to_pylist())
