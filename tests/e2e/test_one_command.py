"""One command from a handler to a server: `mcpkg compose COMPONENT... --transport ...`
without mcpkg.toml takes the transport, terminal and services from the contract's
framework in a registry (here this project's own contract, whose framework packages are
`mcp:<name>`, published and signed by the `published` fixture), applies the trust policy,
composes, and the server answers the MCP SDK through `mcpkg run`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from testing.registry import Registry
from tests.conftest import Mcpkg
from tests.e2e.conftest import Published, env_of
from tests.e2e.test_fixture_proof import check_tools, run


@pytest.fixture
def newcomer(published: Published, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Mcpkg:
    """A user with only a namespace mapping and a requiring trust policy, in an empty
    directory holding the handler they built."""
    runner = Mcpkg(tmp_path / "home")
    key = published.project.parent / "keys" / "pub.pub"
    runner.write_config(
        f'[namespaces]\nmcp = "{registry.host}/e2e"\n\n'
        f'[trust."{registry.host}/e2e/*"]\nkeys = ["{key}"]\nrequire = true\n'
    )
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(published.project.parent / "parts" / "tools-handler.wasm", work / "tools.wasm")
    monkeypatch.chdir(work)
    return runner


def test_one_command_from_a_handler_to_answers(newcomer: Mcpkg, tmp_path: Path) -> None:
    made = newcomer.ok(
        "compose", "tools.wasm", "--transport", "stdio", "-o", "server.wasm", "--precompile", "--compiler", "winch"
    )
    plan = made.stdout
    assert "server of mcpkg:mcp@0.1.0:" in plan
    for line in ("tools ", "stdio-transport ", "initialize-handler ", "writers "):
        assert line in plan, plan
    assert "mcp:stdio-transport@0.1.0" in plan and "tools-handler (mcpkg:mcp@0.1.0, chain)" in plan
    assert "--save" in made.stderr
    assert not Path("mcpkg.toml").exists()  # nothing but the server is written

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "mcpkg", "run", "--compiler", "winch", "server.wasm"],
            env=env_of(newcomer),
        )
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                await check_tools(session)

    run(main)


def test_save_then_locked_gives_the_same_bytes(newcomer: Mcpkg) -> None:
    plan = newcomer.ok("compose", "./tools.wasm", "-t", "stdio", "--save", "-o", "a.wasm", "--json").json()
    assert plan["contract"] == "mcpkg:mcp@0.1.0"
    positions = {p["name"]: p["position"] for p in plan["plan"]}
    assert positions == {
        "tools": "chain", "stdio-transport": "transport", "initialize-handler": "terminal", "writers": "service"
    }  # fmt: skip
    assert all(p["digest"].startswith("sha256:") for p in plan["plan"])
    manifest = Path("mcpkg.toml").read_text()
    assert 'path = "tools.wasm"' in manifest and 'ref = "mcp:writers"\nversion = "=0.1.0"' in manifest
    newcomer.ok("compose", "--locked", "-o", "b.wasm")
    assert Path("a.wasm").read_bytes() == Path("b.wasm").read_bytes()
    # COMPONENT arguments where a mcpkg.toml exists are a usage error pointing at `mcpkg add`
    again = newcomer("compose", "tools.wasm")
    assert again.exit_code == 2 and "mcpkg add" in again.stderr


def test_with_replaces_a_framework_part_and_bad_overrides_say_what_exists(
    newcomer: Mcpkg, published: Published
) -> None:
    http = published.project.parent / "parts" / "http-transport.wasm"
    made = newcomer.ok("compose", "tools.wasm", "--with", f"transport={http}", "-o", "http.wasm", "--json").json()
    transport = next(p for p in made["plan"] if p["position"] == "transport")
    assert transport["source"] == str(http) and transport["framework"] is False
    assert "wasi:http/incoming-handler@0.2.9" in made["exports"]
    unknown = newcomer("compose", "tools.wasm", "--with", "tarnsport=x.wasm", "-o", "x.wasm")
    assert unknown.exit_code == 2 and "tarnsport" in unknown.stderr and "initialize-handler" in unknown.stderr
    malformed = newcomer("compose", "tools.wasm", "--with", "transport")
    assert malformed.exit_code == 2 and "ROLE=COMPONENT" in malformed.stderr
    assert newcomer("compose", "tools.wasm", "--transport", "carrier-pigeon").exit_code == 2
    assert not Path("x.wasm").exists()


def test_a_component_of_no_known_contract_is_refused(newcomer: Mcpkg, published: Published) -> None:
    probe = published.project.parent / "parts" / "probe.wasm"
    refused = newcomer("compose", str(probe), "-o", "p.wasm")
    assert refused.exit_code == 1 and "targets no contract mcpkg knows" in refused.stderr
    assert "mcpkg.toml" in refused.stderr and not Path("p.wasm").exists()
