"""Component types from wasmtime, role classification and compatibility checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcpkg.cache import Cache, hash_file
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.contracts import classify, contract_mismatches, contracts, own_contract
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel
from testing.witbuild import build_world
from tests.conftest import ROOT, Mcpkg

WORLDS = sorted(name for name, world in own_contract().worlds.items() if world.exports)  # role worlds


@pytest.fixture(scope="session")
def models(roles_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentModel]:
    cache = Cache(tmp_path_factory.mktemp("cache"))
    result = {}
    for path in sorted(roles_dir.glob("*.wasm")):
        digest, _ = hash_file(path)
        result[path.stem] = component_model(path, digest, cache, path.name)
    return result


@pytest.mark.parametrize("world", WORLDS)
def test_each_role_world_classifies_as_itself_first(models: dict[str, ComponentModel], world: str) -> None:
    roles = [r.world for r in classify(models[world])]
    # prompts/completion handlers have identical contracts: either may come first
    twins = {"prompts-handler", "completion-handler"}
    assert roles[0] == world or (world in twins and roles[0] in twins), roles


def test_classification_details(models: dict[str, ComponentModel], fixtures: Path, tmp_path: Path) -> None:
    assert next(r.world for r in classify(models["middleware"])) == "middleware"
    assert [r.world for r in classify(models["writers"])] == [
        "writers",
        *(w for w, _ in own_contract().roles if w.endswith("-writer-service")),
    ]
    assert classify(models["tools-handler"])[0].position == "chain"
    assert classify(models["initialize-handler"])[0].position == "terminal"
    assert classify(models["http-transport"])[0].position == "transport"
    cache = Cache(tmp_path)
    for name in ("greeter", "logger", "answer"):
        path = fixtures / f"{name}.wasm"
        digest, _ = hash_file(path)
        assert classify(component_model(path, digest, cache, name)) == []
    # a component against an incompatible contract version fits nothing
    assert classify(models["tools-handler-v1"]) == []
    # a bad chain signature fits no chain world
    assert classify(models["middleware-bad-signature"]) == []
    # the older WASI patch release still fits its role
    assert classify(models["stdio-transport-wasi-0.2.3"])[0].world == "stdio-transport"


def test_compatible_chain(models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("log", models["middleware"]), ("tools", models["tools-handler"]), ("res", models["resources-handler"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"])],
    )
    assert report.ok, [str(p) for p in report.problems]
    assert report.wiring.chain_interface == "mcpkg:mcp/incoming-handler@0.1.0"
    assert report.wiring.links[("stdio", "mcpkg:mcp/incoming-handler@0.1.0")][0] == "log"
    assert report.wiring.links[("res", "mcpkg:mcp/incoming-handler@0.1.0")][0] == "init"
    assert report.wiring.links[("tools", "mcpkg:mcp/tools-writer@0.1.0")] == ("writers", "mcpkg:mcp/tools-writer@0.1.0")
    assert "wasi:io/streams@0.2.9" in report.wiring.host_imports


def test_wasi_patch_versions_are_compatible(models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("stdio-0.2.3", models["stdio-transport-wasi-0.2.3"]),
        [("tools", models["tools-handler"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"])],
    )
    assert report.ok, [str(p) for p in report.problems]
    assert {"wasi:io/streams@0.2.3", "wasi:io/streams@0.2.9"} <= set(report.wiring.host_imports)


def test_broken_signature_is_reported_precisely(models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("bad", models["middleware-bad-signature"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"])],
    )
    texts = [str(p) for p in report.problems]
    assert (
        "stdio <- bad, interface mcpkg:mcp/incoming-handler@0.1.0, function handle, parameter request: "
        "parameter types differ (expected record { id: option<string>, method: string, params: option<string>, "
        "capabilities: flags { tools, resources, prompts, completions, logging } }, found string)"
    ) in texts
    assert any(t.startswith("bad <- init, interface mcpkg:mcp/incoming-handler@0.1.0, function handle") for t in texts)


def test_missing_export_and_unsatisfied_import(models: dict[str, ComponentModel]) -> None:
    # a terminal in the middle of the chain exports but imports no chain; writers missing
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("init-in-chain", models["initialize-handler"]), ("writers-in-chain", models["writers"])],
        ("init", models["initialize-handler"]),
    )
    texts = [str(p) for p in report.problems]
    assert (
        "init-in-chain, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must import the chain interface"
        in texts
    )
    assert (
        "writers-in-chain, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must export the chain interface"
        in texts
    )
    assert (
        "init, interface mcpkg:mcp/initialize-writer@0.1.0: import is not satisfied by any service and is not a "
        "host interface"
    ) in texts


def test_incompatible_contract_version(models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("v1", models["tools-handler-v1"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"])],
    )
    texts = [str(p) for p in report.problems]
    assert "v1, interface mcpkg:mcp/incoming-handler@0.1.0: a chain member must import the chain interface" in texts
    assert (
        "v1, interface mcpkg:mcp/incoming-handler@1.0.0: import is not satisfied by any service and is not a "
        "host interface" in texts
    )
    parts = [("stdio", models["stdio-transport"]), ("v1", models["tools-handler-v1"])]
    parts += [("init", models["initialize-handler"]), ("writers", models["writers"])]
    assert contract_mismatches(parts) == [
        "incompatible contract versions: init, stdio, writers are built against mcpkg:mcp@0.1.0; "
        "v1 is built against mcpkg:mcp@1.0.0"
    ]
    assert contract_mismatches([("stdio", models["stdio-transport"]), ("init", models["initialize-handler"])]) == []


def test_check_names_roles_and_contract_versions(mcpkg: Mcpkg, roles_dir: Path) -> None:
    ok = mcpkg.ok("check", str(roles_dir / "stdio-transport.wasm"), str(roles_dir / "tools-handler.wasm"),
                  str(roles_dir / "initialize-handler.wasm"), "--service", str(roles_dir / "writers.wasm"))  # fmt: skip
    assert "  tools-handler.wasm: tools-handler (mcpkg:mcp@0.1.0, chain)" in ok.stdout
    parts = [str(roles_dir / f"{n}.wasm") for n in ("stdio-transport", "tools-handler-v1", "initialize-handler")]
    bad = mcpkg("check", *parts, "--service", str(roles_dir / "writers.wasm"), "--json")
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)["error"]["details"]
    assert data["contract-mismatches"] == [
        "incompatible contract versions: initialize-handler.wasm, stdio-transport.wasm, writers.wasm are built "
        "against mcpkg:mcp@0.1.0; tools-handler-v1.wasm is built against mcpkg:mcp@1.0.0"
    ]
    assert data["roles"]["tools-handler-v1.wasm"] == "no role of a known contract"


def test_ambiguous_services(models: dict[str, ComponentModel]) -> None:
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("tools", models["tools-handler"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"]), ("tools-writer", models["tools-writer-service"])],
    )
    assert any("ambiguous: several services export this interface: writers, tools-writer" in str(p)
               for p in report.problems)  # fmt: skip


def test_no_chain_interface(models: dict[str, ComponentModel]) -> None:
    report = check_chain(("stdio", models["stdio-transport"]), [], ("writers", models["writers"]))
    assert len(report.problems) == 1 and "no chain interface" in str(report.problems[0])


def test_check_command(mcpkg: Mcpkg, roles_dir: Path) -> None:
    files = [
        str(roles_dir / f"{n}.wasm") for n in ("http-transport", "middleware", "tools-handler", "initialize-handler")
    ]
    ok = mcpkg.ok("check", *files, "--service", str(roles_dir / "writers.wasm"), "--json").json()
    assert ok["ok"] and ok["chain-interface"] == "mcpkg:mcp/incoming-handler@0.1.0"
    bad = mcpkg("check", files[0], str(roles_dir / "middleware-bad-signature.wasm"), files[-1], "--service",
                str(roles_dir / "writers.wasm"))  # fmt: skip
    assert bad.exit_code == 1
    assert "function handle, parameter request: parameter types differ" in bad.stdout
    assert "do not compose" in bad.stderr
    assert mcpkg("check", files[0]).exit_code == 2


def _wit_interfaces(text: str) -> dict[str, set[str]]:
    """Interface -> function names, from `wasm-tools component wit`-style text."""
    import re

    result: dict[str, set[str]] = {}
    package = current = None
    for line in text.splitlines():
        if m := re.match(r"^package ([^ ;]+) \{", line):
            package = m.group(1)
        elif m := re.match(r"^  interface ([\w-]+) \{", line):
            current = f"{package}:{m.group(1)}"
            result[current] = set()
        elif current and (m := re.match(r"^\s+(%?[\w-]+): (static )?func", line)):
            result[current].add(m.group(1).lstrip("%"))
        elif current and re.match(r"^\s+constructor\(", line):
            result[current].add("constructor")
    return result


@pytest.mark.parametrize("world", ["stdio-transport", "tools-handler", "writers", "http-transport"])
def test_inspect_wit_matches_wasm_tools(mcpkg: Mcpkg, roles_dir: Path, world: str) -> None:
    path = roles_dir / f"{world}.wasm"
    ours = mcpkg.ok("inspect", str(path), "--wit").stdout
    theirs = subprocess.run(
        [str(Path(sys.executable).parent / "wasm-tools"), "component", "wit", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert _wit_interfaces(ours) == _wit_interfaces(theirs)
    assert sorted(
        line.strip() for line in ours.splitlines() if line.strip().startswith(("import ", "export "))
    ) == sorted(line.strip() for line in theirs.splitlines() if line.strip().startswith(("import ", "export ")))


def test_warm_inspect_does_not_compile(mcpkg: Mcpkg, roles_dir: Path) -> None:
    path = roles_dir / "tools-handler.wasm"
    code = (
        "import sys\nfrom mcpkg.cli.app import app\n"
        "try:\n    app(['inspect', sys.argv[1], '--json'])\nexcept SystemExit:\n    pass\n"
        "print('WASMTIME' if 'wasmtime' in sys.modules else 'NO-WASMTIME', file=sys.stderr)\n"
    )
    env = {**os.environ, **{k: v for k, v in mcpkg.env.items() if v is not None}}
    cold = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True)
    assert cold.stderr.strip().endswith("WASMTIME") and "NO-" not in cold.stderr.splitlines()[-1]
    warm = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True)
    assert warm.stderr.splitlines()[-1] == "NO-WASMTIME"
    assert json.loads(warm.stdout)["roles"][0]["world"] == "tools-handler"


def test_push_derives_target(mcpkg: Mcpkg, roles_dir: Path, repo: str) -> None:
    mcpkg.ok("push", str(roles_dir / "tools-handler.wasm"), f"{repo}:0.1.0")
    inspected = mcpkg.ok("inspect", f"{repo}:0.1.0", "--json").json()
    assert inspected["config"]["component"]["target"] == "mcpkg:mcp/tools-handler@0.1.0"
    mcpkg.ok("push", str(roles_dir / "writers.wasm"), f"{repo}:0.2.0", "--target", "example:custom/world@1.0.0")
    assert mcpkg.ok("inspect", f"{repo}:0.2.0", "--json").json()["config"]["component"]["target"] == (
        "example:custom/world@1.0.0"
    )


def test_contract_data_is_up_to_date() -> None:
    script = ROOT / "scripts" / "gen_contracts.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


WASMCP_V03 = ROOT / "contracts" / "wasmcp-mcp-0.3.0" / "wit"
REQUEST_SERVICE = """
package test:svc;
world request-service { export wasmcp:mcp/request@0.3.0; }
world tools-writer-one { export wasmcp:mcp/tools-list-result@0.3.0; }
"""


@pytest.fixture(scope="session")
def wasmcp_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentModel]:
    """A component for every role world of the real wasmcp v0.3 contract, and services
    that have no world in it (the `request` service, a single-interface writer)."""
    out = tmp_path_factory.mktemp("wasmcp")
    cache = Cache(out / "cache")
    (v03,) = (c for c in contracts() if c.package == "wasmcp:mcp@0.3.0")
    models = {}
    for world, _ in v03.roles:
        build_world(WASMCP_V03, world, out / f"{world}.wasm")
    svc = out / "svc-wit"
    (svc / "deps").mkdir(parents=True)
    for dep in (WASMCP_V03 / "deps").iterdir():
        (svc / "deps" / dep.name).symlink_to(dep)
    (svc / "deps" / "mcp").mkdir()
    for wit in WASMCP_V03.glob("*.wit"):
        (svc / "deps" / "mcp" / wit.name).symlink_to(wit)
    (svc / "svc.wit").write_text(REQUEST_SERVICE)
    for world in ("request-service", "tools-writer-one"):
        build_world(svc, world, out / f"{world}.wasm")
    for path in sorted(out.glob("*.wasm")):
        digest, _ = hash_file(path)
        models[path.stem] = component_model(path, digest, cache, path.name)
    return models


def test_every_wasmcp_v03_role_world_classifies_as_itself(wasmcp_models: dict[str, ComponentModel]) -> None:
    (v03,) = (c for c in contracts() if c.package == "wasmcp:mcp@0.3.0")
    twins = {"prompts-handler", "completion-handler"}
    for world, position in v03.roles:
        first = classify(wasmcp_models[world])[0]
        assert first.contract == "wasmcp:mcp@0.3.0" and first.position == position, (world, first)
        assert first.world == world or {world, first.world} <= twins, (world, first)
        assert first.target == f"wasmcp:mcp/{first.world}@0.3.0"
    assert str(classify(wasmcp_models["tools-handler"])[0]) == "tools-handler (wasmcp:mcp@0.3.0, chain)"


def test_wasmcp_services_are_known_by_the_interfaces_they_export(wasmcp_models: dict[str, ComponentModel]) -> None:
    request = classify(wasmcp_models["request-service"])
    assert [str(r) for r in request] == ["request service (wasmcp:mcp@0.3.0)"]
    assert request[0].world is None and request[0].position == "service"
    writer = [str(r) for r in classify(wasmcp_models["tools-writer-one"])]
    assert writer == ["tools-list-result writer (wasmcp:mcp@0.3.0)"]
    labels = [str(r) for r in classify(wasmcp_models["error-writer"])]
    assert labels == ["error-writer (wasmcp:mcp@0.3.0, service)", "error-result writer (wasmcp:mcp@0.3.0)"]


def test_wasmcps_own_hello_world_handler(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    """wasmcp's Python hello-world, built by componentize-py on the real v0.3 contract:
    classified, and `push` records its contract role as the config's `target`."""
    report = mcpkg.ok("inspect", str(fixtures / "wasmcp-v0.3" / "hello-world.wasm"), "--json").json()
    first = report["roles"][0]
    assert (first["role"], first["contract"], first["position"]) == ("tools-handler", "wasmcp:mcp@0.3.0", "chain")
    assert first["target"] == "wasmcp:mcp/tools-handler@0.3.0"
    text = mcpkg.ok("inspect", str(fixtures / "wasmcp-v0.3" / "hello-world.wasm")).stdout
    assert "roles:        tools-handler (wasmcp:mcp@0.3.0, chain)" in text
    mcpkg.ok("push", str(fixtures / "wasmcp-v0.3" / "hello-world.wasm"), f"{repo}:0.3.0")
    pushed = mcpkg.ok("inspect", f"{repo}:0.3.0", "--json").json()
    assert pushed["config"]["component"]["target"] == "wasmcp:mcp/tools-handler@0.3.0"


