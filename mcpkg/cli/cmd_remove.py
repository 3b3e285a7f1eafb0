"""`mcpkg remove NAME`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root


def remove_command(
    name: str = typer.Argument(..., metavar="NAME"),
    project: Path | None = PROJECT_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Remove a component from mcpkg.toml (comments and layout kept), then re-lock."""
    from mcpkg.ops.edit import remove

    root = project_root(project)
    with opened(plain_http=plain_http) as ctx:
        remove(ctx, root, name)
    print(f"removed {name}")
