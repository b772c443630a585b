"""Delivering hand-offs to fleet peers: which role answers at which A2A endpoint, and what became of each send.

A peer is a role of the fleet (``account-executive``, ``sales-development-rep``, ``finance-analyst``)
with the URL of its A2A agent; peers are the seat's records of kind ``a2a.peer`` (one key per role),
so they live with the engagement. Each open hand-off to a role with a peer is sent as an A2A message
— the request in words and the whole hand-off as data — and its delivery is recorded as kind
``handoff.delivery`` (one key per hand-off, a new version per attempt): ``delivered`` with the
peer's reply, or ``pending`` with the error and the attempt count, retried on the next delivery run
until :data:`MAX_ATTEMPTS`, then ``failed`` (a person looks). A reply whose data says
``{"acknowledged": true}`` (or whose task completed) moves the hand-off to *acknowledged*.
Nothing is sent twice once delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict

from saleslead.errors import InputError
from saleslead.role.handoffs import Handoff, Outbox
from saleslead.store.records import Records

__all__ = [
    "DELIVERY",
    "MAX_ATTEMPTS",
    "PEER",
    "Delivery",
    "DeliveryReport",
    "Peer",
    "PeerReply",
    "PeerRequest",
    "Send",
    "deliver",
    "peers",
    "set_peer",
]

PEER = "a2a.peer"
DELIVERY = "handoff.delivery"
MAX_ATTEMPTS = 5
DeliveryState = Literal["pending", "delivered", "failed"]


class PeerRequest(BaseModel):
    """Set the A2A endpoint of a fleet role."""

    model_config = ConfigDict(frozen=True)

    role: str
    url: str
    by: str = "saleslead"


class Peer(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    url: str


class PeerReply(BaseModel):
    """What a peer answered to a delivered hand-off."""

    model_config = ConfigDict(frozen=True)

    reply_id: str
    text: str
    acknowledged: bool


class Delivery(BaseModel):
    """The delivery state of one hand-off."""

    model_config = ConfigDict(frozen=True)

    handoff: str
    to_role: str
    url: str
    state: DeliveryState
    attempts: int
    at: datetime
    reply_id: str | None = None
    reply: str | None = None
    error: str | None = None


class DeliveryReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    deliveries: list[Delivery]
    #: open hand-offs to roles with no peer configured (kept in the outbox for a person or a poller)
    no_peer: list[str]


#: sends one hand-off to a peer URL and returns the reply (raises on failure)
Send = Callable[[str, Handoff], PeerReply]


def set_peer(records: Records, role: str, url: str, *, author: str = "saleslead") -> Peer:
    """Record the A2A endpoint of a fleet role (http or https)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(f"peer URL {url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:9100")
    if not role.strip():
        raise InputError("a peer needs a role", hint="e.g. account-executive")
    records.put(PEER, role, {"role": role, "url": url}, author=author)
    return Peer(role=role, url=url)


def peers(records: Records) -> list[Peer]:
    return sorted((Peer.model_validate(r.payload) for r in records.current(PEER)), key=lambda p: p.role)


def _state(records: Records, handoff: str) -> Delivery | None:
    record = records.latest(DELIVERY, handoff)
    return Delivery.model_validate(record.payload) if record else None


def _attempt(
    handoff: Handoff, url: str, previous: Delivery | None, send: Send, now: datetime
) -> tuple[Delivery, PeerReply | None]:
    attempts = (previous.attempts if previous else 0) + 1
    base: dict[str, Any] = {"handoff": handoff.id, "to_role": handoff.to_role, "url": url, "attempts": attempts}
    try:
        reply = send(url, handoff)
    except Exception as error:  # a peer down, refusing or answering garbage: recorded and retried, never raised
        state: DeliveryState = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        return Delivery(**base, state=state, at=now, error=f"{type(error).__name__}: {error}"[:500]), None
    delivered = Delivery(**base, state="delivered", at=now, reply_id=reply.reply_id, reply=reply.text[:2000])
    return delivered, reply


def deliver(records: Records, outbox: Outbox, send: Send, *, now: datetime | None = None) -> DeliveryReport:
    """Send every open hand-off not yet delivered to its role's peer; record each attempt."""
    now = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    endpoints = {p.role: p.url for p in peers(records)}
    done: list[Delivery] = []
    no_peer: list[str] = []
    for handoff in outbox.list(status="open"):
        url = endpoints.get(handoff.to_role)
        if url is None:
            no_peer.append(handoff.id)
            continue
        previous = _state(records, handoff.id)
        if previous is not None and previous.state in ("delivered", "failed"):
            continue
        delivery, reply = _attempt(handoff, url, previous, send, now)
        records.put(DELIVERY, handoff.id, delivery.model_dump(mode="json"), status=delivery.state, author="saleslead")
        if reply is not None and reply.acknowledged:
            outbox.set_status(handoff.id, "acknowledged", author=f"a2a:{handoff.to_role}")
        done.append(delivery)
    return DeliveryReport(deliveries=done, no_peer=no_peer)
