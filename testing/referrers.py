"""An OCI registry with the OCI 1.1 referrers API, for tests: a reverse proxy of ours in
front of a real `docker-registry` (CNCF distribution 2.8, which stores manifests with a
`subject` but answers 404 to `GET /v2/<name>/referrers/<digest>`).

What it does:
- every request (any method, headers, bodies with a length or chunked, HEAD, Range) is
  forwarded to the upstream registry and its answer (status, headers, body) relayed;
  redirects are relayed, never followed. Absolute URLs of the upstream in `Location` and
  `Link` headers (e.g. the upload session URL) are rewritten to point back at the proxy;
- a manifest PUT whose JSON body has a `subject` descriptor, once upstream accepted it
  (2xx), is recorded as a referrer of that subject (descriptor: the manifest's mediaType,
  the `Docker-Content-Digest` upstream returned, its size, `artifactType` = the manifest's
  `artifactType` else its config mediaType, its `annotations`), and the answer gains
  `OCI-Subject: <subject digest>` (as an OCI 1.1 registry says "no fallback tag needed").
  A successful manifest DELETE by digest forgets that referrer;
- `GET|HEAD /v2/<name>/referrers/<digest>[?artifactType=X]` answers 200 with an OCI image
  index (`Content-Type: application/vnd.oci.image.index.v1+json`), filtered by
  `artifactType` (with `OCI-Filters-Applied: artifactType`). An unknown digest gives an
  empty index. When the upstream demands authentication, the client's `Authorization` is
  checked by asking upstream for the repository's tag list, and a 401/403 is relayed.

Misbehaviour knobs, plain attributes of `ReferrersRegistry` that a test may set at any
time (`reset()` restores them all):
- `page_size: int | None` -- split the referrers index over pages of this many
  descriptors, each but the last with `Link: </v2/<name>/referrers/<digest>?n=..&last=..
  &offset=..>; rel="next"` (relative, like tag-list paging; `artifactType` is kept);
- `ignore_filter: bool` -- return every referrer whatever `artifactType` asks for, and
  no `OCI-Filters-Applied` header;
- `extra_referrers: int` -- that many junk descriptors (`JUNK_ARTIFACT_TYPE`, digests that
  name no manifest) come *first* in every index, before the real referrers;
- `referrers_status: int | None` -- answer the referrers endpoint with this status
  instead (404 with docker-registry's plain-text body, i.e. "no referrers API"; any other
  with an OCI error body);
- `inject: list[dict[str, Any]]` -- descriptors appended to every referrers answer
  (subject to the artifactType filter like real ones), e.g. one naming a missing manifest;
- `requests: list[tuple[str, str]]` -- every request received: method and path as sent
  (with its query string).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from testing.pki import TestCA
from testing.registry import Registry, start_registry
from testing.tokens import TokenServer

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
JUNK_ARTIFACT_TYPE = "application/vnd.mcpkg.test.junk.v1+json"
MANIFEST_LIMIT = 4 << 20  # bytes of a manifest body buffered for inspection (distribution's own limit)
CHUNK = 1 << 16
UPSTREAM_TIMEOUT = 60.0

HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# request headers the proxy sets itself
OWN_REQUEST_HEADERS = HOP_HEADERS | {"host", "content-length", "expect"}

_REFERRERS = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$")
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_NO_BODY_STATUSES = frozenset({204, 304})


def junk_descriptor(index: int) -> dict[str, Any]:
    """The `index`-th junk referrer descriptor (deterministic; its digest names no manifest)."""
    digest = "sha256:" + hashlib.sha256(f"mcpkg-junk-referrer-{index}".encode()).hexdigest()
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": 512, "artifactType": JUNK_ARTIFACT_TYPE}


def referrer_descriptor(manifest: dict[str, Any], digest: str, size: int, media_type: str) -> dict[str, Any]:
    """The descriptor a registry lists for a pushed manifest that has a subject."""
    descriptor: dict[str, Any] = {"mediaType": manifest.get("mediaType") or media_type, "digest": digest, "size": size}
    artifact_type = manifest.get("artifactType")
    config = manifest.get("config")
    if not isinstance(artifact_type, str) and isinstance(config, dict):
        artifact_type = config.get("mediaType")
    if isinstance(artifact_type, str) and artifact_type:
        descriptor["artifactType"] = artifact_type
    annotations = manifest.get("annotations")
    if isinstance(annotations, dict) and annotations:
        descriptor["annotations"] = annotations
    return descriptor


class _ChunkedBodyError(ValueError):
    pass


def _chunked_pieces(rfile: Any) -> Iterator[bytes]:
    """Decode a `Transfer-Encoding: chunked` request body from `rfile`, piece by piece."""
    while True:
        line = rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise _ChunkedBodyError("truncated chunk size line")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _ChunkedBodyError(f"bad chunk size {line!r}") from exc
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return
        left = size
        while left:
            data = rfile.read(min(left, CHUNK))
            if not data:
                raise _ChunkedBodyError("truncated chunk")
            left -= len(data)
            yield data
        if rfile.readline(1024) not in (b"\r\n", b"\n"):
            raise _ChunkedBodyError("chunk not followed by CRLF")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ReferrersRegistry


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        try:
            self.server.owner._handle(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _dispatch


class ReferrersRegistry:
    """The proxy, serving on `host` ("127.0.0.1:PORT") in front of `upstream`.

    Knobs and the request log are described in the module docstring."""

    def __init__(self, upstream: Registry, *, owns_upstream: bool = False) -> None:
        self.upstream = upstream
        self.owns_upstream = owns_upstream
        self.page_size: int | None = None
        self.ignore_filter = False
        self.extra_referrers = 0
        self.referrers_status: int | None = None
        self.inject: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._referrers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._context = ssl.create_default_context(cafile=str(upstream.ca_file)) if upstream.ca_file else None
        self._upstream_auth = self._probe_upstream_auth()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="referrers-registry", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- test helpers -------------------------------------------------------------------

    def referrers(self, name: str, digest: str) -> list[dict[str, Any]]:
        """The referrer descriptors recorded for `digest` in repository `name` (a copy)."""
        with self._lock:
            return [dict(d) for d in self._referrers.get((name, digest), [])]

    def requests_to(self, method: str, pattern: str) -> int:
        """How many logged requests have this method and a path matching `pattern` (re.search)."""
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and re.search(pattern, p))

    def reset(self) -> None:
        """Restore every knob to its well-behaved default and clear the request log
        (recorded referrers stay: they mirror what upstream stores)."""
        with self._lock:
            self.page_size = None
            self.ignore_filter = False
            self.extra_referrers = 0
            self.referrers_status = None
            self.inject = []
            self.requests.clear()

    def stop(self) -> None:
        """Stop the proxy, and the upstream registry when this object started it."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        if self.owns_upstream:
            self.upstream.stop()

    # -- upstream -----------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        if self._context is not None:
            return http.client.HTTPSConnection(self.upstream.host, timeout=UPSTREAM_TIMEOUT, context=self._context)
        return http.client.HTTPConnection(self.upstream.host, timeout=UPSTREAM_TIMEOUT)

    def _probe_upstream_auth(self) -> bool:
        conn = self._connect()
        try:
            conn.request("GET", "/v2/")
            response = conn.getresponse()
            response.read()
            return response.status == 401
        finally:
            conn.close()

    def _rewrite(self, value: str, client_host: str) -> str:
        """Point absolute upstream URLs in a header value back at the proxy."""
        upstream = self.upstream.url
        proxy = f"http://{client_host}"
        return value.replace(upstream, proxy)

    # -- handling -----------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        method = handler.command
        with self._lock:
            self.requests.append((method, handler.path))
        path = urllib.parse.urlsplit(handler.path).path
        referrers = _REFERRERS.match(path)
        if referrers and method in ("GET", "HEAD"):
            self._drain_request_body(handler)
            self._serve_referrers(handler, referrers["name"], referrers["digest"])
            return
        manifest = _MANIFEST.match(path)
        if manifest and method == "PUT":
            self._put_manifest(handler, manifest["name"])
            return
        response = self._forward(handler)
        if response is None:
            return
        status, headers, body = response
        if manifest and method == "DELETE" and 200 <= status < 300 and _DIGEST.match(manifest["ref"]):
            self._forget(manifest["name"], manifest["ref"])
        self._reply_upstream(handler, status, headers, body)

    def _request_body(self, handler: _Handler) -> tuple[int | None, Iterator[bytes]]:
        """The request body: its length (None when chunked) and its pieces."""
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            return None, _chunked_pieces(handler.rfile)
        length = int(handler.headers.get("Content-Length") or 0)

        def pieces() -> Iterator[bytes]:
            left = length
            while left:
                data = handler.rfile.read(min(left, CHUNK))
                if not data:
                    raise _ChunkedBodyError("request body shorter than Content-Length")
                left -= len(data)
                yield data

        return length, pieces()

    def _drain_request_body(self, handler: _Handler) -> None:
        try:
            for _ in self._request_body(handler)[1]:
                pass
        except (ValueError, OSError):
            handler.close_connection = True

    def _forward(
        self, handler: _Handler, buffered: bytes | None = None
    ) -> tuple[int, list[tuple[str, str]], Generator[bytes] | bytes] | None:
        """Send the request upstream (its body streamed, or `buffered` when given) and return
        the response: status, headers (hop-by-hop ones dropped, URLs rewritten) and body
        (bytes, or pieces to stream while the upstream connection stays open). None when
        the proxy already answered (a 502 or a bad request body)."""
        if buffered is not None:
            length: int | None = len(buffered)
            pieces: Iterator[bytes] = iter([buffered] if buffered else [])
        else:
            length, pieces = self._request_body(handler)
        conn = self._connect()
        try:
            conn.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", self.upstream.host)
            for key, value in handler.headers.items():
                if key.lower() not in OWN_REQUEST_HEADERS:
                    conn.putheader(key, value)
            if length is None:
                conn.putheader("Transfer-Encoding", "chunked")
            elif length or handler.command in ("POST", "PUT", "PATCH") or "Content-Length" in handler.headers:
                conn.putheader("Content-Length", str(length))
            conn.endheaders()
            for piece in pieces:
                if length is None:
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    conn.send(piece)
            if length is None:
                conn.send(b"0\r\n\r\n")
            upstream = conn.getresponse()
        except _ChunkedBodyError as exc:
            conn.close()
            handler.close_connection = True
            self._reply(handler, 400, str(exc).encode(), {"Content-Type": "text/plain"})
            return None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            handler.close_connection = True
            self._reply(handler, 502, f"upstream: {exc}".encode(), {"Content-Type": "text/plain"})
            return None
        client_host = handler.headers.get("Host") or self.host
        headers: list[tuple[str, str]] = []
        for key, value in upstream.getheaders():
            if key.lower() in HOP_HEADERS:
                continue
            if key.lower() in ("location", "link", "content-location"):
                value = self._rewrite(value, client_host)
            headers.append((key, value))
        if handler.command == "HEAD" or upstream.status in _NO_BODY_STATUSES or upstream.status < 200:
            upstream.read()
            conn.close()
            return upstream.status, headers, b""
        if upstream.getheader("Content-Length") is None:
            # chunked or close-delimited upstream: buffer, then answer with a length
            try:
                data = upstream.read()
            finally:
                conn.close()
            headers.append(("Content-Length", str(len(data))))
            return upstream.status, headers, data

        def stream() -> Generator[bytes]:
            try:
                while data := upstream.read(CHUNK):
                    yield data
            finally:
                conn.close()

        return upstream.status, headers, stream()

    def _reply_upstream(
        self, handler: _Handler, status: int, headers: list[tuple[str, str]], body: Generator[bytes] | bytes
    ) -> None:
        handler.send_response_only(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.end_headers()
        if isinstance(body, bytes):
            if body:
                handler.wfile.write(body)
            return
        expected = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        sent = 0
        try:
            for piece in body:
                handler.wfile.write(piece)
                sent += len(piece)
        except (OSError, http.client.HTTPException):
            handler.close_connection = True
            return
        finally:
            body.close()
        if sent != expected:
            handler.close_connection = True  # the client sees a short body, as upstream sent it

    def _reply(self, handler: _Handler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _error(self, handler: _Handler, status: int, code: str, message: str) -> None:
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self._reply(handler, status, body, {"Content-Type": "application/json"})

    # -- manifests ----------------------------------------------------------------------

    def _put_manifest(self, handler: _Handler, name: str) -> None:
        try:
            body = b"".join(self._request_body(handler)[1])
        except (ValueError, OSError):
            handler.close_connection = True
            self._error(handler, 400, "MANIFEST_INVALID", "unreadable request body")
            return
        if len(body) > MANIFEST_LIMIT:
            self._error(handler, 413, "SIZE_INVALID", "manifest too large")
            return
        response = self._forward(handler, buffered=body)
        if response is None:
            return
        status, headers, upstream_body = response
        if not isinstance(upstream_body, bytes):
            upstream_body = b"".join(upstream_body)
        subject = self._subject_of(body)
        if subject is not None and 200 <= status < 300:
            returned = next((v for k, v in headers if k.lower() == "docker-content-digest"), None)
            digest = returned or "sha256:" + hashlib.sha256(body).hexdigest()
            media_type = handler.headers.get("Content-Type", "").split(";")[0].strip()
            self._record(name, subject, referrer_descriptor(json.loads(body), digest, len(body), media_type))
            headers.append(("OCI-Subject", subject))
        self._reply_upstream(handler, status, headers, upstream_body)

    @staticmethod
    def _subject_of(body: bytes) -> str | None:
        try:
            manifest = json.loads(body)
        except ValueError:
            return None
        if not isinstance(manifest, dict):
            return None
        subject = manifest.get("subject")
        if isinstance(subject, dict) and isinstance(subject.get("digest"), str):
            return cast(str, subject["digest"])
        return None

    def _record(self, name: str, subject: str, descriptor: dict[str, Any]) -> None:
        with self._lock:
            listed = self._referrers.setdefault((name, subject), [])
            listed[:] = [d for d in listed if d["digest"] != descriptor["digest"]]
            listed.append(descriptor)

    def _forget(self, name: str, digest: str) -> None:
        with self._lock:
            for (repo, _), listed in self._referrers.items():
                if repo == name:
                    listed[:] = [d for d in listed if d["digest"] != digest]

    # -- referrers API --------------------------------------------------------------------

    def _authorized(self, handler: _Handler, name: str) -> bool:
        """With an upstream demanding auth: whether the client's credentials may pull `name`
        (asked of upstream; a refusal is relayed to the client)."""
        if not self._upstream_auth:
            return True
        conn = self._connect()
        try:
            headers = {"Authorization": handler.headers["Authorization"]} if "Authorization" in handler.headers else {}
            conn.request("GET", f"/v2/{name}/tags/list", headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._reply(handler, 502, f"upstream: {exc}".encode(), {"Content-Type": "text/plain"})
            return False
        finally:
            conn.close()
        if response.status in (401, 403):
            relayed = {k: v for k, v in response.getheaders() if k.lower() in ("www-authenticate", "content-type")}
            self._reply(handler, response.status, body, relayed)
            return False
        return True

    def _serve_referrers(self, handler: _Handler, name: str, digest: str) -> None:
        status = self.referrers_status
        if status is not None:
            if status == 404:
                self._reply(handler, 404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"})
            else:
                self._error(handler, status, "UNKNOWN", f"referrers status {status} set by the test")
            return
        if not self._authorized(handler, name):
            return
        if not _DIGEST.match(digest):
            self._error(handler, 400, "DIGEST_INVALID", f"invalid digest {digest!r}")
            return
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
        artifact_type = query.get("artifactType", [None])[0]
        with self._lock:
            listed = [junk_descriptor(i) for i in range(self.extra_referrers)]
            listed += [dict(d) for d in self._referrers.get((name, digest), [])]
            listed += [dict(d) for d in self.inject]
            page_size = self.page_size
            filtering = artifact_type is not None and not self.ignore_filter
        if filtering:
            listed = [d for d in listed if d.get("artifactType") == artifact_type]
        headers = {"Content-Type": OCI_INDEX}
        if filtering:
            headers["OCI-Filters-Applied"] = "artifactType"
        if page_size is not None:
            listed, link = self._page(name, digest, listed, page_size, query, artifact_type)
            if link is not None:
                headers["Link"] = link
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed}
        self._reply(handler, 200, json.dumps(index).encode(), headers)

    @staticmethod
    def _page(
        name: str,
        digest: str,
        listed: list[dict[str, Any]],
        page_size: int,
        query: dict[str, list[str]],
        artifact_type: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of `listed` and the Link to the next (None on the last page). The page
        starts at `offset` when given (robust to repeated digests), else after the first
        descriptor whose digest is `last`; its size is `n` when smaller than `page_size`."""
        size = max(1, page_size)
        if "n" in query:
            with contextlib.suppress(ValueError):
                size = max(1, min(size, int(query["n"][0])))
        start = 0
        if "offset" in query:
            with contextlib.suppress(ValueError):
                start = max(0, int(query["offset"][0]))
        elif "last" in query:
            last = query["last"][0]
            start = next((i + 1 for i, d in enumerate(listed) if d.get("digest") == last), len(listed))
        page = listed[start : start + size]
        end = start + len(page)
        if end >= len(listed) or not page:
            return page, None
        params: list[tuple[str, str]] = []
        if artifact_type is not None:
            params.append(("artifactType", artifact_type))
        params += [("n", str(size)), ("last", str(page[-1].get("digest", ""))), ("offset", str(end))]
        return page, f'</v2/{name}/referrers/{digest}?{urllib.parse.urlencode(params)}>; rel="next"'


def serve_referrers(upstream: Registry) -> ReferrersRegistry:
    """Start the referrers proxy in front of an already running registry (not stopped with it)."""
    return ReferrersRegistry(upstream)


@contextlib.contextmanager
def running_referrers_registry(
    username: str | None = None,
    password: str | None = None,
    *,
    token: TokenServer | None = None,
    tls: TestCA | None = None,
) -> Iterator[ReferrersRegistry]:
    """A fresh docker-registry (arguments as `testing.registry.start_registry`) behind a
    referrers proxy on a free loopback port; both stopped on exit."""
    upstream = start_registry(username, password, token=token, tls=tls)
    try:
        proxy = ReferrersRegistry(upstream, owns_upstream=True)
    except BaseException:
        upstream.stop()
        raise
    try:
        yield proxy
    finally:
        proxy.stop()
