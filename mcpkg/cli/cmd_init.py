"""`mcpkg init [--transport http|stdio] [-C DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer


def init_command(
    transport: str = typer.Option("stdio", "--transport", help="http or stdio."),
    project: Path = typer.Option(Path("."), "--project", "-C", help="Where to write mcpkg.toml (created if missing)."),
) -> None:
    """Write a starter mcpkg.toml (never overwrites)."""
    from mcpkg.project.edit import init_manifest

    path = init_manifest(project, transport)
    print(f"wrote {path}")
