"""The current wasmcp generation through mcpkg, from a registry: the framework published
as `wasmcp/<name>:0.1.0` and signed; a project that names it by package name
(`wasmcp:transport` through `[namespaces]`); `mcpkg add` of two tools capability
components, each of which brings its own `tools-middleware` instance wired to it; lock
under a requiring trust policy, compose, and the MCP SDK talking to `mcpkg run`: the
tools of both capabilities listed, one of each called. Then the same server from the
capability components alone, in one command. Then the other capability kinds, each behind
its wrapper from the registry (`resources-middleware`, `prompts-middleware`): a resources
capability alone and a prompts capability alone, one command each; and one server of
every kind (two tools capabilities, resources, prompts, and a chain middleware answering
`completion/complete`) made with `mcpkg add`."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import mcp_types
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from testing.registry import Registry
from testing.wasmcp_current import (
    COUNTER_TOOLS,
    GREET_LANGUAGES,
    NOTES_RESOURCES,
    NOTES_TEMPLATES,
    STDIO_FRAMEWORK,
    STRINGS_TOOLS,
    WRITING_PROMPTS,
)
from tests.conftest import Mcpkg
from tests.e2e.conftest import env_of
from tests.e2e.test_fixture_proof import run
from tests.e2e.wasmcp_framework import publish_framework

FRAMEWORK = STDIO_FRAMEWORK  # package name -> fixture
KIND_WRAPPERS = {  # published too: the wrappers of the other capability kinds
    "resources-middleware": "resources-middleware",
    "prompts-middleware": "prompts-middleware",
}
USER_PARTS = {  # the user's components (in `work`) -> fixture
    "strings": "strings-py",
    "counter": "counter-tools",
    "notes": "notes-resources",
    "writing": "writing-prompts",
    "completer": "greet-completions",
}
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

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
    work: Path  # the user's directory: strings.wasm, counter.wasm, notes.wasm... (USER_PARTS)


@pytest.fixture(scope="module")
def framework(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Framework:
    home = tmp_path_factory.mktemp("wasmcp-current")
    user = publish_framework(registry, fixtures, home, {**FRAMEWORK, **KIND_WRAPPERS})
    built = fixtures / "wasmcp-v20251125"
    work = home / "work"
    work.mkdir()
    for name, fixture in USER_PARTS.items():
        shutil.copy(built / f"{fixture}.wasm", work / f"{name}.wasm")
    return Framework(user, work)


@asynccontextmanager
async def serve(runner: Mcpkg, server: Path, errlog: Path) -> AsyncIterator[ClientSession]:
    """The MCP SDK's client session with `mcpkg run --compiler winch server`."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpkg", "run", "--compiler", "winch", str(server)], env=env_of(runner)
    )
    with errlog.open("w") as log:
        async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as session:
            yield session


def text_of(content: object) -> str:
    assert isinstance(content, mcp_types.TextContent), content
    return content.text


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
    # the first run said it compiles, about how long, and how to do it ahead of time
    said = (tmp_path / "stderr.log").read_text()
    assert "compiling server.wasm (first run only) with winch, about " in said, said
    assert "mcpkg compose --precompile --compiler winch" in said
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


