"""The wasi:mcp contract (docs/wasi-mcp.md) in inspect, check, push, lock, compose and run:
real componentize-py backends and the dummies refused as backends (no entry point;
another wasi:mcp version). Nothing here compiles a backend: refusals come first."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Mcpkg

TARGET = "wasi:mcp/mcp-backend-preview2@0.1.0-preview2"


def test_inspect_names_the_backend_role(mcpkg: Mcpkg, fixtures: Path) -> None:
    report = mcpkg.ok("inspect", str(fixtures / "wasi-mcp" / "tools-backend.wasm"), "--json").json()
    role = report["roles"][0]
    assert (role["role"], role["world"], role["position"], role["contract"], role["target"]) == (
        "wasi:mcp backend",
        "mcp-backend-preview2",
        "backend",
        "wasi:mcp@0.1.0-preview2",
        TARGET,
    )
    assert report["backend"] == {"hostable": True, "entry": "wasi:cli/run@0.2.3", "problems": [], "needs": []}
    text = mcpkg.ok("inspect", str(fixtures / "broken" / "backend-no-run.wasm")).stdout
    assert "roles:        wasi:mcp backend (wasi:mcp@0.1.0-preview2, backend)" in text
    assert "not hostable" in text and "does not export wasi:cli/run@0.2.x" in text


def test_check_a_backend(mcpkg: Mcpkg, fixtures: Path) -> None:
    good = mcpkg.ok("check", str(fixtures / "wasi-mcp" / "content-backend.wasm"))
    assert "wasi:mcp backend (wasi:mcp@0.1.0-preview2, backend)" in good.stdout
    assert "ok: a wasi:mcp backend mcpkg can host" in good.stdout
    no_run = mcpkg("check", str(fixtures / "broken" / "backend-no-run.wasm"))
    assert no_run.exit_code == 1 and "needs an entry point" in no_run.stdout
    other = mcpkg("check", str(fixtures / "broken" / "backend-other-version.wasm"), "--json")
    assert other.exit_code == 1
    assert "built against wasi:mcp@0.2.0-preview2; mcpkg hosts wasi:mcp@0.1.0-preview2" in other.stdout
    alongside = mcpkg(
        "check", str(fixtures / "wasi-mcp" / "tools-backend.wasm"), str(fixtures / "mcp" / "initialize-handler.wasm")
    )
    assert alongside.exit_code == 2 and "a backend is a whole server" in alongside.stderr


def test_push_refuses_a_backend_it_could_not_host(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    pushed = mcpkg.ok("push", str(fixtures / "wasi-mcp" / "content-backend.wasm"), f"{repo}:1.0.0")
    assert f"target:       {TARGET} (wasi:mcp backend)" in pushed.stdout
    other = fixtures / "broken" / "backend-other-version.wasm"
    refused = mcpkg("push", str(other), f"{repo}:0.1.0")
    assert refused.exit_code == 1
    assert "wasi:mcp@0.2.0-preview2" in refused.stderr and "wasi:mcp@0.1.0-preview2" in refused.stderr
    mcpkg.ok("push", str(other), f"{repo}:0.1.0", "--target", "example:other/backend@0.2.0")  # said what it is
    mcpkg.ok("push", str(fixtures / "broken" / "backend-no-run.wasm"), f"{repo}:0.2.0", "--target", "x:y/z@1.0.0")


def test_run_refuses_before_compiling(mcpkg: Mcpkg, fixtures: Path) -> None:
    for name, expected in (("backend-no-run", "needs an entry point"), ("backend-other-version", "0.2.0-preview2")):
        result = mcpkg("run", str(fixtures / "broken" / f"{name}.wasm"), input="")
        assert result.exit_code == 1 and expected in result.stderr
        assert not (mcpkg.cache / "compiled").exists()


def test_run_bounds_are_checked_and_only_for_a_backend(mcpkg: Mcpkg, fixtures: Path) -> None:
    """Bad `--timeout`, `--max-memory` and `--max-message` values are usage errors before
    anything runs; on a server mcpkg does not host (a command, like a composed server),
    bounds are a usage error too, never silently ignored."""
    backend = str(fixtures / "wasi-mcp" / "hostile-backend.wasm")
    for args, expected in (
        (("--max-memory", "12X"), "--max-memory '12X' is not a size"),
        (("--max-memory", "8G"), "over 4G"),
        (("--timeout", "-3"), "--timeout '-3' is not a number of seconds"),
        (("--max-message", "0"), "--max-message cannot be 0"),
    ):
        result = mcpkg("run", backend, *args, input="")
        assert result.exit_code == 2 and expected in result.stderr, result.stderr
    command = mcpkg("run", str(fixtures / "probe.wasm"), "--timeout", "5", input="")
    assert command.exit_code == 2 and "is a composed server" in command.stderr
    assert not (mcpkg.cache / "compiled").exists()


def test_a_backend_project(mcpkg: Mcpkg, fixtures: Path, tmp_path: Path) -> None:
    """`[server] backend`: locked with position `backend`, checked against the contract,
    composed to the backend itself; a backend without entry point gets no lock."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "tools.wasm").write_bytes((fixtures / "wasi-mcp" / "tools-backend.wasm").read_bytes())
    (project / "no-run.wasm").write_bytes((fixtures / "broken" / "backend-no-run.wasm").read_bytes())
    manifest = '[server]\nname = "tools"\nbackend = "tools"\n\n[components.tools]\npath = "{}"\n'
    (project / "mcpkg.toml").write_text(manifest.format("no-run.wasm"))
    refused = mcpkg("lock", "-C", str(project))
    assert refused.exit_code == 1 and "needs an entry point" in refused.stderr
    assert not (project / "mcpkg.lock").exists()

    (project / "mcpkg.toml").write_text(manifest.format("tools.wasm"))
    mcpkg.ok("lock", "-C", str(project))
    lock = (project / "mcpkg.lock").read_text()
    assert '[server]\nname = "tools"\nbackend = "tools"\n\n[[component]]' in lock
    assert 'position = "backend"' in lock
    mcpkg.ok("lock", "-C", str(project), "--check")
    tree = mcpkg.ok("tree", "-C", str(project))
    assert "tools (tools.wasm): a wasi:mcp backend" in tree.stdout
    composed = mcpkg.ok("compose", "-C", str(project), "-o", str(tmp_path / "server.wasm"), "--locked")
    assert composed.exit_code == 0
    assert (tmp_path / "server.wasm").read_bytes() == (project / "tools.wasm").read_bytes()

    (project / "mcpkg.toml").write_text(manifest.format("tools.wasm") + '\n[components.extra]\npath = "no-run.wasm"\n')
    extra = mcpkg("lock", "-C", str(project))
    assert extra.exit_code != 0 and "a wasi:mcp backend is a whole server" in extra.stderr
    (project / "mcpkg.toml").write_text(
        manifest.format("tools.wasm").replace("[server]\n", '[server]\ntransport = "x"\n')
    )
    both = mcpkg("lock", "-C", str(project))
    assert both.exit_code != 0 and "has no transport, chain or terminal" in both.stderr
