from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, PLAIN_HTTP_OPTION, set_json
from mcpkg.ui import emit_json, human_size, note


def register(app: typer.Typer) -> None:
    @app.command("pull")
    @handle_errors
    def pull_command(
        reference: str = typer.Argument(
            ..., metavar="REF", help="REF ([registry/]repo[:tag][@digest]) or ns:name[@req]."
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="Also write the .wasm here."),
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Download a component into the verified cache (and optionally to a file)."""
        from mcpkg.context import Context
        from mcpkg.pull import pull

        set_json(json_output)
        ctx = Context.load(plain_http)
        try:
            result = pull(ctx, reference, output)
        finally:
            ctx.close()
        if json_output:
            emit_json(result.to_json())
            return
        note("pulled from cache" if result.from_cache else "pulled and verified")
        print(f"reference:    {result.reference.with_digest(None)}")
        print(f"digest:       {result.reference.digest}")
        print(f"layer:        {result.manifest.layer.digest}")
        print(f"size:         {result.manifest.layer.size} ({human_size(result.manifest.layer.size)})")
        print(f"signature:    {result.signature}")
        declared = result.declared
        if declared is not None:
            print("declared by the publisher (verify with `mcpkg inspect`):")
            print(f"  target:     {declared.target or '-'}")
            for name in declared.imports:
                print(f"  import      {name}")
            for name in declared.exports:
                print(f"  export      {name}")
        if result.output:
            print(f"written to:   {result.output}")
