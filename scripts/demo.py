"""The demo behind `./scripts/demo`: every step is a real mcpkg command against a real
registry on loopback, printed as it runs: publish, sign, inspect, lock under a requiring
trust policy, compose, and run the server with the official MCP Python SDK as client.
Uses a temporary cache, config and project, so it never touches the user's own, and stops
the registry it started."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.fixtures import SERVER_PARTS  # noqa: E402
from testing.registry import running_registry  # noqa: E402
from testing.sigstore_local import GITHUB_ISSUER, LocalSigstore, github_claims, github_identity  # noqa: E402

MCPKG = str(ROOT / ".venv" / "bin" / "mcpkg")
MCP_FIXTURES = SERVER_PARTS


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(env: dict[str, str], *args: str, expect_failure: bool = False, show: bool = True) -> str:
    print(f"$ mcpkg {shlex.join(args)}", flush=True)
    result = subprocess.run([MCPKG, *args], env=env, capture_output=True, text=True)
    if show:
        sys.stdout.write(result.stdout)
        sys.stdout.write("".join(f"  | {line}\n" for line in result.stderr.splitlines()))
    sys.stdout.flush()
    if (result.returncode != 0) != expect_failure:
        if not show:
            sys.stdout.write(result.stdout + result.stderr)
        raise SystemExit(f"demo step failed (exit {result.returncode}): mcpkg {shlex.join(args)}")
    return result.stdout


async def talk(server: list[str], env: dict[str, str]) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=server[0], args=server[1:], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        print(f"initialize -> {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")
        tools = await session.list_tools()
        print("tools/list ->", [t.name for t in tools.tools])
        result = await session.call_tool("echo", {"text": "hello from mcpkg"})
        print("tools/call echo ->", [getattr(c, "text", c) for c in result.content])
        resource = await session.read_resource("mcpkg://fixtures/readme")
        print("resources/read ->", [getattr(c, "text", c) for c in resource.contents])


async def talk_wasmcp(server: list[str], env: dict[str, str]) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=server[0], args=server[1:], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        print(f"initialize -> {init.server_info.name}, protocol {init.protocol_version}")
        tools = await session.list_tools()
        print("tools/list ->", [t.name for t in tools.tools])
        result = await session.call_tool("echo", {"message": "hello from wasmcp v0.3"})
        print("tools/call echo ->", [getattr(c, "text", c) for c in result.content])


def wasmcp_v03(env: dict[str, str], home: Path, host: str, fixtures: Path) -> None:
    """The same path with wasmcp's v0.3 contract: this project's own v0.3 framework
    components published as wasmcp's are (`<registry>/wasmcp/<name>:0.3.0`), wasmcp's own
    hello-world handler, named by package name through `[namespaces] wasmcp = ...`."""
    built = fixtures / "wasmcp-v0.3"
    framework = (
        "stdio-transport",
        "request",
        "initialize-handler",
        "error-writer",
        "initialize-writer",
        "tools-writer",
    )
    step("wasmcp v0.3: publish framework components in wkg's layout, and wasmcp's hello-world handler elsewhere")
    for name in framework:
        run(env, "-q", "push", str(built / f"{name}.wasm"), f"{host}/wasmcp/{name}:0.3.0", show=False)
        run(env, "-q", "sign", f"wasmcp:{name}@0.3", "--key", str(home / "keys" / "publisher.key"), show=False)
    run(env, "-q", "push", str(built / "hello-world.wasm"), f"{host}/examples/hello-world:0.1.0", show=False)
    run(env, "-q", "sign", f"{host}/examples/hello-world:0.1.0", "--key", str(home / "keys" / "publisher.key"))
    report = run(env, "inspect", "wasmcp:request", show=False)
    print("\n".join(line for line in report.splitlines() if line.startswith(("reference", "roles"))))

    step("wasmcp v0.3: mcpkg.toml names the framework by package name; lock, tree, compose, run")
    project = home / "wasmcp-project"
    project.mkdir()
    entries = "".join(f'\n[components.{n}]\nref = "wasmcp:{n}"\nversion = "^0.3"\n' for n in framework)
    (project / "mcpkg.toml").write_text(
        '[server]\nname = "hello-wasmcp"\ntransport = "stdio-transport"\nchain = ["hello-world"]\n'
        'terminal = "initialize-handler"\n' + entries
        + f'\n[components.hello-world]\nref = "{host}/examples/hello-world"\nversion = "^0.1"\n'
        + f'\n[trust."{host}/*"]\nkeys = ["{home / "keys" / "publisher.pub"}"]\nrequire = true\n'
    )  # fmt: skip
    print((project / "mcpkg.toml").read_text())
    run(env, "lock", "-C", str(project))
    run(env, "tree", "-C", str(project))
    server = home / "wasmcp-server.wasm"
    run(env, "-q", "compose", "-C", str(project), "-o", str(server), "--locked", show=False)
    print(f"composed {server.name}: {server.stat().st_size // (1 << 20)} MiB, validated")
    asyncio.run(talk_wasmcp([MCPKG, "run", str(server)], env))


def keyless(env: dict[str, str], home: Path, host: str) -> None:
    """Keyless signing as a GitHub Actions release would do it, against a local Sigstore
    (Fulcio, CT log, Rekor) standing in for the public-good instance."""
    step("sign keylessly (Sigstore) as a CI release would; verify by the workflow's identity")
    with LocalSigstore() as sigstore:
        claims = github_claims("acme/tools", ref="refs/tags/v0.1.0")
        config = home / "config.toml"
        config.write_text(
            config.read_text()
            + f'\n[sigstore]   # a local Sigstore stands in for the public-good one\n'
            f'trusted-root = "{sigstore.trusted_root_path}"\nsigning-config = "{sigstore.signing_config_path}"\n'
        )
        token = {"SIGSTORE_IDENTITY_TOKEN": sigstore.token(claims), "NO_PROXY": "127.0.0.1,localhost"}
        run({**env, **token}, "sign", f"{host}/mcp/tools-handler:0.1.0", "--keyless")
        run(env, "verify", f"{host}/mcp/tools-handler:0.1.0", "--certificate-identity", github_identity(claims),
            "--certificate-oidc-issuer", GITHUB_ISSUER)  # fmt: skip
        config.write_text(config.read_text().split("\n[sigstore]")[0])


def main() -> int:
    fixtures = ROOT / "registry-fixtures" / "build"
    with tempfile.TemporaryDirectory(prefix="mcpkg-demo-") as tmp, running_registry() as registry:
        home = Path(tmp)
        env = dict(os.environ)
        env.update(
            MCPKG_CACHE_DIR=str(home / "cache"),
            MCPKG_CONFIG=str(home / "config.toml"),
            DOCKER_CONFIG=str(home / "docker"),
            SOURCE_DATE_EPOCH="1700000000",
            COSIGN_PASSWORD="demo-password",
        )
        (home / "config.toml").write_text(
            f'[namespaces]\nmcp = "{registry.host}/mcp"\nwasmcp = "{registry.host}/wasmcp"\n'
        )
        host = registry.host
        print(f"registry: docker-registry on http://{host} (storage {registry.root})")

        step("publish the MCP fixture components (push derives each one's role from its types)")
        for name in MCP_FIXTURES:
            run(env, "-q", "push", str(fixtures / "mcp" / f"{name}.wasm"), f"{host}/mcp/{name}:0.1.0")
        run(env, "tags", f"{host}/mcp/tools-handler")

        step("publishing the same bytes again changes nothing; a release tag never moves silently")
        run(env, "push", str(fixtures / "mcp" / "writers.wasm"), f"{host}/mcp/writers:0.1.0")
        run(env, "push", str(fixtures / "answer.wasm"), f"{host}/mcp/writers:0.1.0", expect_failure=True)

        step("sign them with a cosign-compatible key")
        run(env, "keygen", "--output-prefix", str(home / "keys" / "publisher"))
        for name in MCP_FIXTURES:
            run(env, "-q", "sign", f"mcp:{name}@0.1", "--key", str(home / "keys" / "publisher.key"), show=False)
        run(env, "verify", f"{host}/mcp/tools-handler:0.1.0", "--key", str(home / "keys" / "publisher.pub"))
        keyless(env, home, host)

        step("what is it? roles and types, read by wasmtime (cached by digest)")
        report = run(env, "inspect", "mcp:tools-handler", show=False)
        print("\n".join(report.splitlines()[:12]) + "\n  ...")
        run(env, "check", *(str(fixtures / "mcp" / f"{n}.wasm") for n in MCP_FIXTURES[:-1]),
            "--service", str(fixtures / "mcp" / "writers.wasm"), show=False)  # fmt: skip
        print("ok: these components compose")

        step("a project: mcpkg.toml with a trust policy that requires signatures, then mcpkg lock")
        project = home / "project"
        project.mkdir()
        components = "".join(f'\n[components.{n}]\nref = "mcp:{n}"\nversion = "^0.1"\n' for n in MCP_FIXTURES)
        (project / "mcpkg.toml").write_text(
            '[server]\nname = "demo"\ntransport = "stdio-transport"\n'
            'chain = ["logging-middleware", "tools-handler", "resources-handler"]\n'
            'terminal = "initialize-handler"\n' + components
            + f'\n[trust."{host}/mcp/*"]\nkeys = ["{home / "keys" / "publisher.pub"}"]\nrequire = true\n'
        )  # fmt: skip
        print((project / "mcpkg.toml").read_text())
        run(env, "lock", "-C", str(project))
        run(env, "lock", "--check", "-C", str(project))
        run(env, "tree", "-C", str(project))

        step("compose the locked set into one server with mcpkg's own composer (wasmtime validates it)")
        server = home / "server.wasm"
        started = time.monotonic()
        run(env, "compose", "-C", str(project), "-o", str(server), "--locked")
        print(f"(composed and validated in {time.monotonic() - started:.1f} s; the compile is kept for `mcpkg run`)")
        run(env, "compose", "-C", str(project), "-o", str(home / "again.wasm"), "--locked", show=False)
        same = (home / "again.wasm").read_bytes() == server.read_bytes()
        print(f"composing the same lock again gives byte-identical output: {same}")

        step("an MCP client (the official Python SDK) spawns `mcpkg run server.wasm` and talks to it over stdio")
        asyncio.run(talk([MCPKG, "run", str(server)], env))

        wasmcp_v03(env, home, host, fixtures)
    print("\ndemo finished; the registry was stopped and the temporary files removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
