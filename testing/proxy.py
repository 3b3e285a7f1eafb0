"""A loopback HTTP server of ours in front of a real registry, misbehaving on purpose.

It forwards every request unchanged, except that:
- tag lists are paged like ghcr.io (`docker-registry` 2.8 ignores `n`/`last`): a fixed
  page size, an order that is not version order, and a *relative*
  `Link: </v2/<name>/tags/list?n=..&last=..>; rel="next"` header;
- queued faults answer matching requests instead of the registry (a status with
  headers and body, a number of times), e.g. 503 then recovery, 429 + `Retry-After`;
  or run an *action* that misbehaves on the socket itself (`partial_body`: announce a
  length, send part of it, then hang or drop the connection; `unframed_body`: a body
  with no length that ends when the connection closes; `stall`: never answer);
- with `redirect_blobs`, blob GETs are redirected to another origin (`localhost:<port>`
  instead of `127.0.0.1:<port>`) that serves the bytes straight from the registry's
  storage and records whether credentials were sent along;
- requests in absolute form (`GET http://host/path`) are accepted, so it also serves as
  an HTTP forward proxy for `HTTP_PROXY` tests; `CONNECT host:port` opens a tunnel (for
  `HTTPS_PROXY` tests), and with `proxy_credentials` set, both demand that
  `Proxy-Authorization` (basic) and answer 407 otherwise.
Every request is logged (method, path, whether it carried Authorization).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import select
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "proxy-authorization",
}


def ghcr_order(tags: list[str]) -> list[str]:
    """A stable order that is not version order (ghcr.io does not sort by version):
    byte order, which puts `0.1.10` before `0.1.2` and `v1.0.0` after every digit."""
    return sorted(tags)


Action = Callable[[BaseHTTPRequestHandler], None]

HANG_LIMIT = 120.0  # seconds an action hangs at most, whatever happens


@dataclass
class Fault:
    method: str
    path: str  # regex searched in the request path
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    times: int = 1
    action: Action | None = None


@dataclass
class Logged:
    method: str
    path: str
    authorized: bool
    absolute: bool = False
    length: int = 0
    proxy_authorized: bool = False


class PagingProxy:
    def __init__(self, upstream: str, page_size: int = 100, storage: Path | None = None) -> None:
        self.upstream = upstream
        self.page_size = page_size
        self.storage = storage
        self.redirect_blobs = False
        self.tag_requests = 0
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.storage_requests: list[bool] = []  # Authorization present on redirected blob GETs
        self.proxy_credentials: tuple[str, str] | None = None  # demanded when set
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                proxy._handle(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

            def do_CONNECT(self) -> None:
                proxy._tunnel(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # actions that hang on purpose wait on this event (see `release_hangs`)
        self.server.released = threading.Event()  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def inject(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        with self._lock:
            self.faults.append(Fault(method, path, status, headers or {}, body, times))

    def inject_action(self, method: str, path: str, action: Action, *, times: int = 1) -> None:
        """Answer matching requests by running `action` on the raw handler."""
        with self._lock:
            self.faults.append(Fault(method, path, 0, times=times, action=action))

    def release_hangs(self) -> None:
        """End every action hanging on purpose (later ones hang again)."""
        old = self.server.released  # type: ignore[attr-defined]
        self.server.released = threading.Event()  # type: ignore[attr-defined]
        old.set()

    def requests_to(self, method: str, pattern: str) -> int:
        with self._lock:
            return sum(1 for e in self.log if e.method == method and re.search(pattern, e.path))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.storage_requests.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method in (method, "*") and re.search(fault.path, path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _proxy_auth_ok(self, handler: BaseHTTPRequestHandler) -> bool:
        if self.proxy_credentials is None:
            return True
        expected = "Basic " + base64.b64encode(":".join(self.proxy_credentials).encode()).decode()
        return handler.headers.get("Proxy-Authorization") == expected

    def _tunnel(self, handler: BaseHTTPRequestHandler) -> None:
        """`CONNECT host:port`: after a 200, copy bytes both ways until either side closes."""
        authorized = "Proxy-Authorization" in handler.headers
        with self._lock:
            self.log.append(Logged("CONNECT", handler.path, False, False, 0, authorized))
        if not self._proxy_auth_ok(handler):
            _reply(handler, 407, b"", {"Proxy-Authenticate": 'Basic realm="proxy"'})
            return
        host, _, port = handler.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        except (OSError, ValueError):
            _reply(handler, 502, b"")
            return
        handler.send_response(200, "Connection established")
        handler.end_headers()
        handler.wfile.flush()
        client = handler.connection
        with upstream:
            sockets = [client, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], HANG_LIMIT)
                if not readable:
                    break
                for source in readable:
                    data = source.recv(1 << 20)
                    if not data:
                        handler.close_connection = True
                        return
                    (upstream if source is client else client).sendall(data)
        handler.close_connection = True

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        absolute = handler.path.startswith("http://")
        if absolute and not self._proxy_auth_ok(handler):
            _reply(handler, 407, b"", {"Proxy-Authenticate": 'Basic realm="proxy"'})
            return
        if absolute:
            parts = urllib.parse.urlsplit(handler.path)
            handler.path = parts.path + (f"?{parts.query}" if parts.query else "")
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        with self._lock:
            self.log.append(
                Logged(
                    handler.command,
                    parsed.path,
                    "Authorization" in handler.headers,
                    absolute,
                    length,
                    "Proxy-Authorization" in handler.headers,
                )
            )
        fault = self._take_fault(handler.command, parsed.path)
        if fault is not None:
            _drain(handler, length)
            if fault.action is not None:
                fault.action(handler)
            else:
                _reply(handler, fault.status, fault.body, fault.headers)
            return
        if parsed.path.startswith("/storage/"):
            self._serve_storage(handler, parsed.path.rsplit("/", 1)[1])
            return
        if handler.command == "GET" and parsed.path.endswith("/tags/list"):
            self._serve_tags(handler, parsed)
            return
        if self.redirect_blobs and handler.command == "GET" and "/blobs/sha256:" in parsed.path:
            digest = parsed.path.rsplit("/", 1)[1]
            _reply(handler, 307, b"", {"Location": f"http://localhost:{self.port}/storage/{digest}"})
            return
        self._forward(handler, length)

    def _forward(self, handler: BaseHTTPRequestHandler, length: int) -> None:
        conn = http.client.HTTPConnection(self.upstream, timeout=60)
        conn.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
        for key, value in handler.headers.items():
            if key.lower() not in HOP_HEADERS:
                conn.putheader(key, value)
        conn.endheaders()
        remaining = length
        while remaining > 0:
            chunk = handler.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
            conn.send(chunk)
        response = conn.getresponse()
        handler.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in HOP_HEADERS:
                handler.send_header(key, value)
        if response.getheader("Content-Length") is None:
            data = response.read()
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        else:
            handler.end_headers()
            if handler.command != "HEAD":
                while chunk := response.read(1 << 20):
                    handler.wfile.write(chunk)
        conn.close()

    def _serve_storage(self, handler: BaseHTTPRequestHandler, digest: str) -> None:
        with self._lock:
            self.storage_requests.append("Authorization" in handler.headers)
        hexpart = digest.split(":", 1)[-1]
        if self.storage is None or not re.fullmatch(r"[0-9a-f]{64}", hexpart):
            _reply(handler, 404, b"")
            return
        path = self.storage / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"
        if not path.is_file():
            _reply(handler, 404, b"")
            return
        _reply(handler, 200, path.read_bytes(), {"Content-Type": "application/octet-stream"})

    def _serve_tags(self, handler: BaseHTTPRequestHandler, parsed: urllib.parse.SplitResult) -> None:
        self.tag_requests += 1
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() in ("authorization", "accept")}
        conn.request("GET", parsed.path, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if response.status != 200:
            extra = {"Content-Type": response.getheader("Content-Type") or "application/json"}
            if response.getheader("WWW-Authenticate"):
                extra["WWW-Authenticate"] = response.getheader("WWW-Authenticate") or ""
            _reply(handler, response.status, data, extra)
            return
        body = json.loads(data)
        tags = ghcr_order(body.get("tags") or [])
        query = urllib.parse.parse_qs(parsed.query)
        last = query.get("last", [None])[0]
        start = tags.index(last) + 1 if last in tags else 0
        page = tags[start : start + self.page_size]
        extra = {"Content-Type": "application/json"}
        if start + self.page_size < len(tags):
            next_query = urllib.parse.urlencode({"n": self.page_size, "last": page[-1]})
            extra["Link"] = f'<{parsed.path}?{next_query}>; rel="next"'
        _reply(handler, 200, json.dumps({"name": body.get("name"), "tags": page}).encode(), extra)

    def start(self) -> PagingProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release_hangs()
        self.server.shutdown()
        self.server.server_close()


# -- actions: misbehaviour below the level of HTTP statuses ----------------------------


def _hang(handler: BaseHTTPRequestHandler) -> None:
    released: threading.Event = handler.server.released  # type: ignore[attr-defined]
    released.wait(HANG_LIMIT)
    handler.close_connection = True


def _drop(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.flush()
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def partial_body(data: bytes, sent: int, *, then: str = "drop") -> Action:
    """200 with `Content-Length: len(data)` but only the first `sent` bytes of `data`,
    then `then`: "drop" closes the connection, "hang" keeps it open and silent."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[:sent])
        handler.wfile.flush()
        (_hang if then == "hang" else _drop)(handler)

    return act


