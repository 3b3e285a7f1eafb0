"""The current wasmcp generation through mcpkg, from a registry: the framework published
as `wasmcp/<name>:0.1.0` and signed; a project that names it by package name
(`wasmcp:transport` through `[namespaces]`); `mcpkg add` of two tools capability
components, each of which brings its own `tools-middleware` instance wired to it; lock
under a requiring trust policy, compose, and the MCP SDK talking to `mcpkg run`: the
tools of both capabilities listed, one of each called. Then the same server from the
capability components alone, in one command."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from testing.registry import Registry
from testing.wasmcp_current import COUNTER_TOOLS, STRINGS_TOOLS
from tests.conftest import Mcpkg
from tests.e2e.conftest import env_of
from tests.e2e.test_fixture_proof import run

FRAMEWORK = {  # package name -> fixture
    "transport": "stdio-transport",
    "server-io": "server-io",
    "session-store": "session-store",
    "kv-store": "kv-store",
    "authorization": "authorization",
    "method-not-found": "method-not-found",
    "tools-middleware": "tools-middleware",
}

PROJECT = """\
[server]
name = "two-tools"
transport = "transport"
chain = []
terminal = "method-not-found"

[components.transport]
ref = "wasmcp:transport"
version = "^0.1"

[components.method-not-found]
ref = "wasmcp:method-not-found"
version = "^0.1"

[components.server-io]
ref = "wasmcp:server-io"
version = "^0.1"

[components.session-store]
ref = "wasmcp:session-store"
version = "^0.1"

[components.kv-store]
ref = "wasmcp:kv-store"
version = "^0.1"

