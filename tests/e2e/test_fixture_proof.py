"""Proof that the MCP fixture components form a working MCP server.

The components in `registry-fixtures/build/mcp/` (componentize-py builds against the role
worlds of `wit/`) are composed with `wasm-tools compose` into transport -> logging
middleware -> tools handler -> resources handler -> initialize handler, plus the shared
writers, and run under wasmtime; the official MCP Python SDK talks to them as a client,
over stdio (`wasmtime run`) and streamable HTTP (`wasmtime serve`). The deliberately
broken components must be rejected by `wasm-tools component targets`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

import anyio
import httpx
import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from testing.compose_tool import ServerParts, compose_config
from testing.fixtures import MCP_FIXTURE_ROLES
from tests.e2e.servers import HttpServer, Server, Wasmtime

ROOT = Path(__file__).resolve().parents[2]
WIT = ROOT / "wit"

# Generous: the first test of a session may still be loading a 200 MB .cwasm from a cold disk.
TIMEOUT = 120

README_URI = "mcpkg://fixtures/readme"
README_TEXT = "mcpkg fixture resource"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
PARSE_ERROR = -32700

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body on asyncio, bounded by TIMEOUT."""

    async def bounded() -> T:
        with anyio.fail_after(TIMEOUT):
            return await main()

    return anyio.run(bounded)


class UnknownRequest(mcp_types.Request[mcp_types.RequestParams | None, str]):
    """A request for a method no MCP server implements."""

    method: str = "mcpkg/no-such-method"
    params: mcp_types.RequestParams | None = None


@asynccontextmanager
async def stdio_session(server: Server, wasmtime: Wasmtime, errlog: TextIO) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=str(wasmtime.binary), args=wasmtime.run_args(server.cwasm))
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        yield session


@asynccontextmanager
async def http_session(server: HttpServer) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(server.url) as (read, write), ClientSession(read, write) as session:
        yield session


async def check_initialize(session: ClientSession) -> None:
    result = await session.initialize()
    # The SDK offers 2025-11-25, which the fixtures do not know: they answer with their latest.
    assert result.protocol_version == "2025-06-18"
    assert result.server_info.name == "mcpkg-fixtures"
    assert result.server_info.version == "0.1.0"
    # Announced by the handlers the request passed through on its way to the terminal.
    assert result.capabilities.tools is not None
    assert result.capabilities.resources is not None
    assert result.capabilities.prompts is None
    assert result.capabilities.completions is None
    assert session.server_capabilities == result.capabilities


async def check_tools(session: ClientSession) -> None:
    listed = await session.list_tools()
    assert [tool.name for tool in listed.tools] == ["echo"]
    schema = listed.tools[0].input_schema
    assert schema["type"] == "object"
    assert schema["required"] == ["text"]
    assert schema["properties"]["text"]["type"] == "string"

    called = await session.call_tool("echo", {"text": "hello"})
    assert called.is_error is False
    assert len(called.content) == 1
    content = called.content[0]
    assert isinstance(content, mcp_types.TextContent)
    assert content.text == "hello"

    # Larger than blocking-write-and-flush's 4096-byte limit: the writers chunk it.
    long_text = "0123456789abcdef" * 1024
    called = await session.call_tool("echo", {"text": long_text})
    content = called.content[0]
    assert isinstance(content, mcp_types.TextContent)
    assert content.text == long_text

    with pytest.raises(MCPError) as unknown:
        await session.call_tool("no-such-tool", {})
    assert unknown.value.code == INVALID_PARAMS
    assert "no-such-tool" in unknown.value.message


async def check_resources(session: ClientSession) -> None:
    listed = await session.list_resources()
    assert [(str(r.uri), r.name, r.mime_type) for r in listed.resources] == [(README_URI, "readme", "text/plain")]

    read = await session.read_resource(README_URI)
    assert len(read.contents) == 1
    contents = read.contents[0]
    assert isinstance(contents, mcp_types.TextResourceContents)
    assert str(contents.uri) == README_URI
    assert contents.mime_type == "text/plain"
    assert contents.text == README_TEXT

    with pytest.raises(MCPError) as unknown:
        await session.read_resource("mcpkg://fixtures/no-such-resource")
    assert unknown.value.code == INVALID_PARAMS


