from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, PLAIN_HTTP_OPTION, set_json
from mcpkg.ui import emit_json, human_size


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    @handle_errors
    def inspect_command(
        target: str = typer.Argument(..., metavar="REF|FILE", help="A .wasm file, REF or ns:name[@req]."),
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Show a component's manifest, config, annotations and its imports/exports."""
        from mcpkg.context import Context
        from mcpkg.inspect import inspect_file, inspect_reference

        set_json(json_output)
        ctx = Context.load(plain_http)
        try:
            path = Path(target)
            report = inspect_file(ctx, path) if path.exists() else inspect_reference(ctx, target)
        finally:
            ctx.close()
        if json_output:
            emit_json(report)
            return
        _render(report)


def _render(report: dict[str, Any]) -> None:
    if "reference" in report:
        print(f"reference:    {report['reference']}")
        print(f"digest:       {report['digest']}")
        print(f"media type:   {report['manifest']['mediaType']}")
    else:
        print(f"file:         {report['file']}")
    print(f"layer:        {report['layer-digest']}")
    print(f"size:         {report['size']} ({human_size(report['size'])})")
    for key, value in sorted((report.get("annotations") or {}).items()):
        print(f"annotation:   {key}={value}")
    config = report.get("config")
    if config is not None:
        component = config.get("component") or {}
        print(f"created:      {config.get('created') or '-'}")
        print(f"os:           {config.get('os') or '-'}")
        print(f"target:       {component.get('target') or '-'}")
    print("imports:")
    for name in report["imports"]:
        print(f"  {name}")
    print("exports:")
    for name in report["exports"]:
        print(f"  {name}")
    for warning in report.get("warnings", []):
        print(f"warning:      {warning}")
