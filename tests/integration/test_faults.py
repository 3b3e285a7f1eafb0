"""The registry misbehaving on purpose (issue #10's fault table).

Every case pulls one component through our loopback proxy with one fault queued, into a
cache that already holds another component and to an output path that already holds a
file. Whatever the fault, mcpkg must end (the read timeout is 1 s here, so a hang costs
seconds), retry only what is transient (counted in the proxy's log), say what happened,
and leave the cache and the output path exactly as they were when it fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testing.proxy import PagingProxy, chunked_body, partial_body, stall, unframed_body
from testing.registry import Registry
from testing.tokens import TokenServer
from tests.conftest import Mcpkg

REPO = "faults/answer"
OTHER = "faults/greeter"
PREVIOUS = b"the user's previous file\n"
BOB = {"MCPKG_REGISTRY_USERNAME": "bob", "MCPKG_REGISTRY_PASSWORD": "token-pass"}
HANG_GUARD = 60.0  # a hang guard for the test itself, not a speed check


@dataclass(frozen=True)
class Pushed:
    layer: bytes
    layer_digest: str
    manifest: bytes
    manifest_digest: str
    config: bytes
    config_digest: str


@pytest.fixture(scope="module")
def pushed(paging: PagingProxy, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Pushed:
    pusher = Mcpkg(tmp_path_factory.mktemp("pusher"))
    pusher.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/{REPO}:1.0.0")
    pusher.ok("push", str(fixtures / "greeter.wasm"), f"{paging.host}/{OTHER}:1.0.0")
    got = pusher.ok("pull", f"{paging.host}/{REPO}:1.0.0", "--json").json()
    manifest_digest = got["digest"]
    manifest = (pusher.cache / "blobs/sha256" / manifest_digest.split(":")[1]).read_bytes()
    config_digest = json.loads(manifest)["config"]["digest"]
    config = (pusher.cache / "blobs/sha256" / config_digest.split(":")[1]).read_bytes()
    layer = (fixtures / "answer.wasm").read_bytes()
    return Pushed(layer, got["layer-digest"], manifest, manifest_digest, config, config_digest)


def snapshot(cache: Path) -> dict[str, str]:
    """Every file of the cache (but the empty lock files in locks/) with its hash."""
    return {
        str(p.relative_to(cache)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(cache.rglob("*"))
        if p.is_file() and p.parent.name != "locks"
    }


@dataclass
class Case:
    name: str
    inject: Callable[[PagingProxy, Pushed], None]
    ok: bool  # the pull succeeds in the end (transient fault)
    message: str = ""  # expected in the error message (case-insensitive)
    counted: str = ""  # "GET <regex>": requests the fault was served for...
    attempts: int = 0  # ...and how many there must be


LAYER = r"/blobs/sha256:{layer}$"
MANIFEST_TAG = r"/manifests/1\.0\.0$"


def _layer(p: Pushed) -> str:
    return LAYER.format(layer=p.layer_digest.split(":")[1])


def _config(p: Pushed) -> str:
    return LAYER.format(layer=p.config_digest.split(":")[1])


def flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def manifest_with(p: Pushed, edit: Callable[[dict[str, object]], None]) -> bytes:
    doc = json.loads(p.manifest)
    edit(doc)
    return json.dumps(doc).encode()


def _huge_config(doc: dict[str, object]) -> None:
    config = doc["config"]
    assert isinstance(config, dict)
    config["size"] = 512 * 1024 * 1024


MANIFEST_HEADERS = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}


def _all_chunked(proxy: PagingProxy, p: Pushed) -> None:
    """Manifest, config and layer each once with chunked transfer coding."""
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": p.manifest_digest}
    proxy.inject_action("GET", MANIFEST_TAG, chunked_body(p.manifest, headers, chunk=97))
    proxy.inject_action("GET", _config(p), chunked_body(p.config, chunk=13))
    proxy.inject_action("GET", _layer(p), chunked_body(p.layer, chunk=7))


CASES = [
    # -- transient: retried, then success -------------------------------------------
    Case("500 twice then recovery", lambda x, p: x.inject("GET", _layer(p), 500, times=2), True, "", "layer", 3),
    Case("502 on the manifest then recovery", lambda x, p: x.inject("GET", MANIFEST_TAG, 502), True, "", "tag", 2),
    Case("503 three times then recovery", lambda x, p: x.inject("GET", _layer(p), 503, times=3), True, "", "layer", 4),
    Case(
        "429 with Retry-After: 1",
        lambda x, p: x.inject("GET", _layer(p), 429, headers={"Retry-After": "1"}),
        True,
        "",
        "layer",
        2,
    ),
    Case(
        "connection dropped mid-blob once",
        lambda x, p: x.inject_action("GET", _layer(p), partial_body(p.layer, len(p.layer) // 2)),
        True,
        "",
        "layer",
        2,
    ),
    Case(
        "hang mid-body once (read timeout)",
        lambda x, p: x.inject_action("GET", _layer(p), partial_body(p.layer, 100, then="hang")),
        True,
        "",
        "layer",
        2,
    ),
    Case(
        "no answer to the manifest once", lambda x, p: x.inject_action("GET", MANIFEST_TAG, stall), True, "", "tag", 2
    ),
    Case(
        "chunked manifest, config and layer (no Content-Length)",
        lambda x, p: _all_chunked(x, p),
        True,
        "",
        "layer",
        1,
    ),
    Case(
        "chunked layer broken off once",
        lambda x, p: x.inject_action("GET", _layer(p), chunked_body(p.layer, chunk=16, broken="drop")),
        True,
        "",
        "layer",
        2,
    ),
    # -- persistent transient faults: bounded retries, then a clear error -------------
    Case(
        "chunked layer with a garbage chunk size every time",
        lambda x, p: x.inject_action("GET", _layer(p), chunked_body(p.layer, chunk=16, broken="garbage"), times=100),
        False,
        "interrupted 4 times",
        "layer",
        4,
    ),
    Case(
        "500 for ever",
        lambda x, p: x.inject("GET", _layer(p), 500, times=100),
        False,
        "HTTP 500.*after 4 attempts",
        "layer",
        4,
    ),
    Case(
        "connection dropped mid-blob every time",
        lambda x, p: x.inject_action("GET", _layer(p), partial_body(p.layer, 64), times=100),
        False,
        "interrupted 4 times",
        "layer",
        4,
    ),
    Case(
        "hang mid-body every time",
        lambda x, p: x.inject_action("GET", _layer(p), partial_body(p.layer, 64, then="hang"), times=100),
        False,
        "interrupted 4 times",
        "layer",
        4,
    ),
    Case(
        "no answer to the manifest ever",
        lambda x, p: x.inject_action("GET", MANIFEST_TAG, stall, times=100),
        False,
        "stopped answering: no bytes for 1 s .after 4 attempts",
        "tag",
        4,
    ),
    Case(
        "429 asking to wait an hour",
        lambda x, p: x.inject("GET", _layer(p), 429, headers={"Retry-After": "3600"}, times=100),
        False,
        "rate limit",
        "layer",
        1,
    ),
    # -- not transient: never retried ----------------------------------------------
    Case("404 for the layer", lambda x, p: x.inject("GET", _layer(p), 404, times=100), False, "not found", "layer", 1),
    Case(
        "fewer bytes than the descriptor (honest length)",
        lambda x, p: x.inject("GET", _layer(p), 200, body=p.layer[:-10], times=100),
        False,
        "announces",
        "layer",
        1,
    ),
    Case(
        "more bytes than the descriptor (honest length)",
        lambda x, p: x.inject("GET", _layer(p), 200, body=p.layer + b"\0" * 10, times=100),
        False,
        "announces",
        "layer",
        1,
    ),
    Case(
        "more bytes than the descriptor (no length)",
        lambda x, p: x.inject_action("GET", _layer(p), unframed_body(p.layer + b"\0" * 4096), times=100),
        False,
        "more than the expected",
        "layer",
        1,
    ),
    Case(
        "layer whose digest does not match",
        lambda x, p: x.inject("GET", _layer(p), 200, body=flipped(p.layer), times=100),
        False,
        "hashes to sha256:",
        "layer",
        1,
    ),
    Case(
        "config whose digest does not match",
        lambda x, p: x.inject("GET", _config(p), 200, body=flipped(p.config), times=100),
        False,
        "hashes to sha256:",
        "config",
        1,
    ),
    Case(
        "manifest whose digest does not match the registry's",
        lambda x, p: x.inject(
            "GET",
            MANIFEST_TAG,
            200,
            body=p.manifest + b" ",
            headers={**MANIFEST_HEADERS, "Docker-Content-Digest": p.manifest_digest},
            times=100,
        ),
        False,
        "digest",
        "tag",
        1,
    ),
    Case(
        "enormous manifest",
        lambda x, p: x.inject("GET", MANIFEST_TAG, 200, body=b" " * (5 << 20), headers=MANIFEST_HEADERS, times=100),
        False,
        "limit",
        "tag",
        1,
    ),
    Case(
        "manifest announcing an enormous config",
        lambda x, p: x.inject(
            "GET", MANIFEST_TAG, 200, body=manifest_with(p, _huge_config), headers=MANIFEST_HEADERS, times=100
        ),
        False,
        "exceeds mcpkg's limit",
        "tag",
        1,
    ),
    # -- redirects -------------------------------------------------------------------
    Case(
        "redirect loop",
        lambda x, p: x.inject(
            "GET", _layer(p), 307, headers={"Location": f"/v2/{REPO}/blobs/{p.layer_digest}"}, times=100
        ),
        False,
        "too many redirects",
        "layer",
        6,
    ),
    Case(
        "redirect without a Location",
        lambda x, p: x.inject("GET", _layer(p), 302, times=100),
        False,
        "redirect without a target",
        "layer",
        1,
    ),
    Case(
        "redirect to a .invalid host",
        lambda x, p: x.inject(
            "GET", _layer(p), 307, headers={"Location": "https://blobs.registry.invalid/x"}, times=100
        ),
        False,
        "reserved name",
        "layer",
        1,
    ),
    Case(
        "redirect to plain HTTP off loopback",
        lambda x, p: x.inject("GET", _layer(p), 307, headers={"Location": "http://192.0.2.1/x"}, times=100),
        False,
        "refusing a redirect to http://192.0.2.1",
        "layer",
        1,
    ),
    # -- authentication ------------------------------------------------------------
    Case(
        "invalid WWW-Authenticate header",
        lambda x, p: x.inject("GET", MANIFEST_TAG, 401, headers={"WWW-Authenticate": "%%% garbage"}, times=100),
        False,
        "authentication",
        "tag",
        1,
    ),
    Case(
        "bearer challenge without a realm",
        lambda x, p: x.inject("GET", MANIFEST_TAG, 401, headers={"WWW-Authenticate": 'Bearer service="x"'}, times=100),
        False,
        "without a usable realm",
        "tag",
        1,
    ),
]


@pytest.fixture
def faulty(paging: PagingProxy) -> Iterator[PagingProxy]:
    paging.clear()
    yield paging
    paging.release_hangs()
    paging.clear()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case: Case, faulty: PagingProxy, pushed: Pushed, mcpkg: Mcpkg, tmp_path: Path) -> None:
    mcpkg.ok("pull", f"{faulty.host}/{OTHER}:1.0.0")  # the cache holds something already
    before = snapshot(mcpkg.cache)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "answer.wasm"
    out.write_bytes(PREVIOUS)
    faulty.clear()
    case.inject(faulty, pushed)

    started = time.monotonic()
    result = mcpkg("pull", f"{faulty.host}/{REPO}:1.0.0", "-o", str(out), "--json", env={"MCPKG_HTTP_TIMEOUT": "1"})
    elapsed = time.monotonic() - started
    assert elapsed < HANG_GUARD

    pattern = {"layer": _layer(pushed), "config": _config(pushed), "tag": MANIFEST_TAG}[case.counted]
    served = faulty.requests_to("GET", pattern)
    assert served == case.attempts, f"{served} requests for {case.counted}, expected {case.attempts}: {result}"
    if case.ok:
        assert result.exit_code == 0, result.stdout + result.stderr
        assert out.read_bytes() == pushed.layer
        assert (mcpkg.cache / "blobs/sha256" / pushed.layer_digest.split(":")[1]).is_file()
    else:
        assert result.exit_code != 0
        error = result.json()["error"]
        assert re.search(case.message, error["message"] + " " + (error.get("hint") or ""), re.I), error
        assert snapshot(mcpkg.cache) == before, "a failed pull changed the cache"
        assert out.read_bytes() == PREVIOUS, "a failed pull touched the output"
        assert sorted(p.name for p in out_dir.iterdir()) == ["answer.wasm"], "a temp file was left beside -o"


# -- a redirect to another loopback address: followed, without credentials ------------


class _BlobHost:
    """A tiny HTTP server on 127.0.0.2 that serves one blob and records Authorization."""

    def __init__(self, data: bytes) -> None:
        seen: list[str | None] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _can_bind_127_0_0_2() -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.2", 0))
        except OSError:
            return False
    return True


def test_redirect_to_another_loopback_host(faulty: PagingProxy, pushed: Pushed, mcpkg: Mcpkg, tmp_path: Path) -> None:
    assert _can_bind_127_0_0_2(), "Linux routes all of 127.0.0.0/8 to loopback"
    host = _BlobHost(pushed.layer)
    try:
        location = f"http://127.0.0.2:{host.port}/storage/{pushed.layer_digest}"
        faulty.inject("GET", _layer(pushed), 307, headers={"Location": location})
        env = {"MCPKG_REGISTRY_USERNAME": "someone", "MCPKG_REGISTRY_PASSWORD": "never-forwarded"}
        out = tmp_path / "a.wasm"
        mcpkg.ok("pull", f"{faulty.host}/{REPO}:1.0.0", "-o", str(out), env=env)
        assert out.read_bytes() == pushed.layer
        assert host.seen == [None]
    finally:
        host.stop()


def test_redirect_to_a_host_that_is_down(faulty: PagingProxy, pushed: Pushed, mcpkg: Mcpkg) -> None:
    with socket.socket() as sock:  # a port on 127.0.0.2 that nobody listens on
        sock.bind(("127.0.0.2", 0))
        port = sock.getsockname()[1]
    faulty.inject("GET", _layer(pushed), 307, headers={"Location": f"http://127.0.0.2:{port}/x"}, times=100)
    before = snapshot(mcpkg.cache) if mcpkg.cache.exists() else {}
    result = mcpkg("pull", f"{faulty.host}/{REPO}:1.0.0", env={"MCPKG_HTTP_TIMEOUT": "1"})
    assert result.exit_code == 1
    assert "interrupted 4 times" in result.stderr and "blob storage at 127.0.0.2" in result.stderr, result.stderr
    assert faulty.requests_to("GET", _layer(pushed)) == 4  # transient: the whole transfer was retried
    assert (snapshot(mcpkg.cache) if mcpkg.cache.exists() else {}) == before


# -- pushing through faults ---------------------------------------------------------

UPLOAD_PUT = r"/blobs/uploads/"
MANIFEST_PUT = r"/manifests/"

PUSH_CASES = [
    # (name, inject, succeeds, message, (method, path regex), attempts)
    (
        "500 on the upload PUT twice then recovery",
        lambda x: x.inject("PUT", UPLOAD_PUT, 500, times=2),
        True,
        "",
        ("PUT", UPLOAD_PUT),
        4,
    ),
    (
        "503 on opening the upload then recovery",
        lambda x: x.inject("POST", UPLOAD_PUT, 503),
        True,
        "",
        ("POST", UPLOAD_PUT),
        3,
    ),
    (
        "no answer to the manifest PUT once",
        lambda x: x.inject_action("PUT", MANIFEST_PUT, stall),
        True,
        "",
        ("PUT", MANIFEST_PUT),
        2,
    ),
    (
        "500 on the manifest PUT for ever",
        lambda x: x.inject("PUT", MANIFEST_PUT, 500, times=100),
        False,
        "HTTP 500.*after 4 attempts",
        ("PUT", MANIFEST_PUT),
        4,
    ),
    (
        "400 on the manifest PUT (not transient)",
        lambda x: x.inject(
            "PUT", MANIFEST_PUT, 400, body=b'{"errors":[{"code":"MANIFEST_INVALID","message":"no"}]}', times=100
        ),
        False,
        "MANIFEST_INVALID",
        ("PUT", MANIFEST_PUT),
        1,
    ),
]


@pytest.mark.parametrize(
    ("inject", "ok", "message", "counted", "attempts"), [c[1:] for c in PUSH_CASES], ids=[c[0] for c in PUSH_CASES]
)
def test_push_fault(
    faulty: PagingProxy,
    fixtures: Path,
    mcpkg: Mcpkg,
    inject: Callable[[PagingProxy], None],
    ok: bool,
    message: str,
    counted: tuple[str, str],
    attempts: int,
    request: pytest.FixtureRequest,
) -> None:
    # a repository of its own per case, so that no blob is already there (no mount either)
    ref = (
        f"{faulty.host}/faults/push-{request.node.callspec.id.split()[0]}-{abs(hash(request.node.name)) % 10**6}:1.0.0"
    )
    inject(faulty)
    result = mcpkg("push", str(fixtures / "logger.wasm"), ref, "--json", env={"MCPKG_HTTP_TIMEOUT": "1"})
    served = faulty.requests_to(*counted)
    assert served == attempts, f"{served} x {counted}, expected {attempts}: {result}"
    faulty.clear()
    pulled = mcpkg("pull", ref, "--json")
    if ok:
        assert result.exit_code == 0, result
        assert pulled.exit_code == 0, pulled
    else:
        assert result.exit_code == 1
        assert re.search(message, result.json()["error"]["message"]), result.json()
        assert pulled.exit_code == 1 and pulled.json()["error"]["type"] == "not-found"  # nothing half-published


def test_failed_chunk_is_not_retried(faulty: PagingProxy, fixtures: Path, mcpkg: Mcpkg) -> None:
    """A PATCH appends to the upload session: repeating one could corrupt the blob, so a
    failed chunk fails the push (docs/limits.md), and nothing gets published."""
    ref = f"{faulty.host}/faults/chunked:1.0.0"
    faulty.inject("PATCH", UPLOAD_PUT, 500, times=100)
    result = mcpkg("push", str(fixtures / "large.wasm"), ref, "--json")
    assert faulty.requests_to("PATCH", UPLOAD_PUT) == 1
    assert result.exit_code == 1 and "HTTP 500" in result.json()["error"]["message"], result
    faulty.clear()
    assert mcpkg("pull", ref, "--json").json()["error"]["type"] == "not-found"


# -- the token endpoint misbehaving ----------------------------------------------------

TOKEN_CASES = [
    # (name, mode, times, succeeds, message, token requests)
    ("500 once then recovery", "error", 1, True, "", 2),
    ("500 for ever", "error", None, False, "token service .* answered HTTP 500 .after 4 attempts", 4),
    ("no answer ever", "hang", None, False, "token service .* stopped answering: no bytes for 1 s", 4),
    ("HTML instead of JSON", "garbage", None, False, "token service .* returned an invalid response", 1),
    ("a 2 MiB token", "huge", None, False, "token service .* returned an invalid response", 1),
]


@pytest.mark.parametrize(
    ("mode", "times", "ok", "message", "requests"), [c[1:] for c in TOKEN_CASES], ids=[c[0] for c in TOKEN_CASES]
)
def test_token_endpoint_fault(
    mcpkg: Mcpkg,
    token_registry: Registry,
    token_server: TokenServer,
    fixtures: Path,
    mode: str,
    times: int | None,
    ok: bool,
    message: str,
    requests: int,
) -> None:
    ref = f"{token_registry.host}/public/faulty:1.0.0"
    mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env=BOB)
    fresh = Mcpkg(mcpkg.home.parent / "fresh")
    token_server.requests.clear()
    token_server.mode, token_server.mode_times = mode, times
    try:
        result = fresh("pull", ref, "--json", env={"MCPKG_HTTP_TIMEOUT": "1"})
    finally:
        token_server.mode, token_server.mode_times = "normal", None
        token_server.released.set()
        token_server.released = threading.Event()
    assert len(token_server.requests) == requests, token_server.requests
    if ok:
        assert result.exit_code == 0, result
    else:
        assert result.exit_code == 1
        assert re.search(message, result.json()["error"]["message"]), result.json()
        assert fresh.cached_blobs() == []
