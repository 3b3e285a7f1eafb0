"""`mcpkg add NAME REF|FILE [--version REQ] [--chain|--service|--transport|--terminal|--backend]
[--wire INTERFACE=COMPONENT]...`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root
from mcpkg.cli.terminal import OUT, emit_json
from mcpkg.errors import UsageError


def add_command(
    name: str = typer.Argument(
        ..., metavar="NAME", help="The component's name in mcpkg.toml (how lock, tree and --update name it)."
    ),
    ref: str = typer.Argument(
        ...,
        metavar="REF|FILE",
        help="A registry repository ([registry/]repo), a package name ns:name,"
        " or a local file (ends in .wasm, or starts with ./ ../ / ~/).",
    ),
    version: str | None = typer.Option(None, "--version", help="Version requirement (cargo syntax)."),
    chain: bool = typer.Option(False, "--chain", help="Append to the chain (the default)."),
    service: bool = typer.Option(False, "--service", help="A service, wired by interface name."),
    transport: bool = typer.Option(False, "--transport", help="Make it the transport."),
    terminal: bool = typer.Option(False, "--terminal", help="Make it the terminal."),
    backend: bool = typer.Option(
        False,
        "--backend",
        help="Make it the server's wasi:mcp backend (a whole server: `mcpkg init --contract wasi-mcp`).",
    ),
    no_wrap: bool = typer.Option(
        False, "--no-wrap", help="A capability component: add it alone, without its wrapper in the chain."
    ),
    wire: list[str] = typer.Option(
        [], "--wire", metavar="INTERFACE=COMPONENT", help="Wire an import to a service by name (repeatable)."
    ),
    project: Path | None = PROJECT_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Add a component to mcpkg.toml (comments and layout kept), then re-lock. A capability
    component (it exports tools, resources... of wasmcp's current contract) comes with an
    instance of its wrapper (tools-middleware...) in the chain, wired to it."""
    from mcpkg.ops.edit import add

    choices = (
        ("chain", chain), ("service", service), ("transport", transport), ("terminal", terminal), ("backend", backend)
    )  # fmt: skip
    flags = [position for position, chosen in choices if chosen]
    if len(flags) > 1:
        raise UsageError("choose one of --chain, --service, --transport, --terminal, --backend")
    if version is not None:
        from mcpkg.semver import Requirement

        Requirement.parse(version)
    root = project_root(project)
    with opened(plain_http=plain_http) as ctx:
        added = add(ctx, root, name, ref, version, flags[0] if flags else None, wire, wrap=not no_wrap)
    if OUT.json:
        emit_json({"added": added, "position": flags[0] if flags else "chain"})
        return
    for each in added:
        print(f"added {each}")


EXAMPLES = """\b
Examples:
  mcpkg add tools ghcr.io/me/tools --version ^0.1
  mcpkg add tools fixtures:tools --version 0.1    # a package name
  mcpkg add logger ./build/logger.wasm            # a local file (a path: ./ ../ / ~/ or .wasm)
  mcpkg add writers fixtures:writers --service
  mcpkg add notes ./notes.wasm --backend          # after `mcpkg init --contract wasi-mcp`
"""
