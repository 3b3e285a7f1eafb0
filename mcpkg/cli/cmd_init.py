"""`mcpkg init [--transport http|stdio] [--contract C] [-C DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.terminal import OUT, emit_json


def init_command(
    transport: str = typer.Option("stdio", "--transport", help="http or stdio."),
    contract: str = typer.Option(
        "wasmcp-v0.3",
        "--contract",
        help="The framework to start from: wasmcp-v0.3 (wasmcp:mcp@0.3.0, the default), "
        "wasmcp-v20251125 (the current generation), mcpkg (this project's own contract), wasi-mcp (a server "
        "that is one wasi:mcp backend), or a contract's package.",
    ),
    project: Path = typer.Option(Path("."), "--project", "-C", help="Where to write mcpkg.toml (created if missing)."),
) -> None:
    """Write a starter mcpkg.toml for a contract's framework (never overwrites)."""
    from mcpkg.ops.edit import init

    path = init(project, transport, contract)
    if OUT.json:
        emit_json({"path": str(path)})
        return
    print(f"wrote {path}")


EXAMPLES = """\b
Examples:
  mcpkg init --transport stdio
  mcpkg init --contract wasmcp-v20251125 -C my-server
  mcpkg init --contract wasi-mcp -C notes          # then: mcpkg add notes ./notes.wasm --backend
"""
