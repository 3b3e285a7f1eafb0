"""`mcpkg init [--transport http|stdio] [-C DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.terminal import OUT, emit_json


def init_command(
    transport: str = typer.Option("stdio", "--transport", help="http or stdio."),
    project: Path = typer.Option(Path("."), "--project", "-C", help="Where to write mcpkg.toml (created if missing)."),
) -> None:
    """Write a starter mcpkg.toml (never overwrites)."""
    from mcpkg.project.edit import init_manifest

    path = init_manifest(project, transport)
    if OUT.json:
        emit_json({"path": str(path)})
        return
    print(f"wrote {path}")


EXAMPLES = """\b
Examples:
  mcpkg init --transport stdio
  mcpkg init -C my-server
"""
