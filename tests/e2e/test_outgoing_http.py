"""Servers that call out: outgoing HTTP (`wasi:http/outgoing-handler`) under `mcpkg run`,
granted with `--allow-http` (docs/wasi-mcp.md, "Outgoing HTTP").

Both kinds of server mcpkg runs, each a component of mcpkg's own (componentize-py) whose
`fetch` tool GETs a URL: a tools capability of the current wasmcp generation, composed in
one command with the framework from the test registry, and a wasi:mcp backend mcpkg hosts.
Each fetches from a real HTTP server this test starts on loopback and answers the MCP SDK
with the fetched content; without the grant each is refused before it is compiled; a fetch
that fails (a closed port: connection refused) comes back as the tool's own error result
and the server keeps answering. The hints mcpkg prints for the wasmtime CLI are run as
printed, and must serve the same fetch."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from testing.registry import Registry
from testing.wasmcp_current import STDIO_FRAMEWORK
from tests.conftest import Mcpkg
from tests.e2e.conftest import env_of
from tests.e2e.servers import Wasmtime
from tests.e2e.test_backend_http import hosting
from tests.e2e.test_fixture_proof import run
from tests.e2e.wasmcp_framework import publish_framework

FRAMEWORK = STDIO_FRAMEWORK  # what a one-command stdio server of tools needs
NAMESPACE = "wasmcp-fetch"  # apart from the framework other modules publish
FORECAST = "sunny, 21 C, from the loopback weather service"
HTTP_IMPORTS = ("wasi:http/outgoing-handler@", "wasi:http/types@")


@dataclass(frozen=True)
class Site:
    url: str  # the page the tools fetch
    missing: str  # a 404
    refused: str  # a closed port: connection refused
    reset: str  # the server closes the connection without answering
    not_tls: str  # https:// to this plain-HTTP server: the TLS handshake fails


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/reset":  # the connection closed without an answer
            self.close_connection = True
            return
        found = self.path == "/forecast"
        body = (FORECAST if found else "no such page").encode()
        self.send_response(200 if found else 404)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: a connection to it is refused


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """A real HTTP server on a free loopback port: `/forecast` is a page, the rest 404."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        refused = f"http://127.0.0.1:{_closed_port()}/forecast"
        not_tls = base.replace("http://", "https://") + "/forecast"
        yield Site(f"{base}/forecast", f"{base}/missing", refused, f"{base}/reset", not_tls)
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Composed:
    user: Mcpkg
    server: Path
    text: str  # compose's output
    made: dict[str, object]  # compose --locked --json of the saved project
    work: Path  # where --save wrote mcpkg.toml and mcpkg.lock


