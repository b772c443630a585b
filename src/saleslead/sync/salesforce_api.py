"""Salesforce through simple-salesforce: credentials from the environment, REST and Bulk API 2.0 queries.

Credentials are read from environment variables when the connection is made and handed to
simple-salesforce; they are never stored, logged, or written into a report or an error message.

=================================  =============================================================
variables                          login
=================================  =============================================================
``SALESFORCE_INSTANCE_URL`` +      an access token (session id) you already hold, e.g. from the
``SALESFORCE_ACCESS_TOKEN``        ``sf`` CLI or your own OAuth flow
``SALESFORCE_USERNAME`` +          OAuth 2.0 JWT bearer flow of a connected app (the key as a file
``SALESFORCE_CONSUMER_KEY`` +      or as PEM text)
``SALESFORCE_PRIVATE_KEY_FILE``
(or ``SALESFORCE_PRIVATE_KEY``)
``SALESFORCE_USERNAME`` +          username, password and security token
``SALESFORCE_PASSWORD`` +
``SALESFORCE_SECURITY_TOKEN``
=================================  =============================================================

``SALESFORCE_DOMAIN`` (``login``, ``test`` or a My Domain) and ``SALESFORCE_API_VERSION`` are optional.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceOperationError,
    SalesforceResourceNotFound,
)

from saleslead.errors import InputError, SourceError
from saleslead.sync.backoff import Backoff

__all__ = ["DEFAULT_API_VERSION", "Describe", "SalesforceApi", "connect", "login_kind"]

DEFAULT_API_VERSION = "59.0"
_LIMIT_CODES = {"REQUEST_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"}


def login_kind(env: Mapping[str, str]) -> str:
    """Which login the environment provides: ``session``, ``jwt`` or ``password`` (never the values)."""
    has = {name for name, value in env.items() if name.startswith("SALESFORCE_") and value}
    if {"SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"} <= has:
        return "session"
    if {"SALESFORCE_USERNAME", "SALESFORCE_CONSUMER_KEY"} <= has and (
        "SALESFORCE_PRIVATE_KEY_FILE" in has or "SALESFORCE_PRIVATE_KEY" in has
    ):
        return "jwt"
    if {"SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN"} <= has:
        return "password"
    raise InputError(
        "no Salesforce credentials in the environment",
        hint="set SALESFORCE_INSTANCE_URL + SALESFORCE_ACCESS_TOKEN, or SALESFORCE_USERNAME + "
        "SALESFORCE_CONSUMER_KEY + SALESFORCE_PRIVATE_KEY_FILE (JWT bearer), or SALESFORCE_USERNAME + "
        "SALESFORCE_PASSWORD + SALESFORCE_SECURITY_TOKEN",
    )


def connect(env: Mapping[str, str] | None = None, session: requests.Session | None = None) -> Salesforce:
    """A logged-in simple-salesforce client from the environment (see the module's table)."""
    env = os.environ if env is None else env
    kind = login_kind(env)
    common: dict[str, Any] = {
        "version": env.get("SALESFORCE_API_VERSION") or DEFAULT_API_VERSION,
        "session": session,
        "object_pairs_hook": dict,
    }
    domain = env.get("SALESFORCE_DOMAIN") or None
    try:
        if kind == "session":
            return Salesforce(
                instance_url=env["SALESFORCE_INSTANCE_URL"], session_id=env["SALESFORCE_ACCESS_TOKEN"], **common
            )
        if kind == "jwt":
            return Salesforce(
                username=env["SALESFORCE_USERNAME"],
                consumer_key=env["SALESFORCE_CONSUMER_KEY"],
                privatekey_file=env.get("SALESFORCE_PRIVATE_KEY_FILE") or None,
                privatekey=env.get("SALESFORCE_PRIVATE_KEY") or None,
                domain=domain,
                **common,
            )
        return Salesforce(
            username=env["SALESFORCE_USERNAME"],
            password=env["SALESFORCE_PASSWORD"],
            security_token=env["SALESFORCE_SECURITY_TOKEN"],
            domain=domain,
            **common,
        )
    except SalesforceAuthenticationFailed as error:
        raise SourceError(
            f"Salesforce refused the {kind} login: {error.code}",
            hint="check the credentials in the environment (they are not shown here)",
        ) from None
    except requests.RequestException as error:
        raise SourceError(f"cannot reach Salesforce to log in: {type(error).__name__}") from None


def _error_code(error: SalesforceError) -> str:
    content: Any = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", ""))
    return ""


def _limited(error: BaseException) -> float | None:
    """Seconds to wait when ``error`` is a rate limit (0: back off as usual), else None."""
    if isinstance(error, SalesforceError) and (error.status == 429 or _error_code(error) in _LIMIT_CODES):
        return 0.0
    if isinstance(error, SalesforceOperationError) and "REQUEST_LIMIT_EXCEEDED" in str(error):
        return 0.0
    return None


def _message(error: SalesforceError) -> str:
    content: Any = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode', '')}: {content[0].get('message', '')}"
    return f"HTTP {error.status}"


@dataclass(frozen=True)
class Describe:
    """What the org says about one object: its fields (API name by lower-case name) and key prefix."""

    name: str
    fields: dict[str, str]
    types: dict[str, str]
    custom: frozenset[str]
    key_prefix: str | None

    def field(self, name: str) -> str | None:
        """The org's spelling of a field, or None when the object has no such field."""
        return self.fields.get(name.casefold())


class SalesforceApi:
    """Queries with rate limits retried; counts the HTTP requests it makes."""

    def __init__(self, sf: Salesforce, backoff: Backoff | None = None, bulk_wait: int = 2) -> None:
        self.sf = sf
        self.backoff = backoff or Backoff()
        self.bulk_wait = bulk_wait
        self.requests = 0
        sf.session.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    @property
    def instance(self) -> str:
        return str(self.sf.sf_instance)

    def _call(self, what: str, call: Any) -> Any:
        try:
            return self.backoff.run(call, _limited, what)
        except SalesforceError as error:
            raise SourceError(f"Salesforce refused {what}: {_message(error)}") from None
        except SalesforceOperationError as error:
            raise SourceError(f"Salesforce failed {what}: {error}") from None
        except requests.RequestException as error:
            raise SourceError(f"cannot reach Salesforce for {what}: {type(error).__name__}") from None

    def describe(self, name: str) -> Describe | None:
        """The object's fields, or None when the org has no such object (ForecastingQuota without forecasts)."""

        def call() -> Any:
            try:
                return getattr(self.sf, name).describe()
            except SalesforceResourceNotFound:
                return None

        body = self._call(f"describe {name}", call)
        if body is None:
            return None
        fields = body.get("fields", [])
        return Describe(
            name=str(body.get("name", name)),
            fields={str(f["name"]).casefold(): str(f["name"]) for f in fields},
            types={str(f["name"]): str(f.get("type", "string")) for f in fields},
            custom=frozenset(str(f["name"]) for f in fields if f.get("custom")),
            key_prefix=body.get("keyPrefix"),
        )

    def count(self, soql: str) -> int:
        """``SELECT COUNT() …`` through queryAll (deleted rows counted too)."""
        return int(self._call("a count", lambda: self.sf.query(soql, include_deleted=True))["totalSize"])

    def rest(self, soql: str) -> Iterator[dict[str, Any]]:
        """Records of a query through REST queryAll (deleted rows included), following ``nextRecordsUrl``."""
        page = self._call("a query", lambda: self.sf.query(soql, include_deleted=True))
        while True:
            yield from page.get("records", [])
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            url = page["nextRecordsUrl"]
            page = self._call("the next page", lambda url=url: self.sf.query_more(url, identifier_is_url=True))

    def bulk(self, name: str, soql: str) -> list[str]:
        """CSV pages of a Bulk API 2.0 queryAll job (create, poll, read results by ``Sforce-Locator``)."""

        def call() -> list[str]:
            handler = getattr(self.sf.bulk2, name)
            return [str(page) for page in handler.query_all(soql, wait=self.bulk_wait)]

        return list(self._call(f"a Bulk API 2.0 job on {name}", call))
