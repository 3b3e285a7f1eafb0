"""`mcpkg remove NAME`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root
from mcpkg.cli.terminal import OUT, emit_json


def remove_command(
    name: str = typer.Argument(..., metavar="NAME", help="The component's name in mcpkg.toml."),
    project: Path | None = PROJECT_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Remove a component from mcpkg.toml (comments and layout kept), then re-lock."""
    from mcpkg.ops.edit import remove

    root = project_root(project)
    with opened(plain_http=plain_http) as ctx:
        remove(ctx, root, name)
    if OUT.json:
        emit_json({"removed": name})
        return
    print(f"removed {name}")


EXAMPLES = """\b
Examples:
  mcpkg remove tools
"""
