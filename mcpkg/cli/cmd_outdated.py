"""`mcpkg outdated`."""

from __future__ import annotations

from pathlib import Path

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root
from mcpkg.cli.terminal import emit_json


def outdated_command(
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Newer versions per component: the newest matching the requirement, and the latest."""
    from mcpkg.ops.insight import outdated

    with opened(json_output, plain_http) as ctx:
        rows = outdated(ctx, project_root(project))
    if json_output:
        emit_json({"components": rows})
        return
    print(f"{'component':<24} {'locked':<12} {'matching':<12} latest")
    for row in rows:
        print(f"{row['name']:<24} {row['locked'] or '-':<12} {row['matching'] or '-':<12} {row['latest'] or '-'}")


EXAMPLES = """\b
Examples:
  mcpkg outdated
  mcpkg outdated --json
"""
