"""The funnel measures over tables already in a Spark catalog (Ibis's pyspark backend, local mode).

The conformance suite (``any_store``) runs the hand-checked measures on the Spark store
(:mod:`saleslead.store.spark`); this module covers the other route docs/sync.md describes: the store's
tables held in a Spark session's catalog by someone else, and a read-only ``Store`` over the session. The
hand-made org of ``funnel_fixture`` is ingested into DuckDB, copied into the session's catalog, and the
same hand-checked assertions as on DuckDB and PostgreSQL run against it. Needs pyspark
(``pip install -e ".[spark]"``) and a Java runtime (``.ci/run`` installs ``default-jre-headless``); skipped,
with the reason, when either is missing. The session is the test run's one (``spark_session``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saleslead.funnel import same_point_yield
from saleslead.store import Store
from saleslead.store.schema import TABLES

from . import test_funnel_engines as engines

# py4j leaves its gateway sockets to the garbage collector (collected, silenced, when the session ends).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def spark_backend(spark_session: Any) -> Any:
    import ibis

    return ibis.pyspark.connect(spark_session)


@pytest.fixture(scope="module")
def spark_org(spark_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Store:
    duck = engines._ingest(Store.open(Path(tmp_path_factory.mktemp("spark")) / "org.duckdb"))
    for name in TABLES:
        spark_backend.create_table(name, duck.table(name).to_pyarrow(), overwrite=True)
    duck.close()
    return Store(spark_backend, "spark")


def test_hand_checked_measures_on_spark(spark_org: Store) -> None:
    assert spark_org.engine == "pyspark"
    engines.test_measures_by_hand_on_every_engine(spark_org)


def test_same_point_yield_and_coverage_on_spark(spark_org: Store) -> None:
    (q1,) = same_point_yield(spark_org, engines.Q2, engines.AS_OF, ["segment"])
    assert (q1.period, q1.open_deals, q1.won_from_open_value, q1.from_open) == ("2025-Q1", 2, 120, 120)
    engines.test_same_point_by_hand_on_every_engine(spark_org)  # the rest of the hand-checked figures
