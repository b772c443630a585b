"""Shared fixtures: the demo company (generated once per test session) and paths to the shared data."""

from __future__ import annotations

import gc
import shutil
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from saleslead.demo import DemoConfig, generate
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.store import Store
from saleslead.store.answers import Shelf

from .postgres_server import new_database, postgres_server

#: The demo company every mandate is tested on: a fixed "today" so answers are reproducible.
DEMO_TODAY = date(2026, 11, 24)
DEMO_CONFIG = DemoConfig(opportunities=6_000, seed=11, start=date(2023, 1, 1), end=DEMO_TODAY)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or skip the test when the checkout has no shared data beside it."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"shared data {path} is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company's Salesforce-shaped export (read-only: copy before changing)."""
    out = tmp_path_factory.mktemp("demo") / "export"
    generate(out, DEMO_CONFIG)
    return out


@pytest.fixture(scope="session")
def demo_store_file(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the demo company (read-only: use ``demo_seat`` to get a private copy)."""
    path = tmp_path_factory.mktemp("demo-store") / "demo.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=demo_export))
    return path


@pytest.fixture(scope="session")
def demo_shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    """One answers shelf for every copy of the demo store: a model fitted by one test is read by the next.

    Sound because answers are keyed by the store's state (its ingests and sizes), and every copy starts from
    the same file; a test that ingests into its copy moves the state and computes its own answers.
    """
    return Shelf(tmp_path_factory.mktemp("demo-answers"))


def share_demo_shelf(store: Path, shelf: Shelf) -> None:
    """Make a copy of the demo store keep its answers on the session's shelf: every seat and process that opens
    the copy then reads the models and answers earlier tests fitted (sound for the reason ``demo_shelf`` says)."""
    assert shelf.root is not None
    shelf.root.mkdir(parents=True, exist_ok=True)
    Path(f"{store}.answers").symlink_to(shelf.root, target_is_directory=True)


@pytest.fixture
def demo_seat(demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path) -> Iterator[Seat]:
    """A private, writable copy of the demo store, with the clock fixed at :data:`DEMO_TODAY`; its answers
    (fitted models included) on the session's shared shelf."""
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, copy)
    seat = open_seat(copy)
    seat.context.shelf = demo_shelf
    seat.clock = lambda: DEMO_TODAY
    yield seat
    seat.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session for the whole test run (starting one costs seconds): stopped at the end."""
    pyspark = pytest.importorskip("pyspark.sql", reason="pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark: install Debian's default-jre-headless")
    from saleslead.store.spark import SESSION_DEFAULTS

    builder = pyspark.SparkSession.builder.master("local[1]").appName("saleslead-tests")
    for key, value in SESSION_DEFAULTS.items():  # the settings a spark:// store's own session gets
        builder = builder.config(key, value)
    session = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={tmp_path_factory.mktemp('derby')}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        # py4j leaves its gateway sockets to the garbage collector: collected (and silenced) here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc.collect()


#: Spark tests: py4j leaves its gateway sockets to the garbage collector (collected, silenced, at teardown).
SPARK_MARKS = (
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
)


@pytest.fixture(params=["duckdb", "postgres", pytest.param("spark", marks=SPARK_MARKS)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same store tests on every engine the project supports (the conformance suite)."""
    if request.param == "duckdb":
        store = Store.open(tmp_path / "s.duckdb")
    elif request.param == "spark":  # facts read from Spark (local mode), writes through a DuckDB file
        from saleslead.store.spark import SparkStore

        store = SparkStore.attach(request.getfixturevalue("spark_session"), tmp_path / "s.duckdb")
    else:
        base = request.getfixturevalue("postgres_url")
        if base is None:
            pytest.skip("no PostgreSQL server: install Debian's postgresql or set SALESLEAD_TEST_POSTGRES")
        store = Store.open(new_database(base))
    yield store
    store.close()
    if request.param == "spark":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc.collect()
