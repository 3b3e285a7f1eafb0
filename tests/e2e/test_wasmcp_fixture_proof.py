"""Proof, without mcpkg, that this project's own wasmcp v0.3 framework components form a
working MCP server with wasmcp's own hello-world tools handler.

`registry-fixtures/build/wasmcp-v0.3/` (componentize-py builds against the vendored
contract `contracts/wasmcp-mcp-0.3.0`) is composed with `wasm-tools compose` into
transport -> hello-world (tools) -> resources handler -> initialize handler, plus the
`request` service and the writers, and run under wasmtime; the MCP Python SDK talks to it
over stdio (`wasmtime run`) and streamable HTTP (`wasmtime serve`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import mcp_types
import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

from testing.fixtures import WASMCP_FRAMEWORK
from tests.conftest import Mcpkg
from tests.e2e.servers import HttpServer, Server, Wasmtime
from tests.e2e.test_fixture_proof import TIMEOUT, http_session, run, stdio_session

README_URI = "wasmcp-fixtures://readme"
README_TEXT = "a resource served by a wasmcp v0.3 resources handler"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
PARSE_ERROR = -32700


async def check_initialize(session: ClientSession) -> None:
    result = await session.initialize()
    # The SDK offers a version the v0.3 enum does not know: the server answers its latest.
    assert result.protocol_version == "2025-06-18"
    assert result.server_info.name == "mcpkg-wasmcp-fixtures"
    # Registered through `request.needs` by the two handlers on the way to the terminal.
    assert result.capabilities.tools is not None
    assert result.capabilities.resources is not None
    assert result.capabilities.prompts is None


async def check_hello_world(session: ClientSession) -> None:
    listed = await session.list_tools()
    assert [(tool.name, tool.title, tool.description) for tool in listed.tools] == [
        ("echo", "Echo", "Echo a message back")
    ]
    assert listed.tools[0].input_schema["required"] == ["message"]

    called = await session.call_tool("echo", {"message": "hello"})
    assert called.is_error is False
    assert [(c.type, getattr(c, "text", None)) for c in called.content] == [("text", "Echo: hello")]

    # Over blocking-write-and-flush's 4096 bytes: the writers write it in pieces.
    long_text = "0123456789abcdef" * 1024
    called = await session.call_tool("echo", {"message": long_text})
    content = called.content[0]
    assert isinstance(content, mcp_types.TextContent)
    assert content.text == f"Echo: {long_text}"

    unknown = await session.call_tool("no-such-tool", {})  # hello-world answers a tool error
    assert unknown.is_error is True


async def check_resources(session: ClientSession) -> None:
    listed = await session.list_resources()
    assert [(str(r.uri), r.name, r.mime_type) for r in listed.resources] == [(README_URI, "readme", "text/plain")]
    read = await session.read_resource(README_URI)
    contents = read.contents[0]
    assert isinstance(contents, mcp_types.TextResourceContents)
    assert (str(contents.uri), contents.mime_type, contents.text) == (README_URI, "text/plain", README_TEXT)
    with pytest.raises(MCPError) as unknown:
        await session.read_resource("wasmcp-fixtures://no-such-resource")
    assert unknown.value.code == INVALID_PARAMS
    with pytest.raises(MCPError) as prompts:
        await session.list_prompts()  # no prompts handler: the terminal's method-not-found
    assert prompts.value.code == METHOD_NOT_FOUND


async def conversation(session: ClientSession) -> None:
    await check_initialize(session)
    await check_hello_world(session)
    await check_resources(session)
    await session.send_ping()


def test_stdio_conversation(wasmcp_stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_session(wasmcp_stdio_server, wasmtime_cli, errlog) as session:
                await conversation(session)

    run(main)


def test_stdio_raw_json_rpc(wasmcp_stdio_server: Server, wasmtime_cli: Wasmtime) -> None:
    """Newline-delimited JSON-RPC: several messages in one read (the `request` service keeps
    what it read past a newline), CRLF, a notification answered by nothing, a line that is
    not JSON answered with a parse error, and the server carries on."""
    lines = [
        '{"jsonrpc":"2.0","id":"req-1","method":"ping"}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        "this is not json",
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"h\\u00e9"}}}\r',
    ]
    result = subprocess.run(
        [str(wasmtime_cli.binary), *wasmtime_cli.run_args(wasmcp_stdio_server.cwasm)],
        input="\n".join(lines),  # the last line without a newline: end of input ends it
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert responses[0] == {"jsonrpc": "2.0", "id": "req-1", "result": {}}
    assert responses[1]["error"]["code"] == PARSE_ERROR
    assert responses[2] == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"content": [{"type": "text", "text": "Echo: hé"}], "isError": False},
    }
    assert len(responses) == 3


def test_http_conversation(wasmcp_http_server: HttpServer) -> None:
    async def main() -> None:
        async with http_session(wasmcp_http_server) as session:
            await conversation(session)

    run(main)


def test_http_transport_status_codes(wasmcp_http_server: HttpServer) -> None:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    post: Any
    with httpx.Client(timeout=TIMEOUT) as client:
        post = client.post(wasmcp_http_server.url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert (post.status_code, post.headers["content-type"]) == (200, "application/json")
        assert post.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
        notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        post = client.post(wasmcp_http_server.url, headers=headers, json=notification)
        assert (post.status_code, post.content) == (202, b"")
        post = client.post(wasmcp_http_server.url, headers=headers, json={"jsonrpc": "2.0", "id": 3, "result": {}})
        assert post.status_code == 202
        post = client.post(wasmcp_http_server.url, headers=headers, content=b"{not json")
        assert post.status_code == 400
        assert post.json()["error"]["code"] == PARSE_ERROR
        assert client.get(wasmcp_http_server.url).status_code == 405


@pytest.mark.parametrize(("name", "role"), list(WASMCP_FRAMEWORK.items()))
def test_framework_component_has_its_contract_role(fixtures: Path, mcpkg: Mcpkg, name: str, role: str) -> None:
    """Each component fits its role of wasmcp:mcp@0.3.0 first (`wasm-tools component
    targets` cannot say so: componentize-py's runtime imports WASI the role worlds do not
    include, which the host provides)."""
    inspected = json.loads(mcpkg.ok("inspect", "--json", str(fixtures / "wasmcp-v0.3" / f"{name}.wasm")).stdout)
    first = inspected["roles"][0]
    assert (first["role"], first["contract"]) == (role, "wasmcp:mcp@0.3.0")
