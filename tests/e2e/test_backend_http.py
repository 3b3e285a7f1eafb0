"""`mcpkg run BACKEND --http HOST:PORT`: the tools-backend fixture hosted by mcpkg over MCP's
streamable HTTP transport, in a subprocess on a free port of 127.0.0.1. The official SDK's
streamable HTTP client initializes, lists and calls tools, two sessions at once keep their
own backend instance; raw httpx checks the transport's status codes and its security
(docs/wasi-mcp.md). The backend is compiled once (one mcpkg cache), with the compiler
`MCPKG_E2E_WASMTIME_COMPILER` names."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import Mcpkg
from tests.e2e.servers import free_port, stop
from tests.e2e.test_fixture_proof import PARSE_ERROR, run

COMPILER = os.environ.get("MCPKG_E2E_WASMTIME_COMPILER", "cranelift")
START_TIMEOUT = 300  # the first run compiles the backend (seconds with winch, more with cranelift)
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
JSON_ONLY = {"accept": "application/json", "content-type": "application/json"}
BOTH = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


@dataclass(frozen=True)
class Hosted:
    url: str
    port: int
    log: Path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mcpkg home (cache) for the module: the backend is compiled once."""
    return tmp_path_factory.mktemp("backend-http")


@contextmanager
def hosting(
    fixtures: Path, home: Path, host: str, backend_name: str = "tools-backend", extra: tuple[str, ...] = ()
) -> Iterator[Hosted]:
    """`mcpkg run --http HOST:PORT tools-backend.wasm` on a free port, stopped on exit."""
    runner = Mcpkg(home / "home")
    env = {**os.environ, **{k: v for k, v in runner.env.items() if v is not None}}
    for name, value in runner.env.items():
        if value is None:
            env.pop(name, None)
    port = free_port()
    backend = fixtures / "wasi-mcp" / f"{backend_name}.wasm"
    args = ["-m", "mcpkg", "run", "--compiler", COMPILER, "--http", f"{host}:{port}", *extra, str(backend)]
    log = home / f"stderr-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, *args], env=env, stdin=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_until_served(process, port, log)
        yield Hosted(f"http://127.0.0.1:{port}/mcp", port, log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def hosted(fixtures: Path, home: Path) -> Iterator[Hosted]:
    with hosting(fixtures, home, "127.0.0.1") as running:
        yield running


def _wait_until_served(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mcpkg run --http exited with {process.returncode}:\n{log.read_text()}")
        if "serving MCP" in log.read_text():
            return
        time.sleep(0.1)
    raise TimeoutError(f"mcpkg run --http did not serve on 127.0.0.1:{port} within {START_TIMEOUT} s")


@asynccontextmanager
async def sdk_session(hosted: Hosted, logs: list[str]) -> AsyncIterator[ClientSession]:
    async def logged(params: mcp_types.LoggingMessageNotificationParams) -> None:
        logs.append(str(params.data))

    async with (
        streamable_http_client(hosted.url) as (read, write),
        ClientSession(read, write, logging_callback=logged) as session,
    ):
        yield session


def _text(result: Any) -> list[str]:
    return [c.text for c in result.content if isinstance(c, mcp_types.TextContent)]


def test_the_sdk_client(hosted: Hosted) -> None:
    logs: list[str] = []

    async def main() -> None:
        async with sdk_session(hosted, logs) as session:
            result = await session.initialize()
            assert (result.server_info.name, result.server_info.version) == ("tools-backend", "1.0.0")
            assert result.instructions == "Arithmetic and echo tools."
            assert result.capabilities.tools is not None and result.capabilities.logging is not None
            listed = await session.list_tools()
            assert [t.name for t in listed.tools] == ["add", "echo", "divide", "crash"]
            assert _text(await session.call_tool("add", {"a": 2, "b": 40})) == ["42"]
            assert _text(await session.call_tool("echo", {"text": "héllo"})) == ["héllo"]
            assert await session.send_ping() is not None

    run(main)
    # sent while the request was handled: an event of its SSE answer, before the reply
    assert "add called (1 calls so far)" in logs


def test_sessions_do_not_share_an_instance(hosted: Hosted) -> None:
    """The backend counts its `add` calls in memory: each session has its own count."""
    first_logs: list[str] = []
    second_logs: list[str] = []

    async def main() -> None:
        async with sdk_session(hosted, first_logs) as first, sdk_session(hosted, second_logs) as second:
            await first.initialize()
            await second.initialize()
            await first.call_tool("add", {"a": 1, "b": 1})
            await first.call_tool("add", {"a": 1, "b": 2})
            async with anyio.create_task_group() as group:  # both at once
                group.start_soon(first.call_tool, "add", {"a": 1, "b": 3})
                group.start_soon(second.call_tool, "add", {"a": 2, "b": 2})

    run(main)
    assert [line for line in first_logs if line.startswith("add called")] == [
        f"add called ({n} calls so far)" for n in (1, 2, 3)
    ]
    assert [line for line in second_logs if line.startswith("add called")] == ["add called (1 calls so far)"]


def _initialize(client: httpx.Client, url: str) -> str:
    answer = client.post(url, headers=JSON_ONLY, json=INITIALIZE)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json()["result"]["serverInfo"]["name"] == "tools-backend"
    session_id: str = answer.headers["mcp-session-id"]
    initialized = client.post(
        url,
        headers={**JSON_ONLY, "mcp-session-id": session_id},
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
    )
    assert initialized.status_code == 202 and initialized.content == b""
    return session_id


def test_sessions_and_status_codes(hosted: Hosted) -> None:
    url = hosted.url
    with httpx.Client(timeout=30) as client:
        session_id = _initialize(client, url)
        other = _initialize(client, url)
        assert other != session_id
        session = {"mcp-session-id": session_id}

        listed = client.post(url, headers={**JSON_ONLY, **session}, json=LIST)
        assert listed.status_code == 200 and listed.json()["result"]["tools"][0]["name"] == "add"
        streamed = client.post(url, headers={**BOTH, **session, "mcp-protocol-version": "2025-06-18"}, json=LIST)
        assert streamed.status_code == 200 and streamed.headers["content-type"] == "text/event-stream"
        assert streamed.text.startswith("event: message\ndata: {") and '"id":2' in streamed.text
        response = client.post(url, headers={**JSON_ONLY, **session}, json={"jsonrpc": "2.0", "id": 9, "result": {}})
        assert response.status_code == 202

        no_session = client.post(url, headers=JSON_ONLY, json=LIST)
        assert no_session.status_code == 400 and no_session.json()["error"]["code"] == INVALID_REQUEST
        unknown = client.post(url, headers={**JSON_ONLY, "mcp-session-id": "0" * 32}, json=LIST)
        assert unknown.status_code == 404
        garbage = client.post(url, headers={**JSON_ONLY, **session}, content=b"{not json")
        assert garbage.status_code == 400 and garbage.json()["error"]["code"] == PARSE_ERROR
        version = client.post(url, headers={**JSON_ONLY, **session, "mcp-protocol-version": "1999-01-01"}, json=LIST)
        assert version.status_code == 400 and "1999-01-01" in version.json()["error"]["message"]
        assert client.post(url.removesuffix("/mcp") + "/other", headers=JSON_ONLY, json=INITIALIZE).status_code == 404

        # GET: the session's stream of messages sent outside a request (one at a time)
        with client.stream("GET", url, headers={"accept": "text/event-stream", **session}) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"] == "text/event-stream"
            second = client.get(url, headers={"accept": "text/event-stream", **session})
            assert second.status_code == 409
        assert client.get(url, headers={"accept": "text/event-stream"}).status_code == 400
        assert client.get(url, headers={"accept": "application/json", **session}).status_code == 406

        # DELETE ends the session: its id is unknown from then on; the other lives on
        assert client.delete(url, headers=session).status_code == 204
        assert client.post(url, headers={**JSON_ONLY, **session}, json=LIST).status_code == 404
        assert client.get(url, headers={"accept": "text/event-stream", **session}).status_code == 404
        assert client.delete(url, headers=session).status_code == 404
        still = client.post(url, headers={**JSON_ONLY, "mcp-session-id": other}, json=LIST)
        assert still.status_code == 200
        assert client.delete(url, headers={"mcp-session-id": other}).status_code == 204


def test_security_and_limits(hosted: Hosted) -> None:
    url = hosted.url
    with httpx.Client(timeout=30) as client:
        rebound = client.post(url, headers={**JSON_ONLY, "host": f"evil.example:{hosted.port}"}, json=INITIALIZE)
        assert rebound.status_code == 403
        other_port = client.post(url, headers={**JSON_ONLY, "host": f"127.0.0.1:{hosted.port + 1}"}, json=INITIALIZE)
        assert other_port.status_code == 403
        foreign = client.post(url, headers={**JSON_ONLY, "origin": "https://evil.example"}, json=INITIALIZE)
        assert foreign.status_code == 403
        assert client.get(url, headers={"origin": "null", "accept": "text/event-stream"}).status_code == 403

        local = client.post(
            url,
            headers={**JSON_ONLY, "host": f"localhost:{hosted.port}", "origin": "http://localhost:3000"},
            json=INITIALIZE,
        )
        assert local.status_code == 200
        assert client.delete(url, headers={"mcp-session-id": local.headers["mcp-session-id"]}).status_code == 204

        oversize = client.post(url, headers=JSON_ONLY, content=b" " * (4 * 1024 * 1024 + 1))
        assert oversize.status_code == 413
        wrong_type = client.post(url, headers={**JSON_ONLY, "content-type": "text/plain"}, content=b"{}")
        assert wrong_type.status_code == 415


def test_live_sessions_are_bounded(hosted: Hosted) -> None:
    """16 live sessions at most: a 17th ends the one unused the longest (its id is then 404,
    and its client initializes again), as clients that never DELETE their session must not
    lock new ones out."""
    url = hosted.url
    with httpx.Client(timeout=30) as client:
        opened: list[str] = []
        for _ in range(16):
            answer = client.post(url, headers=JSON_ONLY, json=INITIALIZE)
            assert answer.status_code == 200
            opened.append(answer.headers["mcp-session-id"])
        for session_id in opened[1:]:  # the first is now the one unused the longest
            assert client.post(url, headers={**JSON_ONLY, "mcp-session-id": session_id}, json=LIST).status_code == 200
        again = client.post(url, headers=JSON_ONLY, json=INITIALIZE)
        assert again.status_code == 200 and again.headers["mcp-session-id"] not in opened
        ended = client.post(url, headers={**JSON_ONLY, "mcp-session-id": opened.pop(0)}, json=LIST)
        assert ended.status_code == 404
        opened.append(again.headers["mcp-session-id"])
        for session_id in opened:
            assert client.delete(url, headers={"mcp-session-id": session_id}).status_code == 204


def test_run_http_refusals(mcpkg: Mcpkg, fixtures: Path) -> None:
    """Refused before anything is compiled or served."""
    backend = str(fixtures / "wasi-mcp" / "tools-backend.wasm")
    bad = mcpkg("run", "--http", "127.0.0.1:http", backend)
    assert bad.exit_code == 2 and "is not [HOST:]PORT" in bad.stderr
    not_backend = mcpkg("run", "--http", "0", str(fixtures / "greeter.wasm"))
    assert not_backend.exit_code == 2 and "--http hosts a wasi:mcp backend" in not_backend.stderr
    no_run = mcpkg("run", "--http", "0", str(fixtures / "broken" / "backend-no-run.wasm"))
    assert no_run.exit_code == 1 and "needs an entry point" in no_run.stderr
    assert not (mcpkg.cache / "compiled").exists()


def test_a_non_loopback_address_is_served_as_given(fixtures: Path, home: Path, hosted: Hosted) -> None:
    """`--http 0.0.0.0:PORT`: a warning, and only that name is a valid Host."""
    with hosting(fixtures, home, "0.0.0.0") as running, httpx.Client(timeout=30) as client:
        assert "is not a loopback address" in running.log.read_text()
        loopback = client.post(running.url, headers=JSON_ONLY, json=INITIALIZE)
        assert loopback.status_code == 403
        given = client.post(running.url, headers={**JSON_ONLY, "host": f"0.0.0.0:{running.port}"}, json=INITIALIZE)
        assert given.status_code == 200


def test_a_runaway_call_over_http_ends_in_an_error_and_the_session_goes_on(fixtures: Path, home: Path) -> None:
    """The bounds hold over HTTP as over stdio: an endless loop ends at --timeout with a
    JSON-RPC error, and the same session answers the next call (a fresh instance)."""
    with hosting(fixtures, home, "127.0.0.1", "hostile-backend", ("--timeout", "2")) as hostile:

        async def main() -> None:
            logs: list[str] = []
            async with sdk_session(hostile, logs) as session:
                await session.initialize()
                assert _text(await session.call_tool("ping", {})) == ["pong 1"]
                with pytest.raises(MCPError) as spun:
                    await session.call_tool("spin", {})
                assert spun.value.code == INTERNAL_ERROR and "2 s timeout (--timeout)" in spun.value.message
                assert _text(await session.call_tool("ping", {})) == ["pong 1"]  # a fresh instance, same session

        run(main)
