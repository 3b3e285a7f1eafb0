"""`mcpkg tags REPO [--all]`."""

from __future__ import annotations

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json


def tags_command(
    repository: str = typer.Argument(
        ..., metavar="REPO", help="A repository: [registry/]repo or a package name ns:name."
    ),
    all_tags: bool = typer.Option(False, "--all", help="Include signature tags (sha256-...)."),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """List every tag of a repository (all pages), semver-sorted."""
    from mcpkg.ops.resolve import repository_tags

    with opened(json_output, plain_http) as ctx:
        location, shown = repository_tags(ctx, repository, include_signatures=all_tags)
    if json_output:
        emit_json({"repository": location, "tags": shown})
        return
    for tag in shown:
        print(tag)


EXAMPLES = """\b
Examples:
  mcpkg tags ghcr.io/me/tools
  mcpkg tags fixtures:tools --all                 # with cosign signature tags
"""