[components.authorization]
ref = "wasmcp:authorization"
version = "^0.1"
"""


@dataclass
class Framework:
    runner: Mcpkg
    work: Path  # the user's directory: strings.wasm and counter.wasm


@pytest.fixture(scope="module")
def framework(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Framework:
    home = tmp_path_factory.mktemp("wasmcp-current")
    publisher = Mcpkg(home / "publisher")
    password = {"COSIGN_PASSWORD": "current"}
    publisher.ok("keygen", "--output-prefix", str(home / "keys" / "wasmcp"), env=password)
    built = fixtures / "wasmcp-v20251125"
    for package, fixture in FRAMEWORK.items():
        ref = f"{registry.host}/wasmcp/{package}:0.1.0"
        publisher.ok("push", str(built / f"{fixture}.wasm"), ref)
        publisher.ok("sign", ref, "--key", str(home / "keys" / "wasmcp.key"), env=password)
    user = Mcpkg(home / "user")
    user.write_config(
        f'[namespaces]\nwasmcp = "{registry.host}/wasmcp"\n\n'
        f'[trust."{registry.host}/wasmcp/*"]\nkeys = ["{home / "keys" / "wasmcp.pub"}"]\nrequire = true\n'
    )
    work = home / "work"
    work.mkdir()
    shutil.copy(built / "strings-py.wasm", work / "strings.wasm")
    shutil.copy(built / "counter-tools.wasm", work / "counter.wasm")
    return Framework(user, work)


def test_add_wraps_each_capability_and_the_server_answers(framework: Framework, tmp_path: Path) -> None:
    user, project = framework.runner, tmp_path / "project"
    project.mkdir()
    for name in ("strings", "counter"):
        shutil.copy(framework.work / f"{name}.wasm", project / f"{name}.wasm")
    (project / "mcpkg.toml").write_text(PROJECT)
    added = user.ok("add", "strings", "strings.wasm", "-C", str(project))
    assert added.stdout.splitlines() == ["added strings", "added strings-tools"]
    user.ok("add", "counter", "counter.wasm", "-C", str(project))
    manifest = (project / "mcpkg.toml").read_text()
    assert 'chain = ["strings-tools", "counter-tools"]' in manifest
    assert '[components.strings-tools]\nref = "wasmcp:tools-middleware"\nversion = "^0.1.0"' in manifest
    assert '[components.strings-tools.wire]\n"wasmcp:mcp-v20251125/tools" = "strings"' in manifest
    assert '[components.counter-tools.wire]\n"wasmcp:mcp-v20251125/tools" = "counter"' in manifest
    lock = (project / "mcpkg.lock").read_text()
    assert 'wire = { "wasmcp:mcp-v20251125/tools" = "counter" }' in lock
    assert lock.count('reference = "127.0.0.1:') == 8 and "signatures = []" not in lock  # all signed, verified
    tree = user.ok("tree", "-C", str(project)).stdout
    assert "wasmcp:mcp-v20251125/tools@0.1.1 <- strings (wired)" in tree
    assert "wasmcp:mcp-v20251125/tools@0.1.1 <- counter (wired)" in tree
    server = tmp_path / "server.wasm"
    user.ok("compose", "-C", str(project), "-o", str(server), "--locked")

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcpkg", "run", "--compiler", "winch", str(server)], env=env_of(user)
        )
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                assert sorted(t.name for t in listed.tools) == sorted([*STRINGS_TOOLS, *COUNTER_TOOLS])
                reversed_ = await session.call_tool("reverse", {"text": "mcpkg"})
                assert isinstance(reversed_.content[0], mcp_types.TextContent)
                assert reversed_.content[0].text == "gkpcm"
                added = await session.call_tool("add", {"a": 40, "b": 2})
                assert isinstance(added.content[0], mcp_types.TextContent) and added.content[0].text == "42"

    run(main)
    # --no-wrap adds a capability component alone (a service nothing uses yet)
    shutil.copy(framework.work / "strings.wasm", project / "spare.wasm")
    alone = user.ok("add", "spare", "spare.wasm", "--no-wrap", "--service", "-C", str(project))
    assert alone.stdout.splitlines() == ["added spare"]


def test_one_command_wraps_each_capability(framework: Framework, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(framework.work)
    made = framework.runner.ok(
        "compose", "strings.wasm", "counter.wasm", "--transport", "stdio", "-o", "server.wasm", "--json"
    ).json()
    assert made["contract"] == "wasmcp:mcp-v20251125@0.1.1"
    plan = {p["name"]: p for p in made["plan"]}
    assert [p["name"] for p in made["plan"] if p["position"] == "chain"] == ["strings-tools", "counter-tools"]
    assert plan["strings-tools"]["wires"] == {"wasmcp:mcp-v20251125/tools": "strings"}
    assert plan["counter-tools"]["wires"] == {"wasmcp:mcp-v20251125/tools": "counter"}
    assert plan["strings"]["position"] == plan["counter"]["position"] == "service"
    framework_parts = sorted(p["source"] for p in made["plan"] if p["framework"])
    assert framework_parts == sorted([*(f"wasmcp:{name}" for name in FRAMEWORK), "wasmcp:tools-middleware"])
    assert Path("server.wasm").stat().st_size == made["size"]


def test_one_command_names_tagged_references_after_their_repository(
    framework: Framework, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compose <reg>/acme/calculator:1.0.0 ... --save` names the parts `calculator` and
    `almanac` (and their wrappers after them), never after the tag or digest."""
    user = framework.runner
    calculator = f"{registry.host}/acme/calculator:1.0.0"
    almanac = f"{registry.host}/acme/almanac:1.0.0"
    user.ok("push", str(framework.work / "strings.wasm"), calculator)
    digest = user.ok("push", str(framework.work / "counter.wasm"), almanac, "--json").json()["digest"]
    project = framework.work / "tagged"
    project.mkdir()
    monkeypatch.chdir(project)
    made = user.ok(
        "compose", calculator, f"{almanac}@{digest}", "--transport", "stdio", "--save", "-o", "server.wasm", "--json"
    ).json()
    names = [p["name"] for p in made["plan"]]
    assert {"calculator", "almanac", "calculator-tools", "almanac-tools"} <= set(names), names
    assert not [n for n in names if n[0].isdigit() or "sha256" in n]
    manifest = (project / "mcpkg.toml").read_text()
    assert "[components.calculator]" in manifest and "[components.almanac]" in manifest
    assert "1-0-0" not in manifest


def test_one_command_with_a_part_that_needs_more_than_wasi_p2(
    framework: Framework, fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wasmcp's real kv-store imports `wasi:keyvalue` (here its `embed --dummy` stand-in):
    the plan and the composed, validated server come out; `mcpkg run` refuses it before
    compiling, naming the imports and the wasmtime command that provides them."""
    monkeypatch.chdir(framework.work)
    real_kv = fixtures / "wasmcp-v20251125" / "kv-store-wasi-keyvalue.wasm"
    made = framework.runner.ok(
        "compose", "strings.wasm", "-t", "stdio", "--with", f"kv-store={real_kv}", "-o", "kv.wasm", "--json"
    ).json()
    kv = next(p for p in made["plan"] if p["source"] == str(real_kv))
    assert kv["position"] == "service" and kv["framework"] is False
    assert any(name.startswith("wasi:keyvalue/store@0.2.0-draft") for name in made["imports"])
    compiled = framework.runner.cache / "compiled"
    before = sorted(compiled.glob("*.cwasm")) if compiled.is_dir() else []
    refused = framework.runner("run", "kv.wasm")
    assert refused.exit_code == 1 and "wasi:keyvalue/store@0.2.0-draft" in refused.stderr
    assert "wasmtime run -S keyvalue" in refused.stderr
    assert (sorted(compiled.glob("*.cwasm")) if compiled.is_dir() else []) == before  # refused before compiling