async def check_unknown_method(session: ClientSession) -> None:
    await session.send_ping()  # answered by the terminal handler
    with pytest.raises(MCPError) as error:
        await session.send_request(UnknownRequest(), mcp_types.EmptyResult)
    assert error.value.code == METHOD_NOT_FOUND
    assert "mcpkg/no-such-method" in error.value.message


CHECKS: dict[str, Callable[[ClientSession], Awaitable[None]]] = {
    "tools": check_tools,
    "resources": check_resources,
    "unknown-method": check_unknown_method,
}


# --- stdio: `wasmtime run` as the server command of the SDK's stdio client ---


def test_stdio_initialize(stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_session(stdio_server, wasmtime_cli, errlog) as session:
                await check_initialize(session)

    run(main)


@pytest.mark.parametrize("check", list(CHECKS))
def test_stdio(stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path, check: str) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_session(stdio_server, wasmtime_cli, errlog) as session:
                await session.initialize()
                await CHECKS[check](session)

    run(main)


def test_stdio_logging_middleware_sees_every_message(
    stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    log = tmp_path / "stderr.log"

    async def main() -> None:
        with log.open("w") as errlog:
            async with stdio_session(stdio_server, wasmtime_cli, errlog) as session:
                await session.initialize()
                await session.list_tools()

    run(main)
    logged = re.findall(r"^mcpkg-fixture: (\S+) id=(\S+)$", log.read_text(), flags=re.MULTILINE)
    assert [method for method, _ in logged] == ["initialize", "notifications/initialized", "tools/list"]
    ids = [id for _, id in logged]
    assert ids[1] == "-"  # a notification has no id
    assert ids[0].isdigit() and ids[2].isdigit() and ids[0] != ids[2]


def test_stdio_raw_json_rpc(stdio_server: Server, wasmtime_cli: Wasmtime) -> None:
    """Newline-delimited JSON-RPC straight to the process: ids are echoed verbatim,
    notifications get nothing, a line that is not JSON gets a parse error with id null."""
    lines = [
        '{"jsonrpc":"2.0","id":"req-1","method":"ping"}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        "this is not json",
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"h\\u00e9\\n"}}}',
        '{"jsonrpc":"2.0","id":8,"method":"prompts/list"}',
    ]
    result = subprocess.run(
        [str(wasmtime_cli.binary), *wasmtime_cli.run_args(stdio_server.cwasm)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert responses[0] == {"jsonrpc": "2.0", "id": "req-1", "result": {}}
    assert responses[1]["id"] is None
    assert responses[1]["error"]["code"] == PARSE_ERROR
    assert responses[2] == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"content": [{"type": "text", "text": "hé\n"}], "isError": False},
    }
    assert responses[3]["id"] == 8
    assert responses[3]["error"]["code"] == METHOD_NOT_FOUND
    assert len(responses) == 4


# --- HTTP: `wasmtime serve` and the SDK's streamable HTTP client ---


def test_http_initialize(http_server: HttpServer) -> None:
    async def main() -> None:
        async with http_session(http_server) as session:
            await check_initialize(session)

    run(main)


@pytest.mark.parametrize("check", list(CHECKS))
def test_http(http_server: HttpServer, check: str) -> None:
    async def main() -> None:
        async with http_session(http_server) as session:
            await session.initialize()
            await CHECKS[check](session)

    run(main)