def test_http_asked_of_a_stdio_only_transport_is_refused(framework: Framework, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--transport http` (also the default) never gives a stdio server: the registry's
    transport serves stdio only, so the command fails saying what it serves."""
    monkeypatch.chdir(framework.work)
    for args in ((), ("--transport", "http")):
        refused = framework.runner("compose", "strings.wasm", *args, "-o", "http.wasm")
        assert refused.exit_code == 1, refused.stderr
        assert "--transport http, but no release of wasmcp:transport" in refused.stderr
        assert "serves stdio only (wasi:cli/run@0.2.8)" in refused.stderr and "--transport stdio" in refused.stderr
        assert not Path("http.wasm").exists()
    # a transport the user gives serves what it serves; asked for the other kind, refused
    transport = framework.runner.cache.parent / "stdio-transport.wasm"
    framework.runner.ok("pull", "wasmcp:transport", "-o", str(transport))
    given = framework.runner(
        "compose", "strings.wasm", "--with", f"transport={transport}", "-t", "http", "-o", "x.wasm"
    )
    assert given.exit_code == 1 and "serves stdio only" in given.stderr and not Path("x.wasm").exists()


def test_plan_text_shows_wiring_and_quiet_hides_it(framework: Framework, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(framework.work)
    made = framework.runner.ok("compose", "strings.wasm", "counter.wasm", "-t", "stdio", "-o", "plan.wasm")
    out = made.stdout
    assert "wired: wasmcp:mcp-v20251125/tools <- strings" in out
    assert "wired: wasmcp:mcp-v20251125/tools <- counter" in out
    # the first run's compile, said beforehand with both ways to make it shorter
    assert "the first `mcpkg run` compiles it: about" in made.stderr
    assert "--compiler winch" in made.stderr and "--precompile" in made.stderr
    quiet = framework.runner.ok("-q", "compose", "strings.wasm", "counter.wasm", "-t", "stdio", "-o", "plan.wasm")
    assert "server of" not in quiet.stdout and "wired:" not in quiet.stdout and "strings-tools" not in quiet.stdout
    assert quiet.stdout.startswith("wrote ") and quiet.stderr == ""


def test_locked_compose_lists_only_what_the_host_provides(framework: Framework, tmp_path: Path) -> None:
    """Interfaces of types alone (`wasmcp:auth/types`, the contract's `mcp`) are not
    "imports the host must provide" (as `tree` does not list them); a note names them."""
    project = tmp_path / "types"
    project.mkdir()
    shutil.copy(framework.work / "strings.wasm", project / "strings.wasm")
    (project / "mcpkg.toml").write_text(PROJECT)
    framework.runner.ok("add", "strings", "strings.wasm", "-C", str(project))
    made = framework.runner.ok("compose", "-C", str(project), "--locked", "-o", str(project / "s.wasm"))
    host = made.stdout.split("imports the host must provide:\n", 1)[1].split("exports:", 1)[0].split()
    assert host and all(name.startswith("wasi:") for name in host), host
    assert "imports of types alone (nothing to provide): " in made.stderr
    assert "wasmcp:auth/types@0.1.1" in made.stderr and "wasmcp:mcp-v20251125/mcp@0.1.1" in made.stderr
    data = framework.runner.ok("compose", "-C", str(project), "--locked", "-o", str(project / "s.wasm"), "--json")
    assert "wasmcp:auth/types@0.1.1" in data.json()["type-imports"]
    assert not [n for n in data.json()["imports"] if not n.startswith("wasi:")]


def test_ambiguous_wiring_names_the_importer_and_the_wire_that_fixes_it(
    framework: Framework, fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two key-value stores: the session store's import is ambiguous. The error names the
    importer and both providers, not the server or a wrapper, and the hint is the `wire`
    entry; written, it fixes the lock. The one-command form says how to get a mcpkg.toml."""
    user = framework.runner
    project = tmp_path / "ambiguous"
    project.mkdir()
    shutil.copy(framework.work / "strings.wasm", project / "strings.wasm")
    shutil.copy(fixtures / "wasmcp-v20251125" / "kv-store.wasm", project / "kv.wasm")
    (project / "mcpkg.toml").write_text(PROJECT + '\n[components.kv-spare]\npath = "kv.wasm"\n')
    failed = user("add", "strings", "strings.wasm", "-C", str(project))
    assert failed.exit_code == 1, failed.stderr
    assert "session-store" in failed.stderr and "kv-spare, kv-store" in failed.stderr
    assert "strings-tools cannot compose" not in failed.stderr
    assert '[components.session-store.wire] "wasmcp:keyvalue/store" = "kv-spare"' in failed.stderr
    assert '[components.session-store.wire] "wasmcp:keyvalue/store" = "kv-store"' in failed.stderr
    assert not (project / "mcpkg.lock").exists()
    # the hint's entries, written as it says (every importer of the interface named)
    manifest = (project / "mcpkg.toml").read_text()
    wire = 'wire = { "wasmcp:keyvalue/store" = "kv-spare" }'
    importers = re.findall(r'\[components\.([a-z-]+)\.wire\] "wasmcp:keyvalue/store" = "kv-spare"', failed.stderr)
    assert "session-store" in importers
    for importer in importers:
        manifest = manifest.replace(f"[components.{importer}]\n", f"[components.{importer}]\n{wire}\n")
    (project / "mcpkg.toml").write_text(manifest)
    user.ok("lock", "-C", str(project))
    assert 'wire = { "wasmcp:keyvalue/store" = "kv-spare" }' in (project / "mcpkg.lock").read_text()
    # one command: the same ambiguity, and the way to a mcpkg.toml to wire it in
    one = tmp_path / "one"
    one.mkdir()
    for name in ("kv.wasm", "strings.wasm"):
        shutil.copy(project / name, one / name)
    shutil.copy(project / "kv.wasm", one / "kv2.wasm")
    args = ("compose", "strings.wasm", "kv.wasm", "kv2.wasm", "-t", "stdio", "-o", str(one / "s.wasm"))
    monkeypatch.chdir(one)
    refused = user(*args)
    assert refused.exit_code == 1 and '"wasmcp:keyvalue/store" = "kv"' in refused.stderr
    assert "--save" in refused.stderr and not (one / "mcpkg.toml").exists()
    saved = user(*args, "--save")
    assert saved.exit_code == 1 and (one / "mcpkg.toml").exists() and not (one / "mcpkg.lock").exists()
    assert "the plan is kept in" in saved.stderr


def test_offline_one_command_from_the_cache(
    framework: Framework, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the framework cached (and its signatures verified and kept), COMPONENT
    arguments compose with --offline: tags and signatures come from the cache, and the
    bytes are those of the online command. A user whose cache lacks it is told so."""
    monkeypatch.chdir(framework.work)
    framework.runner.ok("compose", "strings.wasm", "-t", "stdio", "-o", "online.wasm")
    framework.runner.ok("compose", "strings.wasm", "-t", "stdio", "-o", "offline.wasm", "--offline")
    assert Path("online.wasm").read_bytes() == Path("offline.wasm").read_bytes()
    stranger = Mcpkg(tmp_path / "stranger")
    stranger.write_config(framework.runner.config.read_text())
    refused = stranger("compose", "strings.wasm", "-t", "stdio", "-o", "never.wasm", "--offline")
    assert refused.exit_code == 1 and "--offline" in refused.stderr and "cache" in refused.stderr
    assert not Path("never.wasm").exists()


def test_one_command_resources_capability(
    framework: Framework, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resources capability alone, published and composed by reference: wrapped by
    `wasmcp:resources-middleware` from the registry; the SDK lists its resources and
    templates and reads a note and a template."""
    monkeypatch.chdir(framework.work)
    ref = f"{registry.host}/acme/notes:1.0.0"
    framework.runner.ok("push", "notes.wasm", ref)
    made = framework.runner.ok("compose", ref, "--transport", "stdio", "-o", "notes-server.wasm", "--json")
    plan = {p["name"]: p for p in made.json()["plan"]}
    assert plan["notes-resources"]["source"] == "wasmcp:resources-middleware"
    assert plan["notes-resources"]["wires"] == {"wasmcp:mcp-v20251125/resources": "notes"}
    assert plan["notes"]["position"] == "service" and "wasmcp:tools-middleware" not in {
        p["source"] for p in plan.values()
    }

    async def main() -> None:
        server, log = framework.work / "notes-server.wasm", framework.work / "notes.log"
        async with serve(framework.runner, server, log) as client:
            initialized = await client.initialize()
            caps = initialized.capabilities
            assert caps.resources is not None and caps.tools is None and caps.prompts is None
            listed = await client.list_resources()
            assert [(r.name, r.uri, r.mime_type) for r in listed.resources] == [
                (name, uri, mime) for name, (uri, mime, _) in NOTES_RESOURCES.items()
            ]
            readme = NOTES_RESOURCES["readme"]
            assert listed.resources[0].size == len(readme[2].encode())
            templates = await client.list_resource_templates()
            assert {t.name: t.uri_template for t in templates.resource_templates} == NOTES_TEMPLATES
            assert templates.resource_templates[0].mime_type == "text/plain"
            read = await client.read_resource(readme[0])
            (contents,) = read.contents
            assert isinstance(contents, mcp_types.TextResourceContents)
            assert (contents.uri, contents.mime_type, contents.text) == readme
            shouted = await client.read_resource("notes://mcpkg/shout/wasm")
            assert isinstance(shouted.contents[0], mcp_types.TextResourceContents)
            assert shouted.contents[0].text == "WASM"
            with pytest.raises(MCPError) as unknown:
                await client.read_resource("notes://elsewhere")
            assert unknown.value.code == INVALID_PARAMS
            assert unknown.value.message == "Unknown resource URI: notes://elsewhere"
            with pytest.raises(MCPError) as no_prompts:
                await client.list_prompts()
            assert no_prompts.value.code == METHOD_NOT_FOUND
            # a `ref/resource` completion is parsed (not -32600) and passed down to the terminal
            shout = mcp_types.ResourceTemplateReference(uri=NOTES_TEMPLATES["shout"])
            with pytest.raises(MCPError) as completion:
                await client.complete(shout, {"name": "word", "value": "w"})
            assert (completion.value.code, completion.value.message) == (
                METHOD_NOT_FOUND,
                "Method not found: completion/complete",
            )

    run(main)


def test_one_command_prompts_capability(
    framework: Framework, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prompts capability alone, published and composed by reference: wrapped by
    `wasmcp:prompts-middleware` from the registry; the SDK lists its prompts and gets one
    with arguments. With no chain member answering `completion/complete`, server-io parses
    it and the terminal answers method-not-found."""
    monkeypatch.chdir(framework.work)
    ref = f"{registry.host}/acme/writing:1.0.0"
    framework.runner.ok("push", "writing.wasm", ref)
    made = framework.runner.ok("compose", ref, "--transport", "stdio", "-o", "writing-server.wasm", "--json")
    plan = {p["name"]: p for p in made.json()["plan"]}
    assert plan["writing-prompts"]["source"] == "wasmcp:prompts-middleware"
    assert plan["writing-prompts"]["wires"] == {"wasmcp:mcp-v20251125/prompts": "writing"}

    async def main() -> None:
        server, log = framework.work / "writing-server.wasm", framework.work / "writing.log"
        async with serve(framework.runner, server, log) as client:
            initialized = await client.initialize()
            caps = initialized.capabilities
            assert caps.prompts is not None and caps.completions is None
            assert caps.tools is None and caps.resources is None
            listed = await client.list_prompts()
            assert {p.name: [a.name for a in p.arguments or []] for p in listed.prompts} == WRITING_PROMPTS
            greet = listed.prompts[0]
            assert [a.required for a in greet.arguments or []] == [True, False]
            got = await client.get_prompt("greet", {"name": "Ada", "language": "fr"})
            (message,) = got.messages
            assert message.role == "user"
            assert text_of(message.content) == "Write a short, friendly greeting for Ada in French."
            assert got.description == "A short, friendly greeting for someone"
            with pytest.raises(MCPError) as missing:
                await client.get_prompt("greet", {"language": "de"})
            assert (missing.value.code, missing.value.message) == (INVALID_PARAMS, "greet needs the argument name")
            with pytest.raises(MCPError) as unknown:
                await client.get_prompt("no-such-prompt")
            assert (unknown.value.code, unknown.value.message) == (INVALID_PARAMS, "Unknown prompt: no-such-prompt")
            with pytest.raises(MCPError) as completion:
                await client.complete(mcp_types.PromptReference(name="greet"), {"name": "language", "value": "f"})
            assert completion.value.code == METHOD_NOT_FOUND
            assert completion.value.message == "Method not found: completion/complete"

    run(main)


def test_every_kind_in_one_server(framework: Framework, tmp_path: Path) -> None:
    """Two tools capabilities, a resources and a prompts capability (each `mcpkg add`ed,
    each bringing its wrapper from the registry) and a chain middleware answering
    `completion/complete`: initialize advertises every kind; each answers."""
    user, project = framework.runner, tmp_path / "project"
    project.mkdir()
    (project / "mcpkg.toml").write_text(PROJECT)
    for name in USER_PARTS:
        shutil.copy(framework.work / f"{name}.wasm", project / f"{name}.wasm")
    assert user.ok("add", "notes", "notes.wasm", "-C", str(project)).stdout.splitlines() == [
        "added notes",
        "added notes-resources",
    ]
    assert user.ok("add", "writing", "writing.wasm", "-C", str(project)).stdout.splitlines() == [
        "added writing",
        "added writing-prompts",
    ]
    for name in ("strings", "counter", "completer"):
        user.ok("add", name, f"{name}.wasm", "-C", str(project))
    manifest = (project / "mcpkg.toml").read_text()
    chain = '["notes-resources", "writing-prompts", "strings-tools", "counter-tools", "completer"]'
    assert f"chain = {chain}" in manifest
    assert '[components.notes-resources]\nref = "wasmcp:resources-middleware"\nversion = "^0.1.0"' in manifest
    assert '[components.writing-prompts.wire]\n"wasmcp:mcp-v20251125/prompts" = "writing"' in manifest
    server = tmp_path / "every-kind.wasm"
    user.ok("compose", "-C", str(project), "-o", str(server), "--locked")

    async def main() -> None:
        async with serve(user, server, tmp_path / "stderr.log") as client:
            initialized = await client.initialize()
            caps = initialized.capabilities
            assert caps.tools is not None and caps.resources is not None and caps.prompts is not None
            assert caps.completions is not None  # the transport's probe of greet's first argument was answered
            tools = await client.list_tools()
            assert sorted(t.name for t in tools.tools) == sorted([*STRINGS_TOOLS, *COUNTER_TOOLS])
            assert text_of((await client.call_tool("reverse", {"text": "kinds"})).content[0]) == "sdnik"
            assert text_of((await client.call_tool("add", {"a": 2, "b": 3})).content[0]) == "5"
            resources = await client.list_resources()
            assert [r.name for r in resources.resources] == list(NOTES_RESOURCES)
            uri, mime, text = NOTES_RESOURCES["contract"]
            (contents,) = (await client.read_resource(uri)).contents
            assert isinstance(contents, mcp_types.TextResourceContents)
            assert (contents.mime_type, contents.text) == (mime, text)
            prompts = await client.list_prompts()
            assert [p.name for p in prompts.prompts] == list(WRITING_PROMPTS)
            got = await client.get_prompt("summarize", {"text": "Wasm components compose.", "sentences": "1"})
            assert text_of(got.messages[0].content) == (
                "Summarize the following text in 1 sentences:\n\nWasm components compose."
            )
            greet = mcp_types.PromptReference(name="greet")
            completed = await client.complete(greet, {"name": "language", "value": "f"})
            assert (completed.completion.values, completed.completion.total) == (["fr"], 1)
            assert completed.completion.has_more is False
            every = await client.complete(greet, {"name": "language", "value": ""})
            assert every.completion.values == GREET_LANGUAGES
            with pytest.raises(MCPError) as other:
                await client.complete(mcp_types.PromptReference(name="summarize"), {"name": "text", "value": ""})
            assert other.value.code == METHOD_NOT_FOUND

    run(main)
