"""The HTTP host's pure parts: `--http [HOST:]PORT`, the live sessions' bound (the one unused
the longest makes room), the protocol versions a request may name, and that only a run serving
HTTP loads the HTTP server (stdio `mcpkg run` and every other command do not)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpkg.errors import UsageError
from mcpkg.host.http_host import HEADER_VERSIONS, Address, McpHttpServer, Sessions, is_loopback, parse_address
from mcpkg.host.mcp_json import Case
from mcpkg.host.mcp_session import Session
from mcpkg.host.runner import serve_command


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("8080", Address("127.0.0.1", 8080)),
        ("127.0.0.1:8080", Address("127.0.0.1", 8080)),
        ("localhost:9000", Address("127.0.0.1", 9000)),
        ("[::1]:8080", Address("::1", 8080)),
        ("0.0.0.0:80", Address("0.0.0.0", 80)),
        ("0", Address("127.0.0.1", 0)),
    ],
)
def test_the_address(text: str, address: Address) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["", "http", "127.0.0.1:", ":8080", "::1:8080", "127.0.0.1:65536", "1.2.3.4:-1"])
def test_not_an_address(text: str) -> None:
    with pytest.raises(UsageError, match=r"is not \[HOST:\]PORT"):
        parse_address(text)


def test_loopback() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com"))
    assert Address("::1", 8080).netloc == "[::1]:8080" and Address("127.0.0.1", 80).netloc == "127.0.0.1:80"


def test_only_a_run_serving_http_loads_the_http_server() -> None:
    probe = (
        "import sys\nimport mcpkg.ops.run\n"
        "print(sorted(m for m in sys.modules if m in ('http.server', 'mcpkg.host.http_host', 'mcpkg.ops.run_http')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_a_composed_http_server_is_served_at_the_address_given() -> None:
    """`run http-server.wasm --http ADDR` prints its `wasmtime serve` command with that address."""
    command = serve_command(Path("s.wasm"), ["keyvalue"], parse_address("[::1]:9000").netloc)
    assert command == "wasmtime serve -O pooling-allocator=n -Scommon -S keyvalue --addr [::1]:9000 s.wasm"


JSON = {"accept": "application/json", "content-type": "application/json"}


class Idle:
    """A backend instance that is never called (the sessions only hold it)."""

    def __init__(self) -> None:
        self.session = Session(self, "idle")
        self.trapped = False

    def call(self, function: str, *args: Any) -> Case:
        raise AssertionError(function)

    def recover(self) -> None:
        pass


def test_a_new_session_ends_the_one_unused_the_longest() -> None:
    """Full: a new session ends the one unused the longest (MCP SDK clients never DELETE, and
    the conformance suite opens a session per scenario); 503 (None) only when all are busy."""
    sessions = Sessions(Idle, None, limit=2, idle=600)
    first, second = sessions.open(), sessions.open()
    assert first is not None and second is not None
    time.sleep(0.01)
    assert sessions.get(first.id) is first  # used: now second is unused the longest
    third = sessions.open()
    assert third is not None and third.id not in (first.id, second.id)
    assert second.ended and sessions.get(second.id) is None
    assert sessions.get(first.id) is first and not first.ended
    with first.lock, third.lock:  # both busy with a request: no room
        assert sessions.open() is None
    assert not first.ended and not third.ended
    fourth = sessions.open()
    assert fourth is not None and sum(s.ended for s in (first, third)) == 1


def test_the_protocol_versions_a_request_may_name() -> None:
    """`MCP-Protocol-Version`: the versions mcpkg speaks, and 2025-03-26, the one MCP tells a
    server to assume when the header is absent (the conformance suite's SSE scenarios send it);
    another is 400. The real HTTP server on a free port, with never-called instances."""
    assert HEADER_VERSIONS == ("2025-11-25", "2025-06-18", "2025-03-26")
    httpd = McpHttpServer(Address("127.0.0.1", 0), Sessions(Idle, None, limit=2, idle=600))
    serving = threading.Thread(target=httpd.serve_forever, daemon=True)
    serving.start()
    try:
        with httpx.Client(timeout=30) as client:
            initialize = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25"},
            }
            opened = client.post(httpd.url, headers=JSON, json=initialize)
            assert opened.status_code == 200
            session = {"mcp-session-id": opened.headers["mcp-session-id"]}
            listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            for version, status in (("2025-03-26", 200), ("2025-06-18", 200), ("2025-11-25", 200), ("2024-11-05", 400)):
                headers = {**JSON, **session, "mcp-protocol-version": version}
                assert client.post(httpd.url, headers=headers, json=listed).status_code == status, version
    finally:
        httpd.shutdown()
        httpd.server_close()
        serving.join(timeout=10)