def test_http_transport_status_codes(http_server: HttpServer) -> None:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    with httpx.Client(timeout=TIMEOUT) as client:
        request = client.post(http_server.url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert request.status_code == 200
        assert request.headers["content-type"] == "application/json"
        assert request.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}

        notification = client.post(
            http_server.url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        assert notification.status_code == 202
        assert notification.content == b""

        response = client.post(http_server.url, headers=headers, json={"jsonrpc": "2.0", "id": 3, "result": {}})
        assert response.status_code == 202

        garbage = client.post(http_server.url, headers=headers, content=b"{not json")
        assert garbage.status_code == 400
        assert garbage.json()["error"]["code"] == PARSE_ERROR

        assert client.get(http_server.url).status_code == 405
        assert client.delete(http_server.url).status_code == 405
    log = http_server.stderr.read_text()
    assert "mcpkg-fixture: ping id=1" in log
    assert "mcpkg-fixture: notifications/initialized id=-" in log


# --- the contract: `wasm-tools component targets` ---

RUNNABLE = MCP_FIXTURE_ROLES

# fixture -> (the world it pretends to target, what targets must complain about)
BROKEN = {
    "broken-signature": ("middleware", "type mismatch in instance export `handle`"),
    "broken-missing-export": ("tools-handler", "missing export named `mcpkg:mcp/incoming-handler@0.1.0`"),
    "broken-version": ("initialize-handler", "mcpkg:mcp/types@0.2.0"),
}


def targets(wasm_tools: str, component: Path, world: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [wasm_tools, "component", "targets", *extra, str(WIT), str(component), "--world", world],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(("name", "world"), list(RUNNABLE.items()))
def test_runnable_fixture_targets_its_world(fixtures: Path, wasm_tools: str, name: str, world: str) -> None:
    result = targets(wasm_tools, fixtures / "mcp" / f"{name}.wasm", world)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_fixture_is_rejected(fixtures: Path, wasm_tools: str, name: str) -> None:
    component = fixtures / "broken" / f"{name}.wasm"
    # A valid component: what is wrong is the contract, not the binary.
    subprocess.run([wasm_tools, "validate", str(component)], check=True, capture_output=True, timeout=TIMEOUT)
    world, reason = BROKEN[name]
    for extra in ((), ("--semver-compatible",)):
        result = targets(wasm_tools, component, world, *extra)
        assert result.returncode != 0, f"{name} unexpectedly targets {world} {extra}"
        assert reason in result.stderr


def test_compose_tool_refuses_a_link_without_the_chain_export(fixtures: Path, wasm_tools: str) -> None:
    mcp = fixtures / "mcp"
    parts = ServerParts(
        transport=mcp / "stdio-transport.wasm",
        chain=[fixtures / "broken" / "broken-missing-export.wasm"],
        terminal=mcp / "initialize-handler.wasm",
        services=[mcp / "writers.wasm"],
    )
    with pytest.raises(ValueError, match="cannot be a link"):
        compose_config(parts, wasm_tools)


def test_compose_tool_wires_the_chain_in_order(fixtures: Path, wasm_tools: str) -> None:
    mcp = fixtures / "mcp"
    parts = ServerParts(
        transport=mcp / "stdio-transport.wasm",
        chain=[mcp / "logging-middleware.wasm", mcp / "tools-handler.wasm"],
        terminal=mcp / "initialize-handler.wasm",
        services=[mcp / "writers.wasm"],
    )
    config: dict[str, Any] = compose_config(parts, wasm_tools)
    chain = "mcpkg:mcp/incoming-handler@0.1.0"
    instantiations = config["instantiations"]
    assert instantiations["root"]["arguments"][chain]["instance"] == "link1"
    assert instantiations["link1"]["arguments"][chain]["instance"] == "link2"
    assert instantiations["link2"]["arguments"][chain]["instance"] == "terminal"
    assert chain not in instantiations["terminal"]["arguments"]
    # One writers instance serves every importer of a writer interface.
    writer_args = [
        arg
        for entry in instantiations.values()
        for name, arg in entry["arguments"].items()
        if name.startswith("mcpkg:mcp/") and name.endswith("-writer@0.1.0")
    ]
    assert len(writer_args) >= 5
    assert {arg["instance"] for arg in writer_args} == {"service1"}
    # WASI is left to the host.
    assert not any(name.startswith("wasi:") for entry in instantiations.values() for name in entry["arguments"])
