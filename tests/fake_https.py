"""A local HTTPS server for the fake CRM APIs the sync tests talk to (simple-salesforce only speaks https).

The certificate is self-signed for 127.0.0.1 and made afresh for each server; clients trust it through
``REQUESTS_CA_BUNDLE`` (requests) or ``ssl_ca_cert`` (the HubSpot client), never by turning checks off.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import select
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, localhost and Salesforce's login hosts, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                    # the login hosts simple-salesforce posts to, reached through connect_proxy
                    x509.DNSName("login.salesforce.com"),
                    x509.DNSName("test.salesforce.com"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def https_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[tuple[str, Path]]:
    """Serve ``handler`` on a free loopback port over TLS; yield (base URL, CA certificate path)."""
    with tempfile.TemporaryDirectory(prefix="saleslead-fake-") as folder:
        cert, key = self_signed(Path(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}", cert
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


class _Tunnel(socketserver.BaseRequestHandler):
    """One ``CONNECT host:port`` request: answered 200, then bytes piped both ways to the target port."""

    target: int
    hosts: list[str]

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, where, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if method != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.hosts.append(where)
        with socket.create_connection(("127.0.0.1", self.target)) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            ends = [self.request, upstream]
            while True:
                ready, _, _ = select.select(ends, [], [], 10)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.request else self.request).sendall(data)


@contextmanager
def connect_proxy(target_url: str) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS proxy (``CONNECT``) that sends every tunnel to ``target_url``'s port on 127.0.0.1.

    Clients keep their real URLs (``https://login.salesforce.com/…``) and verify the server's certificate
    for that name; yields (proxy URL for ``HTTPS_PROXY``, the ``host:port`` of every tunnel opened).
    """
    hosts: list[str] = []
    port = int(target_url.rsplit(":", 1)[1])
    handler = type("Tunnel", (_Tunnel,), {"target": port, "hosts": hosts})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hosts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