def test_the_current_wasmcp_generation_has_its_role_worlds(tmp_path: Path) -> None:
    (current,) = (c for c in contracts() if c.package.startswith("wasmcp:mcp-v20251125@"))
    assert current.chain == "wasmcp:mcp-v20251125/server-handler@0.1.1"
    assert dict(current.roles) == {
        "transport": "transport",
        "stdio-transport": "transport",
        "http-transport": "transport",
        "server-transport": "transport",
        "tools-middleware": "chain",
        "resources-middleware": "chain",
        "prompts-middleware": "chain",
        "server-middleware": "chain",
        "method-not-found": "terminal",
    }
    cache = Cache(tmp_path / "cache")
    wit = ROOT / "contracts" / "wasmcp-mcp-v20251125-0.1.1" / "wit"
    build_world(wit, "server-middleware", tmp_path / "mw.wasm")
    digest, _ = hash_file(tmp_path / "mw.wasm")
    roles = classify(component_model(tmp_path / "mw.wasm", digest, cache, "mw"))
    assert str(roles[0]) == "server-middleware (wasmcp:mcp-v20251125@0.1.1, chain)"


CYCLE_WIT = """
package cyc:svc@0.1.0;
interface x { ping: func() -> u32; }
interface y { pong: func() -> u32; }
world a { import y; export x; }
world b { import x; export y; }
world user { import x; export mcpkg-dummy: func(); }
"""


def test_service_cycle_is_an_error(models: dict[str, ComponentModel], tmp_path: Path) -> None:
    wit = tmp_path / "wit"
    wit.mkdir()
    (wit / "cyc.wit").write_text(CYCLE_WIT)
    cache = Cache(tmp_path / "cache")
    loaded = {}
    for world in ("a", "b"):
        path = build_world(wit, world, tmp_path / f"{world}.wasm")
        digest, _ = hash_file(path)
        loaded[world] = component_model(path, digest, cache, world)
    report = check_chain(
        ("stdio", models["stdio-transport"]),
        [("tools", models["tools-handler"])],
        ("init", models["initialize-handler"]),
        [("writers", models["writers"]), ("svc-a", loaded["a"]), ("svc-b", loaded["b"])],
    )
    assert any("services import each other in a cycle: svc-a -> svc-b -> svc-a" in str(p) for p in report.problems)
