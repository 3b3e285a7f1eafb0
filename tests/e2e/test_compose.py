"""mcpkg's own composer: the servers it composes pass the same MCP conversation as the
`wasm-tools compose` ones, validate with wasm-tools, expose the same imports and exports,
and come out byte-identical from the same lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mcpkg.cache import Cache, hash_file
from mcpkg.compose.encoder import Part, compose
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.introspect import component_model
from tests.conftest import Mcpkg
from tests.e2e.servers import Server, Wasmtime, compile_server
from tests.e2e.test_fixture_proof import CHECKS, check_initialize, run, stdio_session

CHAIN = ["logging-middleware", "tools-handler", "resources-handler"]


def write_project(root: Path, fixtures: Path, transport: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    components = "".join(
        f'\n[components.{name}]\npath = "{fixtures / "mcp" / (name + ".wasm")}"\n'
        for name in [transport, *CHAIN, "initialize-handler", "writers"]
    )
    chain = ", ".join(f'"{n}"' for n in CHAIN)
    (root / "mcpkg.toml").write_text(
        f'[server]\nname = "e2e"\ntransport = "{transport}"\nchain = [{chain}]\n'
        f'terminal = "initialize-handler"\n{components}'
    )
    return root


@pytest.fixture(scope="session")
def mcpkg_composed(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("compose-home")
    runner = Mcpkg(home / "home")
    root = write_project(home / "project", fixtures, "stdio-transport")
    out = home / "server.wasm"
    result = runner.ok("compose", "-C", str(root), "-o", str(out), "--json").json()
    assert result["relocked"] is True and (root / "mcpkg.lock").is_file()
    assert "wasi:cli/run@0.2.9" in result["exports"] and "wasi:io/streams@0.2.9" in result["imports"]
    first = out.read_bytes()
    again = runner.ok("compose", "-C", str(root), "-o", str(out), "--locked", "--json").json()
    assert again["relocked"] is False and again["digest"] == result["digest"]
    assert out.read_bytes() == first  # same lock -> byte-identical output
    return out


@pytest.fixture(scope="session")
def mcpkg_stdio_server(mcpkg_composed: Path, wasmtime_cli: Wasmtime, compiled_servers: Path) -> Server:
    return compile_server(wasmtime_cli, mcpkg_composed, compiled_servers)


def test_mcpkg_composed_server_initializes(mcpkg_stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_session(mcpkg_stdio_server, wasmtime_cli, errlog) as session:
                await check_initialize(session)

    run(main)


@pytest.mark.parametrize("check", list(CHECKS))
def test_mcpkg_composed_server(mcpkg_stdio_server: Server, wasmtime_cli: Wasmtime, tmp_path: Path, check: str) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_session(mcpkg_stdio_server, wasmtime_cli, errlog) as session:
                await session.initialize()
                await CHECKS[check](session)

    run(main)


def _world_items(wasm_tools: str, path: Path) -> list[str]:
    text = subprocess.run([wasm_tools, "component", "wit", str(path)], check=True, capture_output=True, text=True)
    world = text.stdout.split("world root {", 1)[1].split("}", 1)[0]
    return sorted(line.strip() for line in world.splitlines() if line.strip())


def test_validates_and_matches_wasm_tools_compose(mcpkg_composed: Path, stdio_server: Server, wasm_tools: str) -> None:
    subprocess.run([wasm_tools, "validate", str(mcpkg_composed)], check=True)
    assert _world_items(wasm_tools, mcpkg_composed) == _world_items(wasm_tools, stdio_server.wasm)


def test_locked_and_stale(fixtures: Path, tmp_path: Path, mcpkg: Mcpkg, mcpkg_composed: Path) -> None:
    root = write_project(tmp_path / "p", fixtures, "stdio-transport")
    missing = mcpkg("compose", "-C", str(root), "-o", str(tmp_path / "s.wasm"), "--locked")
    assert missing.exit_code == 1 and "--locked" in missing.stderr and not (tmp_path / "s.wasm").exists()
    assert not (root / "mcpkg.lock").exists()


def test_incompatible_chain_member_writes_nothing(fixtures: Path, tmp_path: Path, mcpkg: Mcpkg) -> None:
    root = write_project(tmp_path / "p", fixtures, "stdio-transport")
    manifest = root / "mcpkg.toml"
    manifest.write_text(
        manifest.read_text().replace(
            str(fixtures / "mcp" / "tools-handler.wasm"), str(fixtures / "broken" / "broken-signature.wasm")
        )
    )
    out = tmp_path / "server.wasm"
    failed = mcpkg("compose", "-C", str(root), "-o", str(out))
    assert failed.exit_code == 1 and "tools-handler" in failed.stderr and "handle" in failed.stderr
    assert not out.exists() and not (root / "mcpkg.lock").exists()


def test_different_wasi_patch_versions_compose(roles_dir: Path, tmp_path: Path, wasm_tools: str) -> None:
    """A transport built against wasi@0.2.3 with handlers against wasi@0.2.9 (what the
    wasmcp CLI fails on): one outer import per interface, at the highest version."""
    cache = Cache(tmp_path / "cache")
    names = {
        "stdio": "stdio-transport-wasi-0.2.3",
        "logger": "middleware",
        "tools": "tools-handler",
        "init": "initialize-handler",
        "writers": "writers",
    }
    parts = {}
    for label, file in names.items():
        path = roles_dir / f"{file}.wasm"
        digest, _ = hash_file(path)
        parts[label] = Part(label, path.read_bytes(), component_model(path, digest, cache, file))
    report = check_chain(
        ("stdio", parts["stdio"].model),
        [("logger", parts["logger"].model), ("tools", parts["tools"].model)],
        ("init", parts["init"].model),
        [("writers", parts["writers"].model)],
    )
    assert report.ok
    chunks = compose("stdio", ["logger", "tools"], "init", ["writers"], parts, report.wiring.links).chunks
    out = tmp_path / "mixed.wasm"
    out.write_bytes(b"".join(chunks))
    subprocess.run([wasm_tools, "validate", str(out)], check=True)
    items = _world_items(wasm_tools, out)
    assert "import wasi:io/streams@0.2.9;" in items and "import wasi:io/streams@0.2.3;" not in items
    assert "export wasi:cli/run@0.2.3;" in items