@pytest.fixture(scope="module")
def composed(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Composed:
    """`mcpkg compose fetch.wasm --transport stdio --save`: the capability with the
    framework, and the project it saves, composed again with `--locked --json`."""
    home = tmp_path_factory.mktemp("outgoing-http")
    user = publish_framework(registry, fixtures, home, FRAMEWORK, NAMESPACE)
    work = home / "work"
    work.mkdir()
    shutil.copy(fixtures / "wasmcp-v20251125" / "fetch-tools.wasm", work / "fetch.wasm")
    server = work / "server.wasm"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        text = user.ok("compose", "fetch.wasm", "--transport", "stdio", "-o", str(server), "--save").stdout
        made = user.ok("compose", "--locked", "-o", str(server), "--json").json()  # the saved project
    return Composed(user, server, text, made, work)


@asynccontextmanager
async def stdio_session(
    command: str, args: list[str], env: dict[str, str], errlog: Path
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=command, args=args, env=env)
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def text_of(result: mcp_types.CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, mcp_types.TextContent), block
    return block.text


async def fetches(session: ClientSession, site: Site) -> None:
    """The conversation both kinds of server must hold: the page fetched; a refused
    connection, a 404, a connection closed unanswered and a failed TLS handshake as the
    tool's own errors (wasi:http's error codes, as the component words them); and the page
    again afterwards."""
    tools = await session.list_tools()
    assert [t.name for t in tools.tools] == ["fetch"]
    page = await session.call_tool("fetch", {"url": site.url})
    assert not page.is_error and text_of(page) == FORECAST
    refused = await session.call_tool("fetch", {"url": site.refused})
    assert refused.is_error and text_of(refused) == f"fetch failed: connection refused ({site.refused})"
    missing = await session.call_tool("fetch", {"url": site.missing})
    assert missing.is_error and text_of(missing) == f"fetch failed: HTTP 404 ({site.missing})"
    reset = await session.call_tool("fetch", {"url": site.reset})
    assert reset.is_error and re.fullmatch(rf"fetch failed: [a-z ]+ \({re.escape(site.reset)}\)", text_of(reset))
    not_tls = await session.call_tool("fetch", {"url": site.not_tls})
    assert not_tls.is_error and text_of(not_tls).startswith("fetch failed: tls "), text_of(not_tls)
    again = await session.call_tool("fetch", {"url": site.url})
    assert not again.is_error and text_of(again) == FORECAST


def mcpkg_args(*args: str) -> list[str]:
    return ["-m", "mcpkg", "run", "--compiler", "winch", *args]


def printed_wasmtime_command(stderr: str) -> list[str]:
    """The `wasmtime run ...` command a hint printed, as arguments."""
    found = re.search(r"wasmtime run [^;\n]*?\.wasm", stderr)
    assert found is not None, stderr
    return shlex.split(found.group(0))


# --- the composed server (a capability of the current wasmcp generation) ----------------


def test_compose_says_the_server_needs_the_grant(composed: Composed) -> None:
    assert f"needs:        --allow-http (it calls out over HTTP: mcpkg run --allow-http {composed.server})" in (
        composed.text
    )
    assert composed.made["needs"] == ["--allow-http"]
    imports = composed.made["imports"]
    assert isinstance(imports, list)
    for prefix in HTTP_IMPORTS:
        assert any(str(name).startswith(prefix) for name in imports), imports


def test_tree_of_the_saved_project_says_it_needs_the_grant(composed: Composed) -> None:
    tree = composed.user.ok("tree", "-C", str(composed.work))
    assert "needs: --allow-http (to run it: mcpkg run --allow-http server.wasm)" in tree.stdout
    assert composed.user.ok("tree", "-C", str(composed.work), "--json").json()["needs"] == ["--allow-http"]


def test_composed_server_fetches_with_the_grant(composed: Composed, site: Site, tmp_path: Path) -> None:
    async def main() -> None:
        args = mcpkg_args("--allow-http", str(composed.server))
        async with stdio_session(sys.executable, args, env_of(composed.user), tmp_path / "stderr") as session:
            await fetches(session, site)

    run(main)


def test_composed_server_without_the_grant_is_refused(composed: Composed) -> None:
    compiled = set(composed.user.cache.rglob("*.cwasm"))
    refused = composed.user("run", str(composed.server))
    assert refused.exit_code == 1
    assert f"{composed.server} calls out over HTTP (it imports wasi:http/outgoing-handler@" in refused.stderr
    assert "mcpkg grants that only with --allow-http" in refused.stderr
    assert f"mcpkg run --allow-http {composed.server}" in refused.stderr
    assert printed_wasmtime_command(refused.stderr) == ["wasmtime", "run", "-S", "http", str(composed.server)]
    assert set(composed.user.cache.rglob("*.cwasm")) == compiled  # refused before compiling


def test_the_printed_http_hint_serves_the_fetch(
    composed: Composed, site: Site, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    """`wasmtime run -S http server.wasm`, as the refusal printed it."""
    printed = printed_wasmtime_command(composed.user("run", str(composed.server)).stderr)

    async def main() -> None:
        async with stdio_session(str(wasmtime_cli.binary), printed[1:], env_of(composed.user), tmp_path / "err") as s:
            await fetches(s, site)

    run(main)


def test_allow_network_names_the_grant_and_a_printed_command_that_works(
    composed: Composed, site: Site, wasmtime_cli: Wasmtime, tmp_path: Path
) -> None:
    """Sockets cannot be granted by mcpkg: `--allow-network` names `--allow-http` for the
    HTTP this server makes, and the wasmtime CLI command that grants its sockets too, which
    serves the same fetch."""
    refused = composed.user("run", "--allow-network", str(composed.server))
    assert refused.exit_code == 2
    assert "--allow-network cannot be granted by the wasmtime Python embedding" in refused.stderr
    assert f"which --allow-http grants: mcpkg run --allow-http {composed.server}" in refused.stderr
    printed = printed_wasmtime_command(refused.stderr)
    assert printed == ["wasmtime", "run", "-S", "inherit-network", "-S", "http", str(composed.server)]

    async def main() -> None:
        async with stdio_session(str(wasmtime_cli.binary), printed[1:], env_of(composed.user), tmp_path / "err") as s:
            await fetches(s, site)

    run(main)


# --- the wasi:mcp backend ------------------------------------------------------------------


def test_backend_fetches_with_the_grant(mcpkg: Mcpkg, fixtures: Path, site: Site, tmp_path: Path) -> None:
    backend = fixtures / "wasi-mcp" / "fetch-backend.wasm"

    async def main() -> None:
        args = mcpkg_args("--allow-http", str(backend))
        async with stdio_session(sys.executable, args, env_of(mcpkg), tmp_path / "stderr") as session:
            await fetches(session, site)

    run(main)


def test_backend_over_http_fetches_with_the_grant(fixtures: Path, site: Site, tmp_path: Path) -> None:
    """The same backend hosted over streamable HTTP (`--http`): each session's instance may call out."""
    with hosting(fixtures, tmp_path, "127.0.0.1", "fetch-backend", ("--allow-http",)) as hosted:

        async def main() -> None:
            async with streamable_http_client(hosted.url) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                await fetches(session, site)

        run(main)


def test_backend_without_the_grant_is_refused(mcpkg: Mcpkg, fixtures: Path) -> None:
    backend = fixtures / "wasi-mcp" / "fetch-backend.wasm"
    for extra in ((), ("--http", "0")):
        refused = mcpkg("run", *extra, str(backend))
        assert refused.exit_code == 1, refused.stderr
        assert "calls out over HTTP (it imports wasi:http/outgoing-handler@" in refused.stderr
        assert f"mcpkg run --allow-http {backend}" in refused.stderr
        assert "wasmtime run" not in refused.stderr  # the wasmtime CLI cannot host a wasi:mcp backend
    network = mcpkg("run", "--allow-network", str(backend))
    assert network.exit_code == 2
    assert f"which --allow-http grants: mcpkg run --allow-http {backend}" in network.stderr
    assert "wasmtime run" not in network.stderr
    assert not list(mcpkg.cache.rglob("*.cwasm"))  # refused before compiling


def test_an_unused_grant_is_noted_and_the_server_runs(mcpkg: Mcpkg, fixtures: Path) -> None:
    """`--allow-http` for a backend that makes no HTTP requests: a note, then it serves."""
    backend = fixtures / "wasi-mcp" / "tools-backend.wasm"
    initialize = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
        '"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    )
    ran = mcpkg("run", "--allow-http", "--compiler", "winch", str(backend), input=initialize)
    assert ran.exit_code == 0, ran.stderr
    assert "--allow-http: tools-backend.wasm does not import wasi:http/outgoing-handler, so the grant is unused" in (
        ran.stderr
    )
    assert '"serverInfo":{"name":"tools-backend"' in ran.stdout


def test_check_and_inspect_name_the_grant_a_backend_needs(mcpkg: Mcpkg, fixtures: Path) -> None:
    backend = fixtures / "wasi-mcp" / "fetch-backend.wasm"
    checked = mcpkg.ok("check", str(backend))
    assert f"ok: a wasi:mcp backend mcpkg can host (mcpkg run --allow-http {backend})" in checked.stdout
    assert mcpkg.ok("check", str(backend), "--json").json()["needs"] == ["--allow-http"]
    assert "hostable by `mcpkg run --allow-http`" in mcpkg.ok("inspect", str(backend)).stdout
    assert mcpkg.ok("inspect", str(backend), "--json").json()["backend"]["needs"] == ["--allow-http"]
    plain = fixtures / "wasi-mcp" / "tools-backend.wasm"
    assert mcpkg.ok("check", str(plain), "--json").json()["needs"] == []


def test_a_backend_waiting_on_a_silent_api_is_stopped_at_its_timeout(mcpkg: Mcpkg, fixtures: Path) -> None:
    """An API that accepts the connection and never answers: the backend waits in a WASI
    call, which `--timeout` cannot interrupt, so mcpkg answers the request with an error
    after the timeout and its grace, and exits 1 rather than hang (docs/wasi-mcp.md)."""
    backend = fixtures / "wasi-mcp" / "fetch-backend.wasm"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # connections complete in the backlog; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/forecast"
        lines = (
            '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
            '"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
            '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
            + json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "fetch", "arguments": {"url": url}},
                }
            )
            + "\n"
        )
        started = time.monotonic()
        ran = subprocess.run(  # a process of its own: mcpkg ends it (os._exit)
            [sys.executable, *mcpkg_args("--allow-http", "--timeout", "1", str(backend))],
            input=lines, capture_output=True, text=True, env=env_of(mcpkg), timeout=300,
        )  # fmt: skip
    assert ran.returncode == 1, ran.stderr
    assert time.monotonic() - started < 120
    answers = [json.loads(line) for line in ran.stdout.splitlines()]
    (stopped,) = [a for a in answers if a.get("id") == 2]
    assert "did not return within 1 s (--timeout)" in stopped["error"]["message"]
    assert "blocked in a WASI call" in ran.stderr
