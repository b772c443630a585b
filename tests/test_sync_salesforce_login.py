"""Logging in to Salesforce with a connected app's JWT, or a username, password and security token.

simple-salesforce posts its logins to ``https://login.salesforce.com`` (or ``test``, or a My Domain): the
test keeps those real URLs and routes them through a local ``CONNECT`` proxy (``HTTPS_PROXY``, as behind a
corporate proxy) to the fake org, whose certificate is trusted for the login host. The fake checks the
JWT's RS256 signature against the app's certificate and the password + security token, and answers as
Salesforce does (a token response with ``instance_url``; a SOAP ``loginResponse`` with ``serverUrl``);
the sync then reads the org at that instance, straight, not through the proxy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.demo import DemoConfig, generate
from saleslead.errors import SourceError
from saleslead.sync.salesforce_api import connect, login_kind

from .fake_https import connect_proxy
from .fake_salesforce import TOKEN, FakeOrg, fake_salesforce, org_from_export

USERNAME = "cro@acme.example"
CONSUMER_KEY = "3MVG9fake.connected.app.consumer.key"
PASSWORD, SECURITY_TOKEN = "correct horse <battery>", "Xy7SecurityTok3n"
_VARIABLES = (
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_ACCESS_TOKEN",
    "SALESFORCE_USERNAME",
    "SALESFORCE_PASSWORD",
    "SALESFORCE_SECURITY_TOKEN",
    "SALESFORCE_CONSUMER_KEY",
    "SALESFORCE_PRIVATE_KEY_FILE",
    "SALESFORCE_PRIVATE_KEY",
    "SALESFORCE_DOMAIN",
)


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sf-login") / "export"
    generate(out, DemoConfig(opportunities=60, seed=3, start=date(2025, 7, 1), end=date(2026, 6, 30)))
    return out


@pytest.fixture(scope="module")
def app_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """The connected app's private key (a PEM file the seat reads) and the public key Salesforce holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("app") / "server.key"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public


@pytest.fixture
def org(tiny_export: Path, app_key: tuple[Path, bytes]) -> FakeOrg:
    org = org_from_export(tiny_export, "2026-06-30T23:59:59Z")
    org.allow_jwt(CONSUMER_KEY, USERNAME, app_key[1])
    org.allow_password(USERNAME, PASSWORD, SECURITY_TOKEN)
    return org


@pytest.fixture
def login_host(org: FakeOrg, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The fake org behind login.salesforce.com (through the proxy); yields the hosts tunnelled to."""
    with fake_salesforce(org) as (url, cert), connect_proxy(url) as (proxy, tunnels):
        for name in _VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield tunnels


def _sync(store: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sync", "salesforce", "--store", str(store), "--json"])
    return result.exit_code, result.stdout


def test_jwt_bearer_login_then_a_full_sync(
    login_host: list[str], org: FakeOrg, app_key: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_USERNAME", USERNAME)
    monkeypatch.setenv("SALESFORCE_CONSUMER_KEY", CONSUMER_KEY)
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY_FILE", str(app_key[0]))
    code, out = _sync(tmp_path / "jwt.duckdb")
    assert code == 0, out
    assert login_host == ["login.salesforce.com:443"]  # the real token endpoint's host, then the instance
    assert org.log[0] == "POST /services/oauth2/token"
    body = json.loads(out)
    assert body["ingest"]["opportunities_new"] == len(org.objects["Opportunity"].rows)
    assert CONSUMER_KEY not in out
    assert TOKEN not in out

    monkeypatch.setenv("SALESFORCE_DOMAIN", "test")  # a sandbox: the assertion's audience names test.salesforce.com
    monkeypatch.delenv("SALESFORCE_PRIVATE_KEY_FILE")
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY", app_key[0].read_text())
    assert connect().session_id == TOKEN
    assert login_host[-1] == "test.salesforce.com:443"

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # a key the app does not hold
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY", pem.decode())
    with pytest.raises(SourceError, match="refused the jwt login: invalid_grant") as refused:
        connect()
    assert "PRIVATE KEY" not in str(refused.value) + str(refused.value.hint)


def test_username_password_and_security_token_login(
    login_host: list[str], org: FakeOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_USERNAME", USERNAME)
    monkeypatch.setenv("SALESFORCE_PASSWORD", PASSWORD)
    monkeypatch.setenv("SALESFORCE_SECURITY_TOKEN", SECURITY_TOKEN)
    assert login_kind(os.environ) == "password"
    code, out = _sync(tmp_path / "password.duckdb")
    assert code == 0, out
    assert login_host == ["login.salesforce.com:443"]
    assert org.log[0] == "POST /services/Soap/u/59.0"
    assert json.loads(out)["ingest"]["opportunities_new"] == len(org.objects["Opportunity"].rows)
    assert PASSWORD not in out
    assert SECURITY_TOKEN not in out

    monkeypatch.setenv("SALESFORCE_SECURITY_TOKEN", "an-old-token")  # reset since: Salesforce refuses the login
    code, out = _sync(tmp_path / "password.duckdb")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["type"] == "SourceError"
    assert "INVALID_LOGIN" in error["message"]
    assert PASSWORD not in out
    assert "an-old-token" not in out
