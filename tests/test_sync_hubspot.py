"""`saleslead sync hubspot` against a local fake portal that speaks HubSpot's CRM API shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.config import ConfigSetRequest
from saleslead.demo import DemoConfig, generate
from saleslead.funnel import state_as_of
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.sync import HubSpotSyncRequest
from saleslead.sync.backoff import Backoff
from saleslead.sync.hubspot import sync_hubspot
from saleslead.sync.hubspot_api import HubSpotApi, connect_hubspot

from .fake_hubspot import TOKEN, FakePortal, fake_hubspot, portal_from_export


@pytest.fixture(scope="module")
def export_and_stages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], Path]:
    root = tmp_path_factory.mktemp("hs")
    out = root / "export"
    generate(out, DemoConfig(opportunities=300, seed=9, start=date(2025, 1, 1), end=date(2026, 6, 30)))
    folder_store = root / "folder.duckdb"
    with open_seat(folder_store) as seat:
        seat.ingest(IngestRequest(path=out))
        stages = seat.store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    ladder = [{"name": s["name"], "is_closed": s["is_closed"], "probability": s["probability"]} for s in stages]
    return out, ladder, folder_store


@pytest.fixture
def portal(export_and_stages: tuple[Path, list[dict[str, Any]], Path]) -> FakePortal:
    return portal_from_export(export_and_stages[0], export_and_stages[1])


@pytest.fixture
def server(portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fake_hubspot(portal) as (url, cert):
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("HUBSPOT_API_BASE", url)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        yield url


@pytest.fixture
def seat(tmp_path: Path) -> Iterator[Seat]:
    with open_seat(tmp_path / "hubspot.duckdb") as opened:
        yield opened


def _api(delays: list[float] | None = None) -> HubSpotApi:
    sleep = delays.append if delays is not None else (lambda _: None)
    return HubSpotApi(connect_hubspot(), backoff=Backoff(base=0.25, cap=2.0, sleep=sleep))


def _states(seat: Seat, day: date) -> dict[str, tuple[Any, ...]]:
    rows = state_as_of(seat.store, day).to_pyarrow().to_pylist()
    return {r["opportunity_id"]: (r["stage"], r["amount"], r["close_date"], r["owner_id"]) for r in rows}


def test_deals_with_real_stage_history_give_the_same_states_as_the_salesforce_export(
    server: str, portal: FakePortal, seat: Seat, export_and_stages: tuple[Path, list[dict[str, Any]], Path]
) -> None:
    report = sync_hubspot(seat, HubSpotSyncRequest(), api=_api())
    assert report.mode == "full"
    assert report.ingest is not None
    assert report.ingest.rejected == []
    assert report.ingest.rows_read["opportunities"] == len(portal.deals)
    assert report.ingest.rows_read["history"] > 2 * len(portal.deals)  # the property history, not one row a deal
    with open_seat(export_and_stages[2], read_only=True) as folder:
        for day in (date(2025, 3, 31), date(2025, 9, 30), date(2026, 2, 15), date(2026, 6, 30)):
            assert _states(seat, day) == _states(folder, day)
    ladder = seat.store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    expected = export_and_stages[1]
    assert [r["name"] for r in ladder] == [s["name"] for s in expected]  # the pipeline's display order
    assert [r["probability"] for r in ladder] == pytest.approx([s["probability"] for s in expected])
    accounts = {
        r["opportunity_id"]: r["account_id"] for r in seat.store.table("opportunities").to_pyarrow().to_pylist()
    }
    assert accounts == {d.id: d.company for d in portal.deals.values()}
    assert seat.store.count("users") == len(portal.owners)


def test_incremental_sync_reads_changed_deals_by_search_and_batch_and_drops_archived_ones(
    server: str, portal: FakePortal, seat: Seat
) -> None:
    sync_hubspot(seat, HubSpotSyncRequest(), api=_api())
    deals = list(portal.deals.values())
    moved = next(d for d in deals if d.properties["dealstage"] != "closedwon" and d.history["dealstage"])
    stamp = "2026-07-02T10:00:00.000Z"
    moved.history["dealstage"].append(("closedwon", stamp))
    moved.history["closedate"].append(("2026-07-02T00:00:00Z", stamp))
    moved.history["hubspot_owner_id"].append((portal.owners[0]["id"], stamp))
    moved.properties.update(dealstage="closedwon", closedate="2026-07-02T00:00:00Z", hs_lastmodifieddate=stamp)
    moved.properties["hubspot_owner_id"] = portal.owners[0]["id"]
    archived = next(d for d in deals if d is not moved)
    archived.archived_at = stamp
    portal.log.clear()
    report = sync_hubspot(seat, HubSpotSyncRequest(overlap_minutes=0), api=_api())
    assert report.mode == "incremental"
    assert {o.name: o.rows for o in report.objects}["deals"] == 1
    assert report.removed_opportunities == 1
    assert "POST /crm/v3/objects/deals/search" in portal.log
    assert "POST /crm/v3/objects/deals/batch/read" in portal.log
    assert "POST /crm/v4/associations/deals/companies/batch/read" in portal.log
    after = _states(seat, date(2026, 7, 3))
    assert after[moved.id][0] == "Closed Won"
    assert after[moved.id][3] == portal.owners[0]["id"]  # the owner change came with the history
    assert archived.id not in after
    assert _states(seat, date(2026, 7, 1))[moved.id][0] != "Closed Won"  # the past is left as it was


def test_rate_limits_are_retried(server: str, portal: FakePortal, seat: Seat) -> None:
    portal.throttle(3)
    delays: list[float] = []
    report = sync_hubspot(seat, HubSpotSyncRequest(), api=_api(delays))
    assert report.retries == 3
    assert delays == [0.25, 0.5, 1.0]
    assert seat.store.count("opportunities") == len(portal.deals)


def test_a_second_pipeline_keeps_its_order_probabilities_and_tells_a_shared_label_apart(
    server: str, portal: FakePortal, seat: Seat
) -> None:
    stage = {"archived": False, "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-01-01T00:00:00Z"}
    portal.pipelines.append(
        {"id": "renewals", "label": "Renewals", "displayOrder": 1, "archived": False,
         "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-01-01T00:00:00Z", "stages": [
            stage | {"id": "rn-won", "label": "Renewed", "displayOrder": 2,
                     "metadata": {"isClosed": "true", "probability": "1.0"}},
            stage | {"id": "rn-qual", "label": "Qualification", "displayOrder": 0,
                     "metadata": {"isClosed": "false", "probability": "0.3"}},
            stage | {"id": "rn-lost", "label": "Churned", "displayOrder": 3,
                     "metadata": {"isClosed": "true", "probability": "0.0"}},
         ]}
    )  # fmt: skip
    deal = next(d for d in portal.deals.values() if d.properties["dealstage"] not in ("closedwon", "closedlost"))
    deal.history["dealstage"] = [("rn-qual", stamp) for _, stamp in deal.history["dealstage"]]
    deal.properties.update(dealstage="rn-qual", pipeline="renewals")
    sync_hubspot(seat, HubSpotSyncRequest(), api=_api())
    ladder = seat.store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    kinds = {r["name"]: (r["is_closed"], r["is_won"], r["probability"]) for r in ladder}
    assert kinds["Qualification (Renewals)"] == (False, False, pytest.approx(30.0))  # a label the first has
    assert kinds["Renewed"] == (True, True, pytest.approx(100.0))
    assert kinds["Churned"] == (True, False, pytest.approx(0.0))
    names = [r["name"] for r in ladder]
    open_names = [r["name"] for r in ladder if not r["is_closed"]]
    assert open_names[0] == "Qualification"  # the first pipeline's stages first, in its order
    assert open_names[-1] == "Qualification (Renewals)"
    assert names.index("Closed Won") < names.index("Renewed")
    assert names.index("Closed Lost") < names.index("Churned")
    assert _states(seat, date(2026, 6, 30))[deal.id][0] == "Qualification (Renewals)"


def test_retry_after_is_honoured_when_the_portal_asks_for_longer(server: str, portal: FakePortal, seat: Seat) -> None:
    portal.retry_after = "1.5"
    portal.throttle(2)
    delays: list[float] = []
    report = sync_hubspot(seat, HubSpotSyncRequest(), api=_api(delays))
    assert delays == [1.5, 1.5]  # longer than the backoff's own 0.25 and 0.5
    assert report.retries == 2
    assert seat.store.count("opportunities") == len(portal.deals)


def test_cli_and_the_token_never_shown(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    store = str(tmp_path / "cli.duckdb")
    result = runner.invoke(app, ["sync", "hubspot", "--store", store, "--json"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["source"] == "hubspot"
    assert TOKEN not in result.stdout
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-wrong-secret")
    refused = runner.invoke(app, ["sync", "hubspot", "--store", store, "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["type"] == "SourceError"
    assert "pat-wrong-secret" not in refused.stdout
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    missing = runner.invoke(app, ["sync", "hubspot", "--store", store, "--json"])
    assert missing.exit_code == 2
    assert "HUBSPOT_ACCESS_TOKEN" in json.loads(missing.stdout)["error"]["hint"]


def test_the_weekly_cadence_syncs_hubspot_first(server: str, tmp_path: Path) -> None:
    args = [
        "run",
        "--as-of",
        "2026-06-30",
        "--sync",
        "hubspot",
        "--format",
        "json",
        "--store",
        str(tmp_path / "w.duckdb"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stdout
    synced = json.loads(result.stdout)["ingested"]
    assert synced["source"] == "hubspot"
    assert synced["ingest"]["history_added"] > 0


def test_the_seats_stage_overrides_and_segment_rules_steer_a_sync(
    server: str, seat: Seat, export_and_stages: tuple[Path, list[dict[str, Any]], Path]
) -> None:
    """The pipeline's own stage order gives way to the configured one; companies are banded by the segment rules."""
    first, second = (s["name"] for s in export_and_stages[1][:2])
    seat.config_set(ConfigSetRequest(key="stages", value=f'[{{name = "{second}"}}, {{name = "{first}"}}]'))
    seat.config_set(ConfigSetRequest(key="segment_bands", value="{Small = [0, 500], Large = [500]}"))
    sync_hubspot(seat, HubSpotSyncRequest(), api=_api())
    ladder = seat.store.table("stages").order_by("stage_order").to_pyarrow().column("name").to_pylist()
    assert ladder[:2] == [second, first]
    accounts = seat.store.table("accounts").to_pyarrow().to_pylist()
    assert {a["segment"] for a in accounts} == {"Small", "Large"}
    assert all((a["segment"] == "Large") == (a["employees"] >= 500) for a in accounts)
