"""Faults: a full disk, a file that is not a store, a store from a newer saleslead → a clean error with a hint,
the store as it was; and an ingest report that tells the truth about what changed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.errors import StoreError
from saleslead.seat import IngestRequest, open_seat
from saleslead.store import Store

from .test_harden_input import GOOD, HEAD, content, folder

ACCOUNTS = "Id,Name,Industry\na1,Acme,Tech\n"


def export(path: Path, accounts: str = ACCOUNTS) -> Path:
    folder(path, HEAD + GOOD)
    (path / "Account.csv").write_text(accounts, encoding="utf-8")
    return path


def test_an_empty_database_or_a_foreign_one_is_refused_for_reading(tmp_path: Path) -> None:
    empty, foreign = tmp_path / "empty.duckdb", tmp_path / "foreign.duckdb"
    duckdb.connect(str(empty)).close()
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE history (x INTEGER)")
    con.close()
    for path, what in ((empty, "no tables at all"), (foreign, "tables history")):
        result = CliRunner().invoke(app, ["status", "--store", str(path), "--json"])
        assert result.exit_code == 1
        error = json.loads(result.stdout)["error"]
        assert error["type"] == "StoreError"
        assert what in error["message"]
        assert "not a saleslead store" in error["message"]
        assert error["hint"]
    with pytest.raises(StoreError, match="not a saleslead store"):
        Store.open(foreign)  # writable: someone else's database is never filled with our tables
    con = duckdb.connect(str(foreign), read_only=True)
    assert [r[0] for r in con.execute("SHOW TABLES").fetchall()] == ["history"]
    con.close()


def test_a_file_that_is_not_a_database_is_refused_with_a_hint(tmp_path: Path) -> None:
    path, empty = tmp_path / "notes.duckdb", tmp_path / "empty.duckdb"
    path.write_text("hello")
    empty.write_bytes(b"")
    for read_only in (True, False):
        for file in (path, empty):
            with pytest.raises(StoreError) as caught:
                Store.open(file, read_only=read_only)
            assert "not a store" in (caught.value.hint or "")
            assert str(file) in caught.value.message
            assert ".writing-" not in caught.value.message  # the writer's copy is not the user's business
    assert path.read_text() == "hello"
    assert empty.read_bytes() == b""
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["empty.duckdb", "empty.duckdb.gate", "notes.duckdb", "notes.duckdb.gate"]


def test_a_store_from_a_newer_saleslead_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_seat(path) as seat:
        seat.ingest(IngestRequest(path=export(tmp_path / "x")))
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    before = content(_raw(path))
    for read_only in (True, False):
        with pytest.raises(StoreError, match="schema version 99") as caught:
            Store.open(path, read_only=read_only)
        assert "upgrade saleslead" in (caught.value.hint or "")
    assert content(_raw(path)) == before


def _raw(path: Path) -> Store:
    """The store without the version check (to read what the file holds)."""
    import ibis

    return Store(ibis.duckdb.connect(str(path), read_only=True), str(path))


def test_a_full_disk_during_ingest_is_a_clean_error_and_the_store_is_intact(tmp_path: Path) -> None:
    """The file-size limit (RLIMIT_FSIZE) makes every write past it fail as a full disk would, in a child."""
    store = tmp_path / "s.duckdb"
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=export(tmp_path / "small")))
    before = content(store)
    big = tmp_path / "big"
    rows = "".join(f"d{i},Prospecting,2024-09-30,{i},2024-01-01,false,false,u1,10,x{i}\n" for i in range(60_000))
    folder(big, HEAD.replace("LastModifiedDate", "Description") + rows, history="")
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from datetime import datetime
        from pathlib import Path
        from saleslead.errors import SalesLeadError
        from saleslead.seat import IngestRequest, open_seat
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        with open_seat({str(store)!r}) as seat:
            size = Path({str(store)!r}).stat().st_size
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100_000, resource.RLIM_INFINITY))
            try:
                seat.ingest(IngestRequest(path=Path({str(big)!r}), snapshot_at=datetime(2024, 6, 1)))
            except SalesLeadError as error:
                print(type(error).__name__, "|", error.message, "|", error.hint)
                sys.exit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 3, done.stderr[-2000:]
    kind, message, hint = (part.strip() for part in done.stdout.split("|"))
    assert kind == "StoreError"
    assert "could not be written" in message
    assert "rolled back" in hint
    assert content(store) == before


def test_a_disk_too_full_to_copy_the_store_is_a_clean_error_before_anything_is_written(tmp_path: Path) -> None:
    """A writer works on a copy of the store: when even the copy does not fit, it says so and leaves no trace."""
    store = tmp_path / "s.duckdb"
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=export(tmp_path / "small")))
    before = content(store)
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from saleslead.cli.app import app
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
        sys.argv = ["saleslead", "ingest", {str(tmp_path / "small")!r}, "--store", {str(store)!r}, "--json"]
        app()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "StoreError"
    assert "could not be written" in error["message"]
    assert "free disk space" in error["hint"]
    assert content(store) == before
    assert sorted(p.name for p in tmp_path.glob("s.duckdb*")) == ["s.duckdb", "s.duckdb.gate"]


def test_the_ingest_report_tells_the_truth(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    first = export(tmp_path / "a")
    renamed = export(tmp_path / "b", accounts=ACCOUNTS.replace("Acme", "Acme Corp"))
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=first))
        ingests = seat.store.count("ingests")
        again = seat.ingest(IngestRequest(path=first))
        assert again.unchanged
        assert seat.store.count("ingests") == ingests  # an identical re-ingest records nothing
        changed = seat.ingest(IngestRequest(path=renamed))
        assert not changed.unchanged  # the account's new name is a change
        assert seat.store.count("ingests") == ingests + 1
        names = seat.store.table("accounts").to_pyarrow().column("name").to_pylist()
        assert names == ["Acme Corp"]
