"""wasi:mcp backends from a registry to answers: push and sign the two fixture backends,
pull and verify them, lock a project whose server is one backend (`[server] backend`)
under a requiring trust policy, compose it (the output is the backend itself), and talk
MCP to `mcpkg run backend.wasm` with the official SDK; then bad input on the raw stdio
stream. Each backend is compiled once per session (one mcpkg cache), with the compiler
`MCPKG_E2E_WASMTIME_COMPILER` names (CI: winch, the quicker compile)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types.version import LATEST_HANDSHAKE_VERSION

from testing.registry import Registry
from tests.conftest import Mcpkg
from tests.e2e.test_fixture_proof import INVALID_PARAMS, METHOD_NOT_FOUND, PARSE_ERROR, run

BACKENDS = ("tools-backend", "content-backend")
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002
COMPILER = os.environ.get("MCPKG_E2E_WASMTIME_COMPILER", "cranelift")


@dataclass
class Served:
    runner: Mcpkg
    servers: dict[str, Path]  # backend -> the composed server.wasm


def _project(root: Path, host: str, name: str, key: Path) -> Path:
    root.mkdir(parents=True)
    (root / "mcpkg.toml").write_text(
        f'[server]\nname = "{name}"\nbackend = "{name}"\n\n'
        f'[components.{name}]\nref = "{host}/wasi-mcp/{name}"\nversion = "^1.0"\n\n'
        f'[trust."{host}/wasi-mcp/*"]\nkeys = ["{key}"]\nrequire = true\n'
    )
    return root


@pytest.fixture(scope="session")
def served(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Served:
    home = tmp_path_factory.mktemp("wasi-mcp-e2e")
    runner = Mcpkg(home / "home")
    password = {"COSIGN_PASSWORD": "e2e"}
    runner.ok("keygen", "--output-prefix", str(home / "keys" / "pub"), env=password)
    key = home / "keys" / "pub.pub"
    servers = {}
    for name in BACKENDS:
        ref = f"{registry.host}/wasi-mcp/{name}:1.0.0"
        pushed = runner.ok("push", str(fixtures / "wasi-mcp" / f"{name}.wasm"), ref, "--json").json()
        runner.ok("sign", ref, "--key", str(home / "keys" / "pub.key"), env=password)
        runner.ok("verify", ref, "--key", str(key))
        pulled = home / f"{name}.pulled.wasm"
        runner.ok("pull", ref, "-o", str(pulled))
        assert pulled.read_bytes() == (fixtures / "wasi-mcp" / f"{name}.wasm").read_bytes()
        inspected = runner.ok("inspect", ref, "--json").json()
        assert inspected["config"]["component"]["target"] == "wasi:mcp/mcp-backend-preview2@0.1.0-preview2"
        assert inspected["roles"][0]["role"] == "wasi:mcp backend"
        project = _project(home / name, registry.host, name, key)
        locked = runner.ok("lock", "-C", str(project))
        assert "wasi:mcp backend" in locked.stdout + locked.stderr
        lock_text = (project / "mcpkg.lock").read_text()
        assert f'backend = "{name}"' in lock_text and 'position = "backend"' in lock_text
        assert "transport" not in lock_text
        server = home / f"{name}.server.wasm"
        composed = runner.ok("compose", "-C", str(project), "-o", str(server), "--locked", "--json").json()
        assert composed["digest"] == pushed["layer-digest"]  # the backend itself
        servers[name] = server
    return Served(runner, servers)


def _env(runner: Mcpkg) -> dict[str, str]:
    return {**os.environ, **{k: v for k, v in runner.env.items() if v is not None}}


@asynccontextmanager
async def backend_session(
    served: Served, name: str, errlog: object, logs: list[Any] | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcpkg", "run", "--compiler", COMPILER, str(served.servers[name])],
        env=_env(served.runner),
    )

    async def logged(params: mcp_types.LoggingMessageNotificationParams) -> None:
        if logs is not None:
            logs.append(params)

    async with (
        stdio_client(params, errlog=errlog) as (read, write),  # type: ignore[arg-type]
        ClientSession(read, write, logging_callback=logged) as session,
    ):
        yield session


def test_tools_backend(served: Served, tmp_path: Path) -> None:
    logs: list[Any] = []

    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with backend_session(served, "tools-backend", errlog, logs) as session:
                result = await session.initialize()
                assert result.protocol_version == LATEST_HANDSHAKE_VERSION  # negotiated: the SDK's
                assert (result.server_info.name, result.server_info.version) == ("tools-backend", "1.0.0")
                assert result.instructions == "Arithmetic and echo tools."
                assert result.capabilities.tools is not None and result.capabilities.logging is not None
                assert result.capabilities.resources is None and result.capabilities.prompts is None

                listed = await session.list_tools()
                assert [t.name for t in listed.tools] == ["add", "echo", "divide", "crash"]
                add = listed.tools[0]
                assert add.title == "Add" and add.input_schema["required"] == ["a", "b"]
                assert add.annotations is not None and add.annotations.read_only_hint is True

                called = await session.call_tool("add", {"a": 2, "b": 40})
                assert [c.text for c in called.content if isinstance(c, mcp_types.TextContent)] == ["42"]
                echoed = await session.call_tool("echo", {"text": "héllo"})
                assert echoed.is_error is False
                assert isinstance(echoed.content[0], mcp_types.TextContent) and echoed.content[0].text == "héllo"

                # the handler's error record -> a JSON-RPC error with its code
                with pytest.raises(MCPError) as divide:
                    await session.call_tool("divide", {"a": 1, "b": 0})
                assert divide.value.code == INVALID_PARAMS and divide.value.message == "division by zero"
                with pytest.raises(MCPError) as unknown:
                    await session.call_tool("no-such-tool", {})
                assert unknown.value.code == INVALID_PARAMS and "no-such-tool" in unknown.value.message

                # a trap ends that request; a fresh instance serves the next one
                with pytest.raises(MCPError) as trapped:
                    await session.call_tool("crash", {})
                assert trapped.value.code == INTERNAL_ERROR and "trapped" in trapped.value.message
                again = await session.call_tool("add", {"a": 1, "b": 1})
                assert isinstance(again.content[0], mcp_types.TextContent) and again.content[0].text == "2"
                await session.send_ping()

    run(main)
    messages = [str(entry.data) for entry in logs]
    assert "add called (1 calls so far)" in messages  # runtime.log -> notifications/message
    assert any("mcpkg restarted it" in m for m in messages)
    assert messages[-1] == "add called (1 calls so far)"  # the fresh instance counts from 0 again
    assert "the crash tool always fails" in (tmp_path / "stderr.log").read_text()  # its stderr stays visible


def test_content_backend(served: Served, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with backend_session(served, "content-backend", errlog) as session:
                result = await session.initialize()
                caps = result.capabilities
                assert caps.resources is not None and caps.prompts is not None and caps.completions is not None
                assert caps.tools is None

                resources = await session.list_resources()
                assert [(str(r.uri), r.name, r.mime_type) for r in resources.resources] == [
                    ("fixture://readme", "readme", "text/markdown"),
                    ("fixture://config.json", "config", "application/json"),
                ]
                templates = await session.list_resource_templates()
                assert [t.uri_template for t in templates.resource_templates] == ["fixture://notes/{day}"]

                readme = await session.read_resource("fixture://readme")
                text = readme.contents[0]
                assert isinstance(text, mcp_types.TextResourceContents)
                assert text.mime_type == "text/markdown" and text.text.startswith("# Fixture notes")
                config = await session.read_resource("fixture://config.json")
                embedded = config.contents[0]
                assert isinstance(embedded, mcp_types.TextResourceContents)
                assert json.loads(embedded.text) == {"days": ["monday", "tuesday"]}
                note = await session.read_resource("fixture://notes/monday")
                assert isinstance(note.contents[0], mcp_types.TextResourceContents)
                assert note.contents[0].text == "Water the plants."
                with pytest.raises(MCPError) as missing:
                    await session.read_resource("fixture://notes/sunday")
                assert missing.value.code == RESOURCE_NOT_FOUND

                prompts = await session.list_prompts()
                greet = prompts.prompts[0]
                assert greet.name == "greet" and [a.name for a in greet.arguments or []] == ["name", "style"]
                got = await session.get_prompt("greet", {"name": "Ada", "style": "pirate"})
                assert got.description == "Greet someone in a style"
                assert got.messages[0].role == "user"
                content = got.messages[0].content
                assert isinstance(content, mcp_types.TextContent) and content.text == "Greet Ada in a pirate style."
                with pytest.raises(MCPError) as no_name:
                    await session.get_prompt("greet", {})
                assert no_name.value.code == INVALID_PARAMS and "needs a name" in no_name.value.message

                completed = await session.complete(
                    mcp_types.PromptReference(name="greet"), {"name": "style", "value": "f"}
                )
                assert completed.completion.values == ["formal", "friendly"]

    run(main)


def _raw(served: Served, name: str, lines: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "mcpkg", "run", "--compiler", COMPILER, str(served.servers[name])],
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=_env(served.runner), timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_bad_input_gets_json_rpc_errors(served: Served) -> None:
    """Malformed JSON, a batch, a bad id, an unknown method and wrong parameter types each
    get a JSON-RPC error; the server answers the good request after them."""
    replies = _raw(
        served,
        "tools-backend",
        [
            "{not json",
            '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
            '{"jsonrpc":"2.0","id":{"no":1},"method":"ping"}',
            '{"jsonrpc":"1.0","id":2,"method":"ping"}',
            '{"jsonrpc":"2.0","id":3,"method":"no/such"}',
            '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":7}}',
            '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"add","arguments":[1,2]}}',
            '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":"add"}',
            '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":"x","b":2}}}',
            '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}',
        ],
    )
    codes = [(r.get("id"), r["error"]["code"] if "error" in r else "ok") for r in replies]
    assert codes == [
        (None, PARSE_ERROR),
        (None, INVALID_REQUEST),
        (None, INVALID_REQUEST),
        (2, INVALID_REQUEST),
        (3, METHOD_NOT_FOUND),
        (4, INVALID_PARAMS),
        (5, INVALID_PARAMS),
        (6, INVALID_PARAMS),
        (7, INTERNAL_ERROR),  # the backend raised on "x" + 2: a trap, then a fresh instance
        (8, "ok"),
    ]
    assert replies[-1]["result"]["content"] == [{"type": "text", "text": "ok"}]


def test_init_then_add_backend_lock_compose_and_run(served: Served, registry: Registry, tmp_path: Path) -> None:
    """`mcpkg init --contract wasi-mcp` writes a documented starter naming no backend;
    `lock` on it says what to do; `add NAME REF --backend` names the backend and locks it;
    `compose` and `run` serve it. A second backend, or a backend in a framework server, is
    refused without touching mcpkg.toml; `remove` of the backend gives the starter back."""
    runner, project = served.runner, tmp_path / "notes"
    written = runner.ok("init", "--contract", "wasi-mcp", "-C", str(project))
    assert "mcpkg.toml" in written.stdout
    starter = (project / "mcpkg.toml").read_text()
    assert "mcpkg add NAME FILE|REF --backend" in starter and '[server]\nname = "notes"' in starter
    assert "transport" not in starter.split("[server]", 1)[1]
    empty = runner("lock", "-C", str(project))
    assert empty.exit_code == 1 and "names neither a backend nor a transport yet" in empty.stderr
    assert "--backend" in empty.stderr and not (project / "mcpkg.lock").exists()

    ref = f"{registry.host}/wasi-mcp/tools-backend"
    added = runner.ok("add", "tools", ref, "--version", "^1.0", "--backend", "-C", str(project))
    assert added.stdout.splitlines() == ["added tools"]
    manifest = (project / "mcpkg.toml").read_text()
    assert 'backend = "tools"' in manifest and starter.splitlines()[0] in manifest  # comments kept
    lock = (project / "mcpkg.lock").read_text()
    assert 'backend = "tools"' in lock and 'position = "backend"' in lock
    second = runner("add", "other", ref, "--backend", "-C", str(project))
    assert second.exit_code == 1 and "already 'tools'" in second.stderr
    assert (project / "mcpkg.toml").read_text() == manifest

    server = project / "server.wasm"
    runner.ok("compose", "-C", str(project), "--locked", "-o", str(server))
    assert server.read_bytes() == served.servers["tools-backend"].read_bytes()  # the backend itself

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcpkg", "run", "--compiler", COMPILER, str(server)], env=_env(runner)
        )
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                called = await session.call_tool("add", {"a": 20, "b": 22})
                assert [c.text for c in called.content if isinstance(c, mcp_types.TextContent)] == ["42"]

    run(main)
    runner.ok("remove", "tools", "-C", str(project))
    assert 'backend = "tools"' not in (project / "mcpkg.toml").read_text() and not (project / "mcpkg.lock").exists()

    framework = tmp_path / "framework"
    runner.ok("init", "--contract", "wasmcp-v20251125", "-C", str(framework))
    before = (framework / "mcpkg.toml").read_text()
    mixed = runner("add", "tools", ref, "--backend", "-C", str(framework))
    assert mixed.exit_code == 1 and "whole server" in mixed.stderr
    assert (framework / "mcpkg.toml").read_text() == before
