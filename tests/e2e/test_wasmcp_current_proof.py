"""Proof, without mcpkg, that the fixtures of the current wasmcp generation make a working
MCP server with TWO tools capabilities, each behind its own `tools-middleware` instance.

`wasm-tools compose` instantiates `tools-middleware.wasm` twice (two instantiations naming
one dependency), the first wired to wasmcp's `strings-py` example, the second to mcpkg's
`counter-tools`; `wasmtime run` serves it over stdio and the MCP Python SDK is the client.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from testing.compose_wired import compose_wired, wired_config
from testing.wasmcp_current import CHAIN, COUNTER_TOOLS, STRINGS_TOOLS, TOOLS, two_tools_server
from tests.e2e.servers import Server, Wasmtime, compile_server

TIMEOUT = 120
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        with anyio.fail_after(TIMEOUT):
            return await main()

    return anyio.run(bounded)


@pytest.fixture(scope="session")
def wasmcp_server(
    fixtures: Path,
    wasmtime_cli: Wasmtime,
    wasm_tools: str,
    compiled_servers: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    root, instances = two_tools_server(fixtures)
    wasm = compose_wired(root, instances, tmp_path_factory.mktemp("wasmcp") / "wasmcp-two-tools.wasm", wasm_tools)
    return compile_server(wasmtime_cli, wasm, compiled_servers)


@asynccontextmanager
async def session(server: Server, wasmtime: Wasmtime, errlog: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=str(wasmtime.binary), args=wasmtime.run_args(server.cwasm))
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as client:
            yield client


def text(result: mcp_types.CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, mcp_types.TextContent)
    return content.text


def test_two_instances_of_tools_middleware_each_wired_to_its_provider(fixtures: Path, wasm_tools: str) -> None:
    root, instances = two_tools_server(fixtures)
    config: dict[str, Any] = wired_config(root, instances, wasm_tools)
    steps = config["instantiations"]
    middleware = [name for name, step in steps.items() if step.get("dependency") == "tools-middleware"]
    assert middleware == ["strings-middleware", "counter-middleware"]
    assert list(config["dependencies"]).count("tools-middleware") == 1  # one component, two instances
    assert steps["root"]["arguments"][CHAIN]["instance"] == "strings-middleware"
    assert steps["strings-middleware"]["arguments"][TOOLS]["instance"] == "strings"
    assert steps["strings-middleware"]["arguments"][CHAIN]["instance"] == "counter-middleware"
    assert steps["counter-middleware"]["arguments"][TOOLS]["instance"] == "counter"
    assert steps["counter-middleware"]["arguments"][CHAIN]["instance"] == "method-not-found"
    # the services: one shared instance each
    assert steps["root"]["arguments"]["wasmcp:mcp-v20251125/session-manager@0.1.1"]["instance"] == "session-store"
    assert steps["counter"]["arguments"]["wasmcp:mcp-v20251125/sessions@0.1.1"]["instance"] == "session-store"
    assert steps["session-store"]["arguments"]["wasmcp:keyvalue/store@0.1.0"]["instance"] == "kv-store"
    assert steps["root"]["arguments"]["wasmcp:auth/helpers@0.1.1"]["instance"] == "authorization"
    # two providers of `tools` and no wire: the helper refuses to guess
    unwired = dict(instances)
    unwired["strings-middleware"] = type(unwired["strings-middleware"])(
        unwired["strings-middleware"].component, {CHAIN: "counter-middleware"}
    )
    with pytest.raises(ValueError, match=r"tools@0\.1\.1 is exported by strings, counter: wire it"):
        wired_config(root, unwired, wasm_tools)


def test_sdk_lists_and_calls_the_tools_of_both_capabilities(
    wasmcp_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    async def main() -> None:
        async with session(wasmcp_server, wasmtime_cli, tmp_path / "stderr.log") as client:
            initialized = await client.initialize()
            assert initialized.server_info.name == "mcpkg-fixtures-wasmcp"
            assert initialized.capabilities.tools is not None  # found by probing the chain
            assert initialized.capabilities.resources is None
            assert initialized.capabilities.prompts is None

            listed = await client.list_tools()
            assert [tool.name for tool in listed.tools] == STRINGS_TOOLS + COUNTER_TOOLS
            (slice_tool,) = (tool for tool in listed.tools if tool.name == "slice")
            assert slice_tool.title == "Slice"
            assert slice_tool.input_schema["required"] == ["text", "start"]

            assert text(await client.call_tool("reverse", {"text": "wasmcp"})) == "pcmsaw"  # strings-py
            assert text(await client.call_tool("slice", {"text": "abcdef", "start": 2})) == "cdef"
            assert text(await client.call_tool("add", {"a": 40, "b": 2})) == "42"  # counter-tools
            # the counter lives in the session: session-store over the in-memory kv-store
            assert text(await client.call_tool("count", {})) == "1"
            assert text(await client.call_tool("count", {})) == "2"

            with pytest.raises(MCPError) as unknown:
                await client.call_tool("no-such-tool", {"x": 1})
            assert unknown.value.code == INVALID_PARAMS
            assert "Unknown tool: no-such-tool" in unknown.value.message

            with pytest.raises(MCPError) as prompts:
                await client.list_prompts()
            assert prompts.value.code == METHOD_NOT_FOUND
            assert prompts.value.message == "Method not found: prompts/list"

    run(main)


def test_raw_json_rpc(wasmcp_server: Server, wasmtime_cli: Wasmtime) -> None:
    """Newline-delimited JSON-RPC straight to the process: strings-py's log notification
    goes out through server-io before its result; a line that is not JSON gets a parse
    error with id null; notifications get nothing."""
    lines = [
        '{"jsonrpc":"2.0","id":"a","method":"ping"}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        "not json",
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slice","arguments":{"text":"h\\u00e9llo","start":1}}}',
    ]
    result = subprocess.run(
        [str(wasmtime_cli.binary), *wasmtime_cli.run_args(wasmcp_server.cwasm)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert responses[0] == {"jsonrpc": "2.0", "id": "a", "result": {}}
    assert responses[1]["id"] is None and responses[1]["error"]["code"] == -32700
    assert responses[2] == {
        "jsonrpc": "2.0",
        "method": "notifications/message",
        "params": {"level": "info", "logger": "python-tools", "data": "slicing text='héllo' from 1 to None"},
    }
    assert responses[3] == {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "éllo"}]}}
    assert len(responses) == 4
