"""Shared fixtures: the demo company (generated once per test session) and paths to the shared data."""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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


#: The xdist group of the test files that run the week on the demo company (``pytestmark``): one worker runs them
#: one after another, so the week's models (minutes of CPU) are fitted once and read by the next file, never fitted
#: by two workers at once.
DEMO_WEEK = pytest.mark.xdist_group("demo-week")
#: Likewise for the files that keep the demo's answers as of 2026-05-20 (tests/test_answers.py's week): they read
#: them from their own shelf (``demo_may_shelf``).
DEMO_MAY = pytest.mark.xdist_group("demo-may")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist (``-n auto``, ``--dist loadgroup`` in the config) a test file is one unit of work, so its
    module fixtures are built once, by the worker that runs it; files that share a group (:data:`DEMO_WEEK`) go to
    one worker."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


def run_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every process of this test run shares: the run's base folder, or with pytest-xdist the folder
    above the workers' own (``pytest -n``), so what is built once per run is built once for every worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def build_once(path: Path) -> Iterator[bool]:
    """Whether ``path`` is still to be built by this process (True: build it inside the block), holding a lock
    beside it so another worker waits for the build instead of repeating it; marked built when the block ends
    without an error (a failed build is tried again by the next)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    built = path.with_name(path.name + ".built")
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if built.exists():
                yield False
                return
            yield True
            built.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company's Salesforce-shaped export (read-only: copy before changing), generated once per run."""
    out = run_shared(tmp_path_factory) / "demo" / "export"
    with build_once(out) as build:
        if build:
            shutil.rmtree(out, ignore_errors=True)  # what a failed build left
            generate(out, DEMO_CONFIG)
    return out


@pytest.fixture(scope="session")
def demo_store_file(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the demo company, ingested once per run (read-only: ``demo_seat`` gives a private copy;
    open it ``read_only`` or copy it, as other workers read it at the same time)."""
    path = run_shared(tmp_path_factory) / "demo-store" / "demo.duckdb"
    with build_once(path) as build:
        if build:
            path.unlink(missing_ok=True)
            with open_seat(path) as seat:
                seat.ingest(IngestRequest(path=demo_export))
    return path


@pytest.fixture(scope="session")
def demo_shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    """One answers shelf for every copy of the demo store: a model fitted by one test is read by the next (in
    every worker of the run: each answer is written whole under a temporary name and renamed into place).

    Sound because answers are keyed by the store's state (its ingests and sizes), and every copy starts from
    the same file; a test that ingests into its copy moves the state and computes its own answers.
    """
    return Shelf(run_shared(tmp_path_factory) / "demo-answers")


@pytest.fixture(scope="session")
def demo_may_shelf(tmp_path_factory: pytest.TempPathFactory) -> Shelf:
    """The answers shelf of the files that keep the demo's week as of 2026-05-20 (:data:`DEMO_MAY`; each names it
    its ``demo_shelf``): apart from ``demo_shelf``, where the week as of :data:`DEMO_TODAY` prunes the fits more than
    120 days older than its own (``Answers.prune``) — maybe while another worker reads them."""
    return Shelf(run_shared(tmp_path_factory) / "demo-may-answers")


def share_demo_shelf(store: Path, shelf: Shelf) -> None:
    """Make a copy of the demo store keep its answers on the session's shelf: every seat and process that opens
    the copy then reads the models and answers earlier tests fitted (sound for the reason ``demo_shelf`` says)."""
    assert shelf.root is not None
    shelf.root.mkdir(parents=True, exist_ok=True)
    Path(f"{store}.answers").symlink_to(shelf.root, target_is_directory=True)


#: The fitted parts of a forecast on the shelf (``saleslead.forecast.fitted``): they read the deals' stages,
#: amounts, dates, segments, channels and owners' ids and start dates, never a deal's or a person's name.
FIT_KINDS = ("deal-model", "calibration")


def share_demo_fits(store: Path, shelf: Shelf) -> None:
    """Make a copy of the demo store read and keep only its fitted models on the run's shelf, every other answer on
    its own: for a copy whose names were edited behind the seat's back (the same state, so the same fits; its
    answers, which carry the names, computed afresh)."""
    assert shelf.root is not None
    own = Path(f"{store}.answers")
    own.mkdir(mode=0o700)
    for kind in FIT_KINDS:
        (shelf.root / kind).mkdir(parents=True, exist_ok=True)
        (own / kind).symlink_to(shelf.root / kind, target_is_directory=True)


def copy_demo(demo_store_file: Path, shelf: Shelf, path: Path) -> Path:
    """A private, writable copy of the demo store at ``path``, its answers (fitted models included) on the run's
    shelf (:func:`share_demo_shelf`): for a test that changes its copy only through the seat, whose answers are
    keyed by what changed. Not for one that edits the tables behind the seat's back (its answers would not move)."""
    shutil.copy(demo_store_file, path)
    share_demo_shelf(path, shelf)
    return path


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