def unframed_body(data: bytes) -> Action:
    """200 without Content-Length (HTTP/1.0 style): the body ends when the connection does."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
        handler.wfile.write(data)
        _drop(handler)

    return act


def chunked_body(data: bytes, headers: dict[str, str] | None = None, *, chunk: int = 7919, broken: str = "") -> Action:
    """200 with `Transfer-Encoding: chunked` (no Content-Length), in chunks of `chunk`
    bytes, as some registries and proxies send. `broken`: "drop" closes the connection
    in the middle of the body, "garbage" sends a chunk size that is not hexadecimal."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        for key, value in {"Content-Type": "application/octet-stream", **(headers or {})}.items():
            handler.send_header(key, value)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(data), chunk):
            if broken and start >= len(data) // 2:
                if broken == "garbage":
                    handler.wfile.write(b"zz\r\n")
                _drop(handler)
                return
            piece = data[start : start + chunk]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    return act


def stall(handler: BaseHTTPRequestHandler) -> None:
    """Read the request, never answer."""
    _hang(handler)


def _drain(handler: BaseHTTPRequestHandler, length: int) -> None:
    remaining = length
    while remaining > 0:
        chunk = handler.rfile.read(min(remaining, 1 << 20))
        if not chunk:
            return
        remaining -= len(chunk)


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD" and body:
        handler.wfile.write(body)


@contextmanager
def paging_proxy(upstream: str, page_size: int = 100, storage: Path | None = None) -> Iterator[PagingProxy]:
    proxy = PagingProxy(upstream, page_size, storage).start()
    try:
        yield proxy
    finally:
        proxy.stop()
