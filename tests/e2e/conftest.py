"""Session fixtures for the end-to-end proof: the fixture components composed into a stdio
and an HTTP MCP server, precompiled, and a running `wasmtime serve`.

Compiling a composed server (seven CPython instances, about 110 MB) is the slow part:
about 40 s with Cranelift on two cores. Each server is compiled once with `wasmtime
compile` and kept in pytest's cache directory (`.pytest_cache/d/mcpkg-e2e-servers/`),
keyed by the composed component's digest, so later sessions skip it while the fixtures are
unchanged; every test runs the `.cwasm` with `--allow-precompiled`, which starts in well
under a second. `MCPKG_E2E_WASMTIME_COMPILER=winch` compiles with Winch instead (two to
three times faster to compile, slower code: plenty for these tests).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.compose_tool import compose, find_wasm_tools
from testing.registry import Registry
from tests.conftest import Mcpkg
from tests.e2e.servers import (
    HttpServer,
    Server,
    Wasmtime,
    compile_server,
    compose_server,
    find_wasmtime,
    serving,
    wasmcp_server_parts,
)


@pytest.fixture(scope="session")
def wasmtime_cli() -> Wasmtime:
    compiler = os.environ.get("MCPKG_E2E_WASMTIME_COMPILER", "cranelift")
    return Wasmtime(find_wasmtime(), ("-C", f"compiler={compiler}"))


@pytest.fixture(scope="session")
def wasm_tools() -> str:
    return find_wasm_tools()


@pytest.fixture(scope="session")
def compiled_servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where precompiled servers are kept across sessions (a fresh directory without pytest's cache)."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("compiled")
    directory: Path = cache.mkdir("mcpkg-e2e-servers")
    return directory


def composed_server(
    transport: str,
    fixtures: Path,
    wasmtime: Wasmtime,
    wasm_tools: str,
    compiled: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    """transport -> logging middleware -> tools -> resources -> initialize handler, plus
    writers, composed with `wasm-tools compose` and compiled."""
    name = transport.removesuffix("-transport")
    wasm = compose_server(fixtures, transport, tmp_path_factory.mktemp(name) / f"{name}-server.wasm", wasm_tools)
    return compile_server(wasmtime, wasm, compiled)


@pytest.fixture(scope="session")
def stdio_server(
    fixtures: Path,
    wasmtime_cli: Wasmtime,
    wasm_tools: str,
    compiled_servers: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    return composed_server("stdio-transport", fixtures, wasmtime_cli, wasm_tools, compiled_servers, tmp_path_factory)


@pytest.fixture(scope="session")
def http_server(
    fixtures: Path,
    wasmtime_cli: Wasmtime,
    wasm_tools: str,
    compiled_servers: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HttpServer]:
    """`wasmtime serve` of the HTTP server on a free port of 127.0.0.1, stopped at the end."""
    server = composed_server("http-transport", fixtures, wasmtime_cli, wasm_tools, compiled_servers, tmp_path_factory)
    with serving(wasmtime_cli, server, tmp_path_factory.mktemp("serve")) as running:
        yield running


def wasmcp_server(
    transport: str, fixtures: Path, wasmtime: Wasmtime, wasm_tools: str, compiled: Path, tmp: pytest.TempPathFactory
) -> Server:
    """The wasmcp v0.3 server of this project's own framework components (see
    `wasmcp_server_parts`), composed with `wasm-tools compose` and compiled."""
    name = f"wasmcp-{transport.removesuffix('-transport')}"
    wasm = compose(wasmcp_server_parts(fixtures, transport), tmp.mktemp(name) / f"{name}-server.wasm", wasm_tools)
    return compile_server(wasmtime, wasm, compiled)


@pytest.fixture(scope="session")
def wasmcp_stdio_server(
    fixtures: Path,
    wasmtime_cli: Wasmtime,
    wasm_tools: str,
    compiled_servers: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Server:
    return wasmcp_server("stdio-transport", fixtures, wasmtime_cli, wasm_tools, compiled_servers, tmp_path_factory)


@pytest.fixture(scope="session")
def wasmcp_http_server(
    fixtures: Path,
    wasmtime_cli: Wasmtime,
    wasm_tools: str,
    compiled_servers: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HttpServer]:
    """`wasmtime serve` of the wasmcp v0.3 HTTP server on a free port, stopped at the end."""
    server = wasmcp_server("http-transport", fixtures, wasmtime_cli, wasm_tools, compiled_servers, tmp_path_factory)
    with serving(wasmtime_cli, server, tmp_path_factory.mktemp("serve")) as running:
        yield running


# The fixtures published and signed in a registry, locked and composed by mcpkg (used by
# test_registry_to_answers.py and test_one_command.py).
PARTS = ["logging-middleware", "tools-handler", "resources-handler", "initialize-handler", "writers"]


@dataclass
class Published:
    runner: Mcpkg
    project: Path
    server: Path
    http_server: Path


def _project(root: Path, host: str, key: Path, transport: str) -> Path:
    root.mkdir(parents=True)
    names = [transport, *PARTS]
    components = "".join(f'\n[components.{n}]\nref = "{host}/e2e/{n}"\nversion = "^0.1"\n' for n in names)
    (root / "mcpkg.toml").write_text(
        f'[server]\nname = "e2e"\ntransport = "{transport}"\n'
        'chain = ["logging-middleware", "tools-handler", "resources-handler"]\nterminal = "initialize-handler"\n'
        f'{components}\n[trust."{host}/e2e/*"]\nkeys = ["{key}"]\nrequire = true\n'
    )
    return root


@pytest.fixture(scope="session")
def published(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Published:
    home = tmp_path_factory.mktemp("registry-e2e")
    runner = Mcpkg(home / "home")
    password = {"COSIGN_PASSWORD": "e2e"}
    runner.ok("keygen", "--output-prefix", str(home / "keys" / "pub"), env=password)
    parts = home / "parts"  # the fixtures as a user has them (for the one-command tests)
    parts.mkdir()
    shutil.copy(fixtures / "probe.wasm", parts / "probe.wasm")
    for name in ["stdio-transport", "http-transport", *PARTS]:
        shutil.copy(fixtures / "mcp" / f"{name}.wasm", parts / f"{name}.wasm")
        runner.ok("push", str(fixtures / "mcp" / f"{name}.wasm"), f"{registry.host}/e2e/{name}:0.1.0")
        runner.ok("sign", f"{registry.host}/e2e/{name}:0.1.0", "--key", str(home / "keys" / "pub.key"), env=password)
    key = home / "keys" / "pub.pub"
    stdio = _project(home / "stdio", registry.host, key, "stdio-transport")
    runner.ok("lock", "-C", str(stdio))
    server = home / "server.wasm"
    runner.ok("compose", "-C", str(stdio), "-o", str(server), "--locked")
    http = _project(home / "http", registry.host, key, "http-transport")
    http_server = home / "http-server.wasm"
    runner.ok("compose", "-C", str(http), "-o", str(http_server))
    return Published(runner, stdio, server, http_server)


def env_of(runner: Mcpkg) -> dict[str, str]:
    return {**os.environ, **{k: v for k, v in runner.env.items() if v is not None}}
