"""The store on Spark: facts served by Spark from a lake of Parquet files, writes through a DuckDB file.

The conformance suite (``any_store``) runs on Spark too; these tests cover what is Spark's own: the URL,
the lake holding exactly the current files after good and failed writes, a read-only open, and the forecast
computed from Spark giving the DuckDB store's forecast for the same data.
"""

from __future__ import annotations

import gc
import shutil
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from saleslead.errors import StoreError
from saleslead.forecast.schemas import ForecastRequest
from saleslead.seat import open_seat
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.answers import Shelf
from saleslead.store.spark import FACTS, SparkStore, parse_spark_url

from .builders import export
from .conftest import DEMO_TODAY
from .test_store import OPEN_A, WON_B


def test_spark_urls_name_the_master_the_writer_and_the_lake() -> None:
    local = parse_spark_url("spark://local[2]?writer=/data/org.duckdb")
    assert (local.master, local.writer, local.lake) == (
        "local[2]",
        Path("/data/org.duckdb"),
        Path("/data/org.duckdb.lake"),
    )
    cluster = parse_spark_url("spark://spark-master:7077?writer=o.duckdb&lake=/mnt/lake&spark.executor.memory=4g")
    assert (cluster.master, cluster.lake, cluster.conf) == (
        "spark://spark-master:7077",
        Path("/mnt/lake"),
        {"spark.executor.memory": "4g"},
    )
    assert parse_spark_url("spark://yarn").master == "yarn"
    assert parse_spark_url("spark://").master == "local[*]"
    with pytest.raises(StoreError, match="unknown parameter 'writter'"):
        parse_spark_url("spark://local?writter=x.duckdb")


@pytest.fixture
def spark(spark_session: Any) -> Iterator[Any]:
    yield spark_session
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


def _lake_files(store: SparkStore) -> set[str]:
    return {p.name for p in store.lake.iterdir()}


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_lake_holds_the_facts_of_the_last_write_only(spark: Any, tmp_path: Path) -> None:
    url = f"spark://local[1]?writer={tmp_path / 'org.duckdb'}&lake={tmp_path / 'lake'}"
    store = Store.open(url)  # the session of this process is reused (Spark's getOrCreate)
    assert isinstance(store, SparkStore)
    assert store.engine == "pyspark"
    assert store.backend.name == "pyspark"
    assert store._spark._session.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"  # Arrow
    first = _lake_files(store)
    assert len(first) == len(FACTS)  # one Parquet file per fact table, published at the first open
    store.ingest(export(datetime(2025, 3, 1), [OPEN_A, WON_B]))
    after = _lake_files(store)
    assert len(after) == len(FACTS)
    assert after != first
    assert store.count("opportunities") == 2
    assert store.count("history") == 3
    assert "saleslead_" in store.table("history").get_name()  # a Spark view, not the writer's table

    broken = export(datetime(2025, 3, 2), [dict(OPEN_A, amount=130.0)])

    def fail(*_: object) -> None:
        raise RuntimeError("disk gone")

    store._merge_stages = fail  # type: ignore[method-assign]  # fails after the history is written
    with pytest.raises(RuntimeError, match="disk gone"):
        store.ingest(broken)
    assert _lake_files(store) == after  # the new files of the failed write were removed
    assert store.table("history").amount.max().execute() == 100.0
    store.close()

    with Store.open(url, read_only=True) as reader:  # another seat reads the lake as it was left
        assert reader.count("history") == 3
        assert reader.engine == "pyspark"
    with Store.open(tmp_path / "org.duckdb") as plain:  # the writer is a DuckDB store of its own
        plain.ingest(export(datetime(2025, 3, 3), [dict(OPEN_A, amount=140.0)]))
    with pytest.raises(StoreError, match="does not hold the store's current facts"):
        Store.open(url, read_only=True)  # written past the lake: not served stale
    with Store.open(url) as again:  # a writer republishes
        assert again.table("history").amount.max().execute() == 140.0


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_forecast_from_spark_is_the_duckdb_forecast(spark: Any, demo_store_file: Path, tmp_path: Path) -> None:
    """The demo company's forecast, its deal book and fitted model read from Spark, equals DuckDB's."""
    copies = [tmp_path / "duck.duckdb", tmp_path / "spark.duckdb"]
    for copy in copies:
        shutil.copy(demo_store_file, copy)
    request = ForecastRequest(as_of=DEMO_TODAY, by="segment")
    results = []
    for where in (str(copies[0]), f"spark://local[1]?writer={copies[1]}"):
        with open_seat(where, settings=Settings(scenarios=2_000)) as seat:
            seat.context.shelf = Shelf(Path(str(where).split("=")[-1] + ".shelf"))  # nothing shared between them
            seat.clock = lambda: DEMO_TODAY
            results.append((seat.store.engine, seat.forecast(request)))
    (duck_engine, duck), (spark_engine, on_spark) = results
    assert (duck_engine, spark_engine) == ("duckdb", "pyspark")
    assert duck.total.mean > 0
    assert len(duck.segments) >= 2
    assert on_spark.model_dump() == duck.model_dump()
