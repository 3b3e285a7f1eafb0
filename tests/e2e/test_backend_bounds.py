"""A runaway backend is kept in bounds (docs/wasi-mcp.md, "Bounds"): the hostile fixture
backend (`registry-fixtures/src/wasi-mcp/hostile-backend/`) served by `mcpkg run --timeout 2
--max-memory 64M`, talked to with the official MCP SDK over stdio. An endless loop, an
unbounded allocation, an unbounded recursion and a 10 MiB result each end in a JSON-RPC
error, and the next call is answered; a 10 MB line on the raw stdio stream gets an error
and the server still answers; a backend blocked in a WASI sleep, which no epoch check can
stop, gets its request answered and mcpkg stops (status 1) rather than hang. The backend
is compiled once per module (one cache), with the compiler `MCPKG_E2E_WASMTIME_COMPILER`
names (CI: winch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from tests.conftest import Mcpkg
from tests.e2e.test_fixture_proof import run

INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
COMPILER = os.environ.get("MCPKG_E2E_WASMTIME_COMPILER", "cranelift")
BOUNDS = ("--timeout", "2", "--max-memory", "64M")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Mcpkg:
    return Mcpkg(tmp_path_factory.mktemp("bounds") / "home")


def _env(runner: Mcpkg) -> dict[str, str]:
    return {**os.environ, **{k: v for k, v in runner.env.items() if v is not None}}


def _command(fixtures: Path) -> list[str]:
    backend = fixtures / "wasi-mcp" / "hostile-backend.wasm"
    return ["-m", "mcpkg", "run", "--compiler", COMPILER, *BOUNDS, str(backend)]


def _text(result: mcp_types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, mcp_types.TextContent)
    return block.text


def test_each_runaway_call_ends_in_an_error_and_the_server_keeps_serving(
    home: Mcpkg, fixtures: Path, tmp_path: Path
) -> None:
    logs: list[Any] = []

    async def logged(params: mcp_types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def main() -> None:
        params = StdioServerParameters(command=sys.executable, args=_command(fixtures), env=_env(home))
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, logging_callback=logged) as session,
            ):
                await session.initialize()
                listed = await session.list_tools()
                assert [t.name for t in listed.tools] == ["ping", "spin", "hog", "deep", "huge", "nap"]
                assert _text(await session.call_tool("ping", {})) == "pong 1"

                # an endless loop: the timeout's epoch interruption ends it; a fresh instance answers
                start = time.monotonic()
                with pytest.raises(MCPError) as spun:
                    await session.call_tool("spin", {})
                assert spun.value.code == INTERNAL_ERROR and "2 s timeout (--timeout)" in spun.value.message
                assert 1.5 < time.monotonic() - start < 60
                assert _text(await session.call_tool("ping", {})) == "pong 1"  # the fresh instance counts anew

                # unbounded allocation: memory.grow fails at 64 MiB; CPython's MemoryError traps
                with pytest.raises(MCPError) as hogged:
                    await session.call_tool("hog", {})
                assert hogged.value.code == INTERNAL_ERROR and "trapped" in hogged.value.message
                assert _text(await session.call_tool("ping", {})) == "pong 1"

                # unbounded recursion through C: wasmtime's stack overflow trap
                with pytest.raises(MCPError) as deep:
                    await session.call_tool("deep", {})
                assert deep.value.code == INTERNAL_ERROR and "call stack exhausted" in deep.value.message
                assert _text(await session.call_tool("ping", {})) == "pong 1"

                # a 10 MiB result: over the 8 MiB message limit, replaced by an error; no trap,
                # so the same instance answers next
                with pytest.raises(MCPError) as huge:
                    await session.call_tool("huge", {"mib": 10})
                assert huge.value.code == INTERNAL_ERROR and "8 MiB limit (--max-message)" in huge.value.message
                assert _text(await session.call_tool("ping", {})) == "pong 3"
                await session.send_ping()

    run(main)
    warnings = [str(entry.data) for entry in logs if entry.level == "warning"]
    assert len(warnings) == 3 and "ran over the timeout; mcpkg restarted it" in warnings[0]
    assert all("in-memory state is lost" in w for w in warnings)
    assert "MemoryError" in (tmp_path / "stderr.log").read_text()  # the guest's own report stays visible


def test_an_oversized_line_gets_an_error_and_the_server_keeps_serving(home: Mcpkg, fixtures: Path) -> None:
    """A 10 MB line is skipped (never held whole) and answered with an invalid-request
    error; the requests after it are answered."""
    arguments = {"pad": "y" * 10_000_000}
    padded = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ping", "arguments": arguments}}
    lines = [
        json.dumps(padded),
        '{"jsonrpc":"2.0","id":2,"method":"ping"}',
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ping","arguments":{}}}',
    ]
    done = subprocess.run(
        [sys.executable, *_command(fixtures)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=_env(home), timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r.get("id"), r["error"]["code"] if "error" in r else "ok") for r in replies] == [
        (None, INVALID_REQUEST),
        (2, "ok"),
        (3, "ok"),
    ]
    assert "over the 8 MiB limit (--max-message): not read" in replies[0]["error"]["message"]
    assert replies[2]["result"]["content"] == [{"type": "text", "text": "pong 1"}]


def test_a_backend_blocked_in_a_sleep_stops_the_server_instead_of_hanging(home: Mcpkg, fixtures: Path) -> None:
    """`nap` sleeps an hour inside a WASI call, where the epoch is never checked: 5 s of
    grace after the 2 s timeout, its request is answered with an error, a critical log
    says why, and mcpkg exits with status 1 (the request after it is never read)."""
    lines = [
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nap","arguments":{}}}',
        '{"jsonrpc":"2.0","id":2,"method":"ping"}',
    ]
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, *_command(fixtures)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=_env(home), timeout=600,
    )  # fmt: skip
    assert done.returncode == 1 and "blocked in a WASI call" in done.stderr
    assert 6 < time.monotonic() - start < 120
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert replies[0]["id"] == 1 and replies[0]["error"]["code"] == INTERNAL_ERROR
    assert "within 2 s (--timeout) and 5 s of grace" in replies[0]["error"]["message"]
    assert replies[1]["method"] == "notifications/message" and replies[1]["params"]["level"] == "critical"
    assert len(replies) == 2


def test_a_memory_limit_too_small_to_start_is_said(home: Mcpkg, fixtures: Path) -> None:
    backend = fixtures / "wasi-mcp" / "hostile-backend.wasm"
    done = subprocess.run(
        [sys.executable, "-m", "mcpkg", "run", "--compiler", COMPILER, "--max-memory", "8M", str(backend)],
        input="", capture_output=True, text=True, env=_env(home), timeout=600,
    )  # fmt: skip
    assert done.returncode == 1 and "exceeds memory limits" in done.stderr
    assert "--max-memory 8 MiB is less than the backend needs to start" in done.stderr


def test_compose_precompile_of_a_backend_compiles_what_run_loads(fixtures: Path, tmp_path: Path) -> None:
    """A backend project's `compose --precompile` compiles with epoch interruption (run's
    default `--timeout` needs it), so the first `run` loads it; `--timeout 0` is another
    artifact, compiled on its first run, and neither replaces the other."""
    from mcpkg.cache import Cache
    from mcpkg.host.runner import has_artifact, parse_compiler

    runner = Mcpkg(tmp_path / "home")
    project = tmp_path / "project"
    project.mkdir()
    (project / "hostile.wasm").write_bytes((fixtures / "wasi-mcp" / "hostile-backend.wasm").read_bytes())
    (project / "mcpkg.toml").write_text(
        '[server]\nname = "hostile"\nbackend = "hostile"\n\n[components.hostile]\npath = "hostile.wasm"\n'
    )
    server = tmp_path / "server.wasm"
    composed = runner.ok(
        "compose", "-C", str(project), "-o", str(server), "--precompile", "--compiler", COMPILER, "--json"
    ).json()
    cache, digest, compiler = Cache(runner.cache), composed["digest"], parse_compiler(COMPILER)
    assert has_artifact(cache, digest, compiler, epochs=True)
    assert not has_artifact(cache, digest, compiler)

    ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}\n'
    for timeout, compiles in (("30", False), ("0", True), ("0", False), ("30", False)):
        done = subprocess.run(
            [sys.executable, "-m", "mcpkg", "run", "--compiler", COMPILER, "--timeout", timeout, str(server)],
            input=ping, capture_output=True, text=True, env=_env(runner), timeout=600,
        )  # fmt: skip
        assert done.returncode == 0 and json.loads(done.stdout)["result"] == {}, done.stderr
        assert ("compiling" in done.stderr) is compiles, (timeout, done.stderr)
    assert has_artifact(cache, digest, compiler)
