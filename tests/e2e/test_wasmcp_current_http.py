"""The current wasmcp generation over streamable HTTP, from a registry: mcpkg's own
framework published as `wasmcp-http/<name>:0.1.0` and signed, its HTTP transport under the
package name `wasmcp:transport` (what the contract's defaults name for `--transport http`,
as wasmcp's one transport serves both); `mcpkg compose strings.wasm counter.wasm
--transport http` gives an HTTP server (lock under a requiring trust policy, compose),
`mcpkg run` prints how to serve it, and under `wasmtime serve` the MCP SDK's streamable
HTTP client lists the tools of both capabilities and calls one of each. The transport's
HTTP behaviour (statuses, headers, framing, sessions) is checked on the wire."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import mcp_types
import pytest
from mcp_types.version import LATEST_HANDSHAKE_VERSION

from testing.registry import Registry
from testing.wasmcp_current import CONTRACT, COUNTER_TOOLS, STDIO_FRAMEWORK, STRINGS_TOOLS
from tests.conftest import Mcpkg
from tests.e2e.servers import HttpServer, Server, Wasmtime, compile_server, free_port, serving, stop, wait_for_port
from tests.e2e.test_fixture_proof import http_session, run
from tests.e2e.wasmcp_framework import publish_framework

NAMESPACE = "wasmcp-http"  # apart from the stdio framework other tests publish under wasmcp/
FRAMEWORK = {**STDIO_FRAMEWORK, "transport": "http-transport"}  # package name -> fixture
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


@dataclass(frozen=True)
class Composed:
    server: Path
    made: dict[str, Any]  # `compose --json`
    serve_command: str  # what `mcpkg run` printed
    user: Mcpkg
    work: Path


@pytest.fixture(scope="module")
def composed(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Composed:
    home = tmp_path_factory.mktemp("wasmcp-current-http")
    user = publish_framework(registry, fixtures, home, FRAMEWORK, NAMESPACE)
    built = fixtures / "wasmcp-v20251125"
    work = home / "work"
    work.mkdir()
    shutil.copy(built / "strings-py.wasm", work / "strings.wasm")
    shutil.copy(built / "counter-tools.wasm", work / "counter.wasm")
    server = work / "server.wasm"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        made = user.ok(
            "compose", "strings.wasm", "counter.wasm", "--transport", "http", "-o", str(server), "--json"
        ).json()
    printed = user.ok("run", str(server)).stdout.strip()
    return Composed(server, made, printed, user, work)


@pytest.fixture(scope="module")
def compiled(composed: Composed, wasmtime_cli: Wasmtime, compiled_servers: Path) -> Server:
    return compile_server(wasmtime_cli, composed.server, compiled_servers)


@pytest.fixture(scope="module")
def served(compiled: Server, wasmtime_cli: Wasmtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    with serving(wasmtime_cli, compiled, tmp_path_factory.mktemp("wasmcp-current-http-serve")) as running:
        yield running


def test_one_command_gives_an_http_server(composed: Composed, wasmtime_cli: Wasmtime) -> None:
    made = composed.made
    assert made["contract"] == CONTRACT
    plan = {p["name"]: p for p in made["plan"]}
    (transport,) = (p for p in plan.values() if p["position"] == "transport")
    assert transport["source"] == "wasmcp:transport" and transport["framework"] is True
    assert transport["role"] == f"http-transport ({CONTRACT}, transport)"
    assert [name for name, p in plan.items() if p["position"] == "chain"] == ["strings-tools", "counter-tools"]
    exports: list[str] = made["exports"]
    assert "wasi:http/incoming-handler@0.2.8" in exports
    assert not [name for name in exports if name.startswith("wasi:cli/run")]
    # `mcpkg run` does not run an HTTP server: it prints the `wasmtime serve` command, whose
    # options are those the fixture `serving` starts this server with
    printed = shlex.split(composed.serve_command)
    assert printed[:2] == ["wasmtime", "serve"] and printed[-1] == str(composed.server)
    used = wasmtime_cli.serve_args(Path("server.cwasm"), 8080)
    assert set(printed[2:-1]) <= set(used), (printed, used)


def test_the_printed_serve_command_serves_the_server_as_printed(
    composed: Composed, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    """The command `mcpkg run server.wasm --http ADDR` prints, run verbatim (the wasmtime
    CLI compiles the server itself), answers `initialize` at ADDR."""
    port = free_port()
    printed = shlex.split(composed.user.ok("run", str(composed.server), "--http", f"127.0.0.1:{port}").stdout)
    assert printed[:2] == ["wasmtime", "serve"] and f"127.0.0.1:{port}" in printed
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(wasmtime_cli.binary), *printed[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        wait_for_port(process, port, log)
        with httpx.Client(timeout=120) as client:
            answered = post(client, f"http://127.0.0.1:{port}/mcp", INITIALIZE)
        assert answered.status_code == 200, answered.text
        assert answered.json()["result"]["protocolVersion"] == "2025-06-18"
    finally:
        stop(process)


def test_stdio_asked_of_an_http_only_transport_is_refused(composed: Composed) -> None:
    """The mirror of http asked of a stdio-only transport: never an HTTP server for stdio."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(composed.work)
        refused = composed.user("compose", "strings.wasm", "-t", "stdio", "-o", "stdio.wasm")
    assert refused.exit_code == 1
    assert "serves http only (wasi:http/incoming-handler@0.2.8)" in refused.stderr
    assert "--transport http" in refused.stderr and not (composed.work / "stdio.wasm").exists()


