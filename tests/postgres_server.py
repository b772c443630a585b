"""A throwaway PostgreSQL server for the store conformance suite.

Uses ``$SALESLEAD_TEST_POSTGRES`` (a URL of a server the tests may create databases on) when set;
otherwise starts a private cluster from Debian's ``postgresql`` package on a free loopback port
(``.ci/run`` installs it). Tests that need it skip, with the reason, only when neither is available.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """Yield a base URL (without database) or None when no server can be had."""
    url = os.environ.get("SALESLEAD_TEST_POSTGRES")
    if url:
        yield url.rstrip("/")
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins or (os.geteuid() == 0 and shutil.which("runuser") is None):
        yield None
        return
    bin_dir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="saleslead-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data = root / "data"
    port = _free_port()
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"postgres://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def new_database(base_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{base_url}/{name}"
