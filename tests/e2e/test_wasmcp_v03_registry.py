"""A wasmcp v0.3 server from a registry to answers, through mcpkg.

This project's own v0.3 framework components are published in wkg's layout
(`<registry>/wasmcp/<name>:0.3.0`, so `wasmcp:<name>` resolves through `[namespaces]`),
wasmcp's hello-world handler and a resources handler elsewhere; all are signed. A tools
server and a resources server name them by package name in `mcpkg.toml`, lock under a
requiring trust policy and compose; the MCP SDK talks to `mcpkg run server.wasm` (stdio)
and to the tools server's HTTP build under `wasmtime serve`. `check`, `tree` and
`outdated` work on the same project. A server mixing WASI 0.2.3 (an `embed --dummy`
writer) with componentize-py's 0.2.9 composes and validates with one import per semver
group."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from testing.registry import Registry
from tests.conftest import Mcpkg
from tests.e2e.conftest import env_of
from tests.e2e.servers import HttpServer, Wasmtime, compile_server, serving
from tests.e2e.test_fixture_proof import http_session, run
from tests.e2e.test_wasmcp_fixture_proof import check_resources

FRAMEWORK = ("stdio-transport", "http-transport", "request", "initialize-handler")
WRITERS = ("error-writer", "initialize-writer", "tools-writer", "resources-writer")
# handler -> where it is published (not under wasmcp/)
HANDLERS = {"hello-world": "examples/hello-world", "resources-handler": "examples/readme-resources"}
PASSWORD = {"COSIGN_PASSWORD": "wasmcp"}


@dataclass(frozen=True)
class V03:
    runner: Mcpkg
    host: str
    key: Path
    root: Path
    tools: Path  # the stdio tools server's project
    tools_server: Path
    tools_http_server: Path
    resources_server: Path


def project(
    root: Path, host: str, key: Path, transport: str, handlers: tuple[str, ...], writers: tuple[str, ...]
) -> Path:
    """An mcpkg.toml naming the framework by package name (`wasmcp:<name>`, `^0.3`)."""
    root.mkdir(parents=True)
    framework = [transport, "request", "initialize-handler", *writers]
    entries = "".join(f'\n[components.{n}]\nref = "wasmcp:{n}"\nversion = "^0.3"\n' for n in framework)
    entries += "".join(f'\n[components.{h}]\nref = "{host}/{HANDLERS[h]}"\nversion = "^0.1"\n' for h in handlers)
    chain = ", ".join(f'"{h}"' for h in handlers)
    (root / "mcpkg.toml").write_text(
        f'[server]\nname = "wasmcp-{handlers[0]}"\ntransport = "{transport}"\nchain = [{chain}]\n'
        f'terminal = "initialize-handler"\n{entries}\n'
        f'[trust."{host}/*"]\nkeys = ["{key}"]\nrequire = true\n'
    )
    return root


@pytest.fixture(scope="session")
def v03(registry: Registry, fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> V03:
    root = tmp_path_factory.mktemp("wasmcp-v03")
    runner = Mcpkg(root / "home")
    runner.config.write_text(f'[namespaces]\nwasmcp = "{registry.host}/wasmcp"\n')
    runner.ok("keygen", "--output-prefix", str(root / "keys" / "pub"), env=PASSWORD)
    built = fixtures / "wasmcp-v0.3"
    published = {f"wasmcp/{name}:0.3.0": name for name in (*FRAMEWORK, *WRITERS)}
    published.update({f"{where}:0.1.0": name for name, where in HANDLERS.items()})
    for target, name in published.items():
        runner.ok("push", str(built / f"{name}.wasm"), f"{registry.host}/{target}")
        runner.ok("sign", f"{registry.host}/{target}", "--key", str(root / "keys" / "pub.key"), env=PASSWORD)
    key = root / "keys" / "pub.pub"
    tools_writers = ("error-writer", "initialize-writer", "tools-writer")
    tools = project(root / "tools", registry.host, key, "stdio-transport", ("hello-world",), tools_writers)
    runner.ok("lock", "-C", str(tools))
    runner.ok("compose", "-C", str(tools), "-o", str(root / "tools.wasm"), "--locked")
    # over HTTP, one server with both handlers: the tools and the resources conversations
    both = (*tools_writers, "resources-writer")
    http = project(
        root / "tools-http", registry.host, key, "http-transport", ("hello-world", "resources-handler"), both
    )
    runner.ok("lock", "-C", str(http))
    runner.ok("compose", "-C", str(http), "-o", str(root / "tools-http.wasm"), "--locked")
    resources_writers = ("error-writer", "initialize-writer", "resources-writer")
    resources = project(
        root / "resources", registry.host, key, "stdio-transport", ("resources-handler",), resources_writers
    )
    runner.ok("lock", "-C", str(resources))
    runner.ok("compose", "-C", str(resources), "-o", str(root / "resources.wasm"), "--locked")
    return V03(
        runner, registry.host, key, root, tools, root / "tools.wasm", root / "tools-http.wasm", root / "resources.wasm"
    )


@asynccontextmanager
async def mcpkg_run(v03: V03, server: Path, errlog: object) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpkg", "run", str(server)], env=env_of(v03.runner)
    )
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:  # type: ignore[arg-type]
        yield session


async def tools_conversation(session: ClientSession, with_resources: bool = False) -> None:
    initialized = await session.initialize()
    assert initialized.protocol_version == "2025-06-18"
    assert initialized.capabilities.tools is not None
    assert (initialized.capabilities.resources is not None) is with_resources
    listed = await session.list_tools()
    assert [tool.name for tool in listed.tools] == ["echo"]
    called = await session.call_tool("echo", {"message": "from a registry"})
    assert called.is_error is False
    assert [getattr(c, "text", None) for c in called.content] == ["Echo: from a registry"]


def test_stdio_tools_server(v03: V03, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with mcpkg_run(v03, v03.tools_server, errlog) as session:
                await tools_conversation(session)

    run(main)


@pytest.fixture(scope="session")
def v03_http(
    v03: V03, wasmtime_cli: Wasmtime, compiled_servers: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HttpServer]:
    server = compile_server(wasmtime_cli, v03.tools_http_server, compiled_servers)
    with serving(wasmtime_cli, server, tmp_path_factory.mktemp("wasmcp-v03-serve")) as running:
        yield running


def test_http_tools_and_resources_server(v03_http: HttpServer) -> None:
    async def main() -> None:
        async with http_session(v03_http) as session:
            await tools_conversation(session, with_resources=True)
            await check_resources(session)

    run(main)


def test_stdio_resources_server(v03: V03, tmp_path: Path) -> None:
    async def main() -> None:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with mcpkg_run(v03, v03.resources_server, errlog) as session:
                initialized = await session.initialize()
                assert initialized.capabilities.resources is not None
                assert initialized.capabilities.tools is None
                await check_resources(session)

    run(main)


def test_check_tree_outdated_on_a_v03_project(v03: V03, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(v03.tools)
    checked = v03.runner.ok("check")
    assert "every locked component verifies, and the chain composes" in checked.stdout
    locked = v03.runner.ok("lock")  # up to date: names each part's contract and role
    assert "tools-handler (wasmcp:mcp@0.3.0, chain)" in locked.stdout
    assert "request service (wasmcp:mcp@0.3.0)" in locked.stdout
    assert "stdio-transport (wasmcp:mcp@0.3.0, transport)" in locked.stdout
    tree = json.loads(v03.runner.ok("tree", "--json").stdout)
    text = json.dumps(tree)
    assert "wasmcp:mcp/incoming-handler@0.3.0" in text
    assert "wasmcp:mcp/request@0.3.0" in text
    outdated = v03.runner.ok("outdated")
    assert "stdio-transport" in outdated.stdout
    assert "0.3.0" in outdated.stdout


def test_mixed_wasi_versions_compose_with_one_import_per_semver_group(
    v03: V03, fixtures: Path, wasm_tools: str, tmp_path: Path
) -> None:
    """An error writer made like a Rust build's (WASI 0.2.3: `embed --dummy` of the
    contract's `error-writer` world) beside componentize-py builds (WASI 0.2.9): the
    `output-stream` each passes is one resource type, the server imports each WASI
    interface once, at 0.2.9, and answers while the dummy (which traps) is never called."""
    core = tmp_path / "error-writer.core.wasm"
    dummy = tmp_path / "error-writer.wasm"
    wit = Path(__file__).resolve().parents[2] / "contracts" / "wasmcp-mcp-0.3.0" / "wit"
    subprocess.run(
        [wasm_tools, "component", "embed", "--dummy", str(wit), "-w", "error-writer", "-o", str(core)], check=True
    )
    subprocess.run([wasm_tools, "component", "new", str(core), "-o", str(dummy)], check=True)
    project = tmp_path / "mixed"
    project.mkdir()
    built = fixtures / "wasmcp-v0.3"
    names = ("stdio-transport", "hello-world", "initialize-handler", "request", "initialize-writer", "tools-writer")
    entries = "".join(f'\n[components.{n}]\npath = "{built / n}.wasm"\n' for n in names)
    (project / "mcpkg.toml").write_text(
        '[server]\nname = "mixed"\ntransport = "stdio-transport"\nchain = ["hello-world"]\n'
        f'terminal = "initialize-handler"\n{entries}\n[components.error-writer]\npath = "{dummy}"\n'
    )
    v03.runner.ok("lock", "-C", str(project))
    server = tmp_path / "mixed.wasm"
    composed = json.loads(v03.runner.ok("compose", "-C", str(project), "-o", str(server), "--json").stdout)
    io = [name for name in composed["imports"] if name.startswith("wasi:io/")]
    assert io == ["wasi:io/error@0.2.9", "wasi:io/poll@0.2.9", "wasi:io/streams@0.2.9"]
    subprocess.run([wasm_tools, "validate", str(server)], check=True)
    wit_text = subprocess.run(
        [wasm_tools, "component", "wit", str(server)], check=True, capture_output=True, text=True
    ).stdout
    assert "import wasi:io/streams@0.2.9;" in wit_text and "wasi:io/streams@0.2.3" not in wit_text

    lines = [
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},'
        '"clientInfo":{"name":"t","version":"1"}}}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"mixed"}}}',
    ]
    done = subprocess.run(
        [sys.executable, "-m", "mcpkg", "run", "--compiler", "winch", str(server)],  # the quicker compile
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=env_of(v03.runner), timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer["id"] for answer in answers] == [1, 2]
    assert answers[1]["result"]["content"] == [{"type": "text", "text": "Echo: mixed"}]


def test_one_command_from_wasmcps_hello_world(
    v03: V03, fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty directory, a config with only `[namespaces] wasmcp = ...`, wasmcp's own
    hello-world handler: `mcpkg compose hello.wasm --transport stdio` takes the v0.3
    framework from the registry, and the server answers the MCP SDK through `mcpkg run`."""
    user = Mcpkg(tmp_path / "home")
    user.config.write_text(f'[namespaces]\nwasmcp = "{v03.host}/wasmcp"\n')
    work = tmp_path / "empty"
    work.mkdir()
    (work / "hello.wasm").write_bytes((fixtures / "wasmcp-v0.3" / "hello-world.wasm").read_bytes())
    monkeypatch.chdir(work)
    made = user.ok("compose", "hello.wasm", "--transport", "stdio", "-o", "server.wasm", "--json").json()
    assert made["contract"] == "wasmcp:mcp@0.3.0"
    positions = {p["name"]: (p["position"], p["source"], p["version"]) for p in made["plan"]}
    assert positions["hello"][:2] == ("chain", str(work / "hello.wasm"))
    assert positions["stdio-transport"] == ("transport", "wasmcp:stdio-transport", "=0.3.0")
    assert positions["initialize-handler"] == ("terminal", "wasmcp:initialize-handler", "=0.3.0")
    services = {name for name, (position, _, _) in positions.items() if position == "service"}
    assert {"request", "error-writer", "tools-writer"} <= services

    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "mcpkg", "run", "--compiler", "winch", "server.wasm"],
            env=env_of(user),
        )
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await tools_conversation(session)

    run(main)
