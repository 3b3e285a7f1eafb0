"""mcpkg's own HTTP client (`mcpkg/oci/http.py`) against real loopback servers: proxy
selection from the environment, connection reuse, a server that drops an idle
connection, bodies cut short, and proxies that refuse."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mcpkg.oci.http import ProtocolError, ProxyError, Session, proxy_for

TIMEOUT = (5.0, 5.0)


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("", "ghcr.io", 443, False),
        ("*", "ghcr.io", 443, True),
        ("ghcr.io", "ghcr.io", 443, True),
        ("ghcr.io", "pkg.ghcr.io", 443, True),  # a name covers its subdomains
        (".ghcr.io", "pkg.ghcr.io", 443, True),
        ("ghcr.io", "notghcr.io", 443, False),
        ("ghcr.io:5000", "ghcr.io", 443, False),
        ("ghcr.io:443", "ghcr.io", 443, True),
        ("10.0.0.0/8", "10.1.2.3", 5000, True),
        ("10.0.0.0/8", "11.1.2.3", 5000, False),
        ("10.0.0.0/8", "registry.local", 5000, False),
        ("::1", "::1", 5000, True),
        ("[::1]:5000", "::1", 5000, True),
        (" other.io , GHCR.IO ", "ghcr.io", 443, True),
    ],
)
def test_no_proxy_rules(monkeypatch: pytest.MonkeyPatch, no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert proxy_for("https", host, port) == (None if bypassed else "http://proxy.corp:3128")


def test_proxy_variables_by_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("all_proxy", "http://fallback:1")
    monkeypatch.setenv("HTTP_PROXY", "http://upper:2")
    monkeypatch.setenv("http_proxy", "http://lower:3")  # the lower-case name wins, as curl reads it
    assert proxy_for("http", "r.io", 80) == "http://lower:3"
    assert proxy_for("https", "r.io", 443) == "http://fallback:1"


class _Server:
    """A loopback HTTP/1.1 server whose handler the test sets; it counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.reply = self.ok
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.reply(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @staticmethod
    def ok(handler: BaseHTTPRequestHandler) -> None:
        body = b"x" * 5000
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@contextmanager
def serving() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_a_body_read_to_its_end_gives_the_connection_back() -> None:
    with serving() as server:
        session = Session("t", TIMEOUT)
        for _ in range(3):
            with session.request("GET", server.url + "/a") as response:
                assert response.status == 200 and len(response.read(1 << 20)) == 5000
        assert server.connections == 1
        with session.request("GET", server.url + "/b") as response:
            response.read(10)  # closed early: that connection cannot be reused
        with session.request("GET", server.url + "/c") as response:
            assert response.read(1 << 20) == b"x" * 5000
        assert server.connections == 2
        session.close()


def test_an_idle_connection_the_server_dropped_is_replaced() -> None:
    def ok_then_drop(handler: BaseHTTPRequestHandler) -> None:
        _Server.ok(handler)
        handler.wfile.flush()
        handler.close_connection = True  # no "Connection: close" header: the client cannot know
        handler.connection.shutdown(socket.SHUT_RDWR)

    with serving() as server:
        server.reply = ok_then_drop
        session = Session("t", TIMEOUT)
        for _ in range(3):
            with session.request("GET", server.url + "/") as response:
                assert response.read(1 << 20) == b"x" * 5000
        assert server.connections == 3
        session.close()


def test_a_body_shorter_than_announced_is_an_error() -> None:
    def short(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b"y" * 40)
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    with serving() as server:
        server.reply = short
        session = Session("t", TIMEOUT)
        with session.request("GET", server.url + "/") as response, pytest.raises(ProtocolError, match="60 bytes"):
            response.read(1 << 20)


def test_a_forward_proxy_that_demands_credentials_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def demand(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(407)
        handler.send_header("Proxy-Authenticate", 'Basic realm="p"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with serving() as proxy:
        proxy.reply = demand
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with pytest.raises(ProxyError, match="demands credentials"):
            Session("t", TIMEOUT).request("GET", "http://registry.example:5000/v2/")


def test_an_https_proxy_url_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example:3128")
    with pytest.raises(ProxyError, match="http:// proxies only"):
        Session("t", TIMEOUT).request("GET", "https://registry.example/v2/")
