"""From a registry to answers: publish and sign the fixtures, lock under a requiring trust
policy, compose with mcpkg, and talk MCP to `mcpkg run server.wasm` (stdio) and to
`wasmtime serve` (HTTP) with the official SDK."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import Mcpkg
from tests.e2e.conftest import Published, env_of
from tests.e2e.servers import HttpServer, Wasmtime, compile_server, free_port, stop, wait_for_port
from tests.e2e.test_fixture_proof import CHECKS, check_initialize, http_session, run


@asynccontextmanager
async def mcpkg_run_session(published: Published, errlog: object) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpkg", "run", str(published.server)], env=env_of(published.runner)
    )
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:  # type: ignore[arg-type]
        yield session


def test_mcpkg_run_initialize(published: Published, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with mcpkg_run_session(published, errlog) as session:
                await check_initialize(session)

    run(main)


@pytest.mark.parametrize("check", list(CHECKS))
def test_mcpkg_run(published: Published, tmp_path: Path, check: str) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with mcpkg_run_session(published, errlog) as session:
                await session.initialize()
                await CHECKS[check](session)

    run(main)


def _run_verbose(published: Published) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpkg", "-v", "run", str(published.server)],
        input="", capture_output=True, text=True, env=env_of(published.runner), timeout=600,
    )  # fmt: skip


def _compiled(runner: Mcpkg) -> list[Path]:
    area = runner.cache / "compiled"
    return sorted(area.glob("*.cwasm")) if area.is_dir() else []


def test_one_full_compile_across_compose_run_inspect_check(
    published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose validates without compiling and records the server's types; inspect and
    check read types without compiling; the first run compiles (and says so), later runs
    load that artifact: exactly one full compile, counted as compiled-artifact entries."""
    runner = Mcpkg(tmp_path / "home")  # a cache of its own
    server = tmp_path / "server.wasm"
    monkeypatch.chdir(published.project)  # `check` checks the project it is run in
    runner.ok("compose", "-C", str(published.project), "-o", str(server), "--locked")
    runner.ok("inspect", str(server))
    runner.ok("check")
    assert _compiled(runner) == []
    for attempt in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "mcpkg", "-v", "run", str(server)],
            input="", capture_output=True, text=True, env=env_of(runner), timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        said = "compiling server.wasm (first run only) with cranelift" in done.stderr
        assert said == (attempt == 0), done.stderr
        assert len(_compiled(runner)) == 1
    runner.ok("compose", "-C", str(published.project), "-o", str(server), "--locked")
    runner.ok("inspect", str(server))
    runner.ok("check")
    assert len(_compiled(runner)) == 1


def test_compose_precompile_compiles_ahead_of_the_first_run(published: Published, tmp_path: Path) -> None:
    """`--precompile --compiler winch` compiles with Winch at compose time; `run --compiler
    winch` loads that artifact; a run with the default compiler (Cranelift) is another
    artifact, never Winch's code."""
    runner = Mcpkg(tmp_path / "home")
    server = tmp_path / "server.wasm"
    composed = runner.ok(
        "compose", "-C", str(published.project), "-o", str(server), "--locked", "--precompile", "--compiler", "winch"
    )
    assert "compiling server.wasm (once, now) with winch" in composed.stderr
    assert len(_compiled(runner)) == 1
    done = subprocess.run(
        [sys.executable, "-m", "mcpkg", "-v", "run", "--compiler", "winch", str(server)],
        input="", capture_output=True, text=True, env=env_of(runner), timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "compiling" not in done.stderr and "loaded the cached compiled artifact" in done.stderr
    assert len(_compiled(runner)) == 1
    wrong = runner("run", "--compiler", "v8", str(server))
    assert wrong.exit_code == 2 and "unknown compiler 'v8'" in wrong.stderr and "cranelift, winch" in wrong.stderr


def test_compiled_once_and_tampered_artifact_is_recompiled(published: Published) -> None:
    first = _run_verbose(published)
    assert first.returncode == 0, first.stderr
    assert "compiled artifact" in first.stderr  # compiled now or by an earlier run
    artifacts = list((published.runner.cache / "compiled").glob("*.cwasm"))
    stdio_artifact = next(a for a in artifacts if a.name in first.stderr)
    data = bytearray(stdio_artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stdio_artifact.chmod(0o600)
    stdio_artifact.write_bytes(bytes(data))
    again = _run_verbose(published)
    assert again.returncode == 0, again.stderr
    assert "compiled artifact" in again.stderr and "loaded the cached" not in again.stderr
    third = _run_verbose(published)
    assert "loaded the cached compiled artifact" in third.stderr


def test_http_server_prints_serve_command(published: Published) -> None:
    result = published.runner.ok("run", str(published.http_server))
    assert result.stdout.startswith("wasmtime serve -O pooling-allocator=n -Scommon --addr 127.0.0.1:")


@pytest.fixture(scope="session")
def mcpkg_http(
    published: Published, wasmtime_cli: Wasmtime, compiled_servers: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HttpServer]:
    server = compile_server(wasmtime_cli, published.http_server, compiled_servers)
    port = free_port()
    log = tmp_path_factory.mktemp("mcpkg-serve") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(wasmtime_cli.binary), *wasmtime_cli.serve_args(server.cwasm, port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        wait_for_port(process, port, log)
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", log)
    finally:
        stop(process)


@pytest.mark.parametrize("check", list(CHECKS))
def test_mcpkg_composed_http_server(mcpkg_http: HttpServer, check: str) -> None:
    async def main() -> None:
        async with http_session(mcpkg_http) as session:
            await check_initialize(session)
            await CHECKS[check](session)

    run(main)


def test_run_flags(published: Published, tmp_path: Path, wasmtime_cli: Wasmtime) -> None:
    bad_dir = published.runner("run", str(published.server), "--dir", "nope")
    assert bad_dir.exit_code == 2 and "HOST::GUEST" in bad_dir.stderr
    bad_env = published.runner("run", str(published.server), "--env", "NOEQUALS")
    assert bad_env.exit_code == 2
    # sockets: mcpkg cannot grant them; the command it prints runs this server
    network = published.runner("run", str(published.server), "--allow-network")
    command = f"wasmtime run -S inherit-network {published.server}"
    assert network.exit_code == 2 and network.stderr.rstrip().endswith(command), network.stderr
    initialize = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        '"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    )
    argv = [str(wasmtime_cli.binary), *command.split()[1:]]
    ran = subprocess.run(argv, input=initialize, capture_output=True, text=True, timeout=300)
    assert '"id":1,"result":{' in ran.stdout.replace(" ", ""), ran.stderr
    missing = published.runner("run", str(tmp_path / "absent.wasm"))
    assert missing.exit_code == 1 and "mcpkg compose" in missing.stderr


def test_run_grants_only_what_is_asked(fixtures: Path, tmp_path: Path, mcpkg: Mcpkg) -> None:
    """--env and --dir are visible inside; without them, nothing of the host is."""
    probe = fixtures / "probe.wasm"
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_text("hi")
    # set for mcpkg itself: it must not reach the guest
    env = {**env_of(mcpkg), "MCPKG_PROBE": "leaked-from-host"}

    def run_probe(*args: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "mcpkg", "run", str(probe), *args],
            input="", capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert run_probe() == ["ENV <unset>", "DIR <none>"]
    assert run_probe("--env", "MCPKG_PROBE=granted", "--dir", f"{data}::/data") == ["ENV granted", "DIR hello.txt"]
