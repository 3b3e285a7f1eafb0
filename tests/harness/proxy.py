"""A loopback HTTP server of ours in front of a real registry.

It forwards every request unchanged, except tag lists, which it pages like ghcr.io
(`docker-registry` 2.8 ignores `n`/`last`): a fixed page size, tags in a non-lexical
order, and a *relative* `Link: </v2/<name>/tags/list?n=..&last=..>; rel="next"` header.
Later issues extend it to inject faults.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def ghcr_order(tags: list[str]) -> list[str]:
    """A stable order that is not version order (ghcr.io does not sort by version):
    byte order, which puts `0.1.10` before `0.1.2` and `v1.0.0` after every digit."""
    return sorted(tags)


class PagingProxy:
    def __init__(self, upstream: str, page_size: int = 100) -> None:
        self.upstream = upstream
        self.page_size = page_size
        self.tag_requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                if self.command == "GET" and parsed.path.endswith("/tags/list"):
                    proxy._serve_tags(self, parsed)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                body_iter = _reader(self.rfile, length) if length else None
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers.items():
                    conn.putheader(key, value)
                conn.endheaders()
                if body_iter:
                    for chunk in body_iter:
                        conn.send(chunk)
                response = conn.getresponse()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                if response.getheader("Content-Length") is None:
                    data = response.read()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                else:
                    self.end_headers()
                    if self.command != "HEAD":
                        while chunk := response.read(1 << 20):
                            self.wfile.write(chunk)
                conn.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _serve_tags(self, handler: BaseHTTPRequestHandler, parsed: urllib.parse.SplitResult) -> None:
        self.tag_requests += 1
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() in ("authorization", "accept")}
        conn.request("GET", parsed.path, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if response.status != 200:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.getheader("Content-Type") or "application/json")
            for key in ("WWW-Authenticate",):
                if response.getheader(key):
                    handler.send_header(key, response.getheader(key) or "")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        body = json.loads(data)
        tags = ghcr_order(body.get("tags") or [])
        query = urllib.parse.parse_qs(parsed.query)
        last = query.get("last", [None])[0]
        start = tags.index(last) + 1 if last in tags else 0
        page = tags[start : start + self.page_size]
        out = json.dumps({"name": body.get("name"), "tags": page}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(out)))
        if start + self.page_size < len(tags):
            next_query = urllib.parse.urlencode({"n": self.page_size, "last": page[-1]})
            handler.send_header("Link", f'<{parsed.path}?{next_query}>; rel="next"')
        handler.end_headers()
        handler.wfile.write(out)

    def start(self) -> PagingProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _reader(stream: object, length: int) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))  # type: ignore[attr-defined]
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


@contextmanager
def paging_proxy(upstream: str, page_size: int = 100) -> Iterator[PagingProxy]:
    proxy = PagingProxy(upstream, page_size).start()
    try:
        yield proxy
    finally:
        proxy.stop()
