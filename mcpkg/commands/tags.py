from __future__ import annotations

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, PLAIN_HTTP_OPTION, set_json
from mcpkg.ui import emit_json


def register(app: typer.Typer) -> None:
    @app.command("tags")
    @handle_errors
    def tags_command(
        repository: str = typer.Argument(..., metavar="REPO", help="[registry/]repo or ns:name."),
        all_tags: bool = typer.Option(False, "--all", help="Include signature tags (sha256-...)."),
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """List every tag of a repository (all pages), semver-sorted."""
        from mcpkg.context import Context
        from mcpkg.errors import UsageError
        from mcpkg.resolve import parse_target
        from mcpkg.semver import sort_tags

        set_json(json_output)
        ctx = Context.load(plain_http)
        ref, requirement = parse_target(repository, ctx.config)
        if ref.tag or ref.digest or requirement:
            raise UsageError(f"`tags` takes a repository, not {repository}", f"try: mcpkg tags {ref.location}")
        try:
            tags = ctx.client(ref.registry).list_tags(ref.repository)
        finally:
            ctx.close()
        shown = sort_tags(t for t in tags if all_tags or not t.startswith("sha256-"))
        if json_output:
            emit_json({"repository": ref.location, "tags": shown})
            return
        for tag in shown:
            print(tag)
