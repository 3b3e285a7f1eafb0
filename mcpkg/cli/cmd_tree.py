"""`mcpkg tree`."""

from __future__ import annotations

from pathlib import Path

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root
from mcpkg.cli.terminal import emit_json


def tree_command(
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """The locked server: transport -> chain -> terminal, services, and the wiring."""
    from mcpkg.ops.insight import tree

    with opened(json_output, plain_http) as ctx:
        data, text = tree(ctx, project_root(project))
    if json_output:
        emit_json(data)
    else:
        print(text, end="")


EXAMPLES = """\b
Examples:
  mcpkg tree
  mcpkg tree -C my-server --json
"""
