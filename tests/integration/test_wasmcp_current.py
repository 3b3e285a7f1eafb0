"""The current wasmcp generation (`wasmcp:mcp-v20251125@0.1.1`) as contract data: every
fixture component of it classified, the capability wrappers the wiring code asks for, and
`mcpkg run` refusing a server that needs host interfaces beyond WASI preview 2 (a
real-framework-like key-value store importing `wasi:keyvalue`)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from mcpkg.cache import Cache, hash_file
from mcpkg.wasm.contracts import Contract, capabilities_of, capability, classify, contracts, push_target, wrapper_for
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel
from testing.compose_tool import find_wasm_tools
from testing.compose_wired import compose_wired
from testing.wasmcp_current import CONTRACT, FIXTURE_ROLES, two_tools_server
from testing.witbuild import build_world
from tests.conftest import Mcpkg
from tests.e2e.servers import find_wasmtime


@pytest.fixture(scope="module")
def models(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentModel]:
    cache = Cache(tmp_path_factory.mktemp("wasmcp-current-types"))
    found = {}
    for name in FIXTURE_ROLES:
        path = fixtures / "wasmcp-v20251125" / f"{name}.wasm"
        digest, _ = hash_file(path)
        found[name] = component_model(path, digest, cache, path.name)
    return found


def current() -> Contract:
    (found,) = (c for c in contracts() if c.package == CONTRACT)
    return found


def test_every_fixture_is_classified(models: dict[str, ComponentModel]) -> None:
    for name, role in FIXTURE_ROLES.items():
        roles = [str(r) for r in classify(models[name])]
        assert roles and roles[0] == role, (name, roles)
    assert [str(r) for r in classify(models["session-store"])] == [
        f"sessions service ({CONTRACT})",
        f"session-manager service ({CONTRACT})",
    ]
    assert [str(r) for r in classify(models["authorization"])] == [
        f"server-auth service ({CONTRACT})",
        f"auth helpers service ({CONTRACT})",
    ]
    tools = classify(models["strings-py"])[0]
    assert (tools.position, tools.world, tools.target) == ("capability", None, None)
    # roles from mcpkg's roles package carry its qualified world as push's target
    assert push_target(models["tools-middleware"]) == "mcpkg:wasmcp-v20251125-roles/tools-middleware@0.1.1"
    assert push_target(models["method-not-found"]) == "mcpkg:wasmcp-v20251125-roles/method-not-found@0.1.1"


def test_inspect_names_the_contract(mcpkg: Mcpkg, fixtures: Path) -> None:
    shown = mcpkg.ok("inspect", str(fixtures / "wasmcp-v20251125" / "tools-middleware.wasm"))
    assert f"tools-middleware ({CONTRACT}, chain)" in shown.stdout
    report = mcpkg.ok("inspect", str(fixtures / "wasmcp-v20251125" / "counter-tools.wasm"), "--json").json()
    assert report["roles"][0] == {
        "role": "tools capability",
        "world": None,
        "position": "capability",
        "contract": CONTRACT,
        "target": None,
    }


def test_wrapper_for_each_capability(models: dict[str, ComponentModel]) -> None:
    contract = current()
    tools = ("wasmcp:tools-middleware", "wasmcp:mcp-v20251125/tools@0.1.1")
    for spelled in (
        "tools",
        "wasmcp:mcp-v20251125/tools",
        "wasmcp:mcp-v20251125/tools@0.1.1",
        "wasmcp:mcp-v20251125/tools@0.1.9",
    ):
        assert wrapper_for(contract, spelled) == tools, spelled
    assert wrapper_for(contract, "resources") == ("wasmcp:resources-middleware", "wasmcp:mcp-v20251125/resources@0.1.1")
    assert wrapper_for(contract, "prompts") == ("wasmcp:prompts-middleware", "wasmcp:mcp-v20251125/prompts@0.1.1")
    assert wrapper_for(contract, "completions") is None  # wasmcp has no wrapper for it
    assert capability(contract, "completions") is not None
    assert wrapper_for(contract, "wasmcp:mcp-v20251125/tools@0.2.0") is None
    assert wrapper_for(contract, "server-io") is None
    # the wrapper's import is one its role world really has
    wrapper = contract.worlds["tools-middleware"]
    assert tools[1] in wrapper.imports
    found = capabilities_of(models["strings-py"])
    assert [(c.package, cap.interface, cap.wrapper) for c, cap in found] == [
        (CONTRACT, "wasmcp:mcp-v20251125/tools@0.1.1", "tools-middleware")
    ]
    assert capabilities_of(models["tools-middleware"]) == []  # it imports tools, it does not provide it


def test_run_refuses_a_server_needing_wasi_keyvalue(mcpkg: Mcpkg, fixtures: Path, tmp_path: Path) -> None:
    """The two-tools server with a key-value store that imports wasi:keyvalue (as wasmcp's
    real kv-store does): refused before compiling, naming the imports and the wasmtime CLI
    command that provides them."""
    root, instances = two_tools_server(fixtures)
    dummy = fixtures / "wasmcp-v20251125" / "kv-store-wasi-keyvalue.wasm"
    instances["kv-store"] = replace(instances["kv-store"], component=dummy)
    server = compose_wired(root, instances, tmp_path / "server.wasm", find_wasm_tools())
    result = mcpkg("run", str(server))
    assert result.exit_code == 1
    for name in ("store", "batch", "atomics"):
        assert f"wasi:keyvalue/{name}@0.2.0-draft" in result.stderr
    assert "WASI preview 2 only" in result.stderr
    assert f"wasmtime run -S keyvalue {server}" in result.stderr
    assert not list(mcpkg.cache.rglob("*.cwasm"))  # refused before compiling
    # The printed command links every import: the server starts and reaches the store,
    # which is a dummy (`embed --dummy`) and traps when called, as built to. A missing
    # provider would stop wasmtime before the server runs ("a matching implementation
    # was not found in the linker").
    printed = shlex.split(result.stderr.split("instead: ", 1)[1].strip())
    assert printed[:2] == ["wasmtime", "run"]
    initialize = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        '"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    )
    ran = subprocess.run(
        [str(find_wasmtime()), *printed[1:]], input=initialize, capture_output=True, text=True, timeout=300,
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )  # fmt: skip
    assert "not found in the linker" not in ran.stderr and "failed to instantiate" not in ran.stderr, ran.stderr
    assert "session-manager@0.1.1#initialize" in ran.stderr and "wasm trap" in ran.stderr, ran.stderr


def test_run_refuses_a_transport_that_is_not_composed(mcpkg: Mcpkg, fixtures: Path) -> None:
    """A transport alone still imports the chain and the services: nothing provides them."""
    transport = fixtures / "wasmcp-v20251125" / "stdio-transport.wasm"
    result = mcpkg("run", str(transport))
    assert result.exit_code == 1
    assert "wasmcp:mcp-v20251125/server-handler@0.1.1" in result.stderr
    assert "wasmcp:mcp-v20251125/server-io@0.1.1" in result.stderr
    assert "wasmcp:mcp-v20251125/mcp@0.1.1" not in result.stderr  # types only: needs no provider
    assert "must be composed in" in result.stderr


def test_add_of_a_capability_without_a_wrapper_says_how_to_use_it(mcpkg: Mcpkg, tmp_path: Path) -> None:
    """A component exporting only `completions`, which wasmcp publishes no wrapper for:
    `add` refuses it before touching mcpkg.toml (the chain would refuse it at lock), and
    says how to use it."""
    contract = Path(__file__).resolve().parents[2] / "contracts" / "wasmcp-mcp-v20251125-0.1.1" / "wit"
    wit = tmp_path / "wit"
    shutil.copytree(contract / "deps", wit / "deps")
    shutil.copytree(contract, wit / "deps" / "mcp", ignore=shutil.ignore_patterns("deps"))
    (wit / "world.wit").write_text(
        "package mcpkg-tests:completions-only@0.1.0;\n\n"
        "world completions-only {\n    export wasmcp:mcp-v20251125/completions@0.1.1;\n}\n"
    )
    project = tmp_path / "project"
    project.mkdir()
    build_world(wit, "completions-only", project / "completer.wasm")
    mcpkg.ok("init", "--contract", "wasmcp-v20251125", "-C", str(project))
    before = (project / "mcpkg.toml").read_bytes()
    refused = mcpkg("add", "completer", "./completer.wasm", "-C", str(project))
    assert refused.exit_code == 1, refused.stderr
    assert (
        "completer provides wasmcp:mcp-v20251125/completions@0.1.1, and wasmcp:mcp-v20251125@0.1.1 has no wrapper"
        in refused.stderr
    )
    assert "add it with --service" in refused.stderr
    assert (project / "mcpkg.toml").read_bytes() == before  # nothing written