def test_sdk_lists_and_calls_the_tools_of_both_capabilities(served: HttpServer) -> None:
    async def main() -> None:
        async with http_session(served) as session:
            initialized = await session.initialize()
            # answered by the transport: the version asked for, tools found by probing the chain
            assert initialized.protocol_version == LATEST_HANDSHAKE_VERSION
            assert initialized.server_info.name == "mcpkg-fixtures-wasmcp"
            assert initialized.capabilities.tools is not None
            assert initialized.capabilities.resources is None and initialized.capabilities.prompts is None
            listed = await session.list_tools()
            assert sorted(t.name for t in listed.tools) == sorted([*STRINGS_TOOLS, *COUNTER_TOOLS])
            reversed_ = await session.call_tool("reverse", {"text": "mcpkg"})
            assert isinstance(reversed_.content[0], mcp_types.TextContent)
            assert reversed_.content[0].text == "gkpcm"
            added = await session.call_tool("add", {"a": 40, "b": 2})
            assert isinstance(added.content[0], mcp_types.TextContent) and added.content[0].text == "42"
            # sessions are off (wasmcp's default): the chain sees no session
            counted = await session.call_tool("count", {})
            assert counted.is_error is True
            assert isinstance(counted.content[0], mcp_types.TextContent)
            assert counted.content[0].text == "count needs a session"

    run(main)


def post(client: httpx.Client, url: str, body: object, **headers: str) -> httpx.Response:
    return client.post(url, content=json.dumps(body), headers={**ACCEPT, **headers})


def refusal(response: httpx.Response, status: int) -> str:
    """The message of the transport's JSON-RPC error document for an HTTP-level refusal."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["id"] is None and document["error"]["code"] == -32700
    message: str = document["error"]["message"]
    return message


def test_the_transport_on_the_wire(served: HttpServer) -> None:
    url = served.url
    with httpx.Client(timeout=120) as client:
        initialized = post(client, url, INITIALIZE)
        assert initialized.status_code == 200
        assert initialized.headers["content-type"] == "application/json"  # initialize: plain JSON
        assert "mcp-session-id" not in initialized.headers
        result = initialized.json()["result"]
        assert result["protocolVersion"] == "2025-06-18"
        assert result["capabilities"] == {"logging": {}, "tools": {"listChanged": True}}

        listed = post(client, url, TOOLS_LIST, **{"mcp-protocol-version": "2025-06-18"})
        assert listed.status_code == 200
        assert listed.headers["content-type"] == "text/event-stream"  # other requests: one event
        assert listed.text.startswith("data: {") and listed.text.endswith("}\n\n")
        event = json.loads(listed.text.removeprefix("data: "))
        assert event["id"] == 2 and len(event["result"]["tools"]) == 4

        call = {"name": "nope", "arguments": {"x": 1}}
        unknown = post(client, url, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call})
        error = json.loads(unknown.text.removeprefix("data: "))["error"]
        assert error == {"code": -32602, "message": "Unknown tool: nope"}  # the chain's error, as it is
        pinged = post(client, url, {"jsonrpc": "2.0", "id": "p", "method": "ping"})
        assert json.loads(pinged.text.removeprefix("data: ")) == {"jsonrpc": "2.0", "id": "p", "result": {}}

        # a notification, or a client's error response: down the chain, 202 and no body
        notified = post(client, url, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert (notified.status_code, notified.content) == (202, b"")
        answered = post(client, url, {"jsonrpc": "2.0", "id": 9, "error": {"code": -1, "message": "no"}})
        assert (answered.status_code, answered.content) == (202, b"")

        # no server-sent event stream, no sessions to delete
        for method in ("GET", "DELETE"):
            other = client.request(method, url, headers=ACCEPT)
            assert (other.status_code, other.headers["allow"]) == (405, "POST")

        version = post(client, url, TOOLS_LIST, **{"mcp-protocol-version": "1999-01-01"})
        assert refusal(version, 400).startswith("Unsupported MCP-Protocol-Version: 1999-01-01")
        accept = client.post(url, content=json.dumps(TOOLS_LIST), headers={"accept": "application/json"})
        assert refusal(accept, 400) == "Accept header must include both application/json and text/event-stream"
        origin = post(client, url, TOOLS_LIST, origin="http://evil.example")
        assert "only localhost origins are permitted" in refusal(origin, 400)
        assert post(client, url, TOOLS_LIST, origin="http://localhost:6274").status_code == 200
        assert refusal(post(client, url, {"jsonrpc": "1.0"}), 400).startswith("Failed to parse message")


def test_sessions_on_need_a_store_that_outlives_the_request(
    compiled: Server, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    """`WASMCP_SESSION_ENABLED=true`: `initialize` opens a session and names it in
    `Mcp-Session-Id`, and later requests must carry it; but `wasmtime serve` makes a fresh
    instance for each request, so mcpkg's in-memory key-value store has forgotten it."""
    env = {"WASMCP_SESSION_ENABLED": "true"}
    with serving(wasmtime_cli, compiled, tmp_path, env) as running, httpx.Client(timeout=120) as client:
        initialized = post(client, running.url, INITIALIZE)
        assert initialized.status_code == 200
        session = initialized.headers["mcp-session-id"]
        assert len(session) == 36 and session.count("-") == 4  # a UUID
        assert refusal(post(client, running.url, TOOLS_LIST), 400) == (
            "Session error: ID required for non-initialize requests"
        )
        forgotten = post(client, running.url, TOOLS_LIST, **{"mcp-session-id": session})
        assert refusal(forgotten, 404) == "Session error: not found"
        deleted = client.delete(running.url, headers={"mcp-session-id": session})
        assert refusal(deleted, 404) == "Session error: not found"
        other = client.get(running.url)
        assert (other.status_code, other.headers["allow"]) == (405, "POST, DELETE")
