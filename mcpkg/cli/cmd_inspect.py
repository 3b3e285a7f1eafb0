"""`mcpkg inspect REF|FILE [--wit]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened, set_json
from mcpkg.cli.terminal import emit_json, human_size


def inspect_command(
    target: str = typer.Argument(
        ...,
        metavar="REF|FILE",
        help="A file (ends in .wasm, or starts with ./ ../ / ~/),"
        " a registry reference [registry/]repo[:tag][@digest], or a package name ns:name[@requirement].",
    ),
    wit: bool = typer.Option(False, "--wit", help="Print the imports and exports as WIT text."),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Show a component's manifest, config, roles and full import/export types."""
    from mcpkg.infile import looks_like_path

    if looks_like_path(target):
        from mcpkg.cache import Cache
        from mcpkg.ops.describe import describe_file

        set_json(json_output)
        report, wit_text = describe_file(Cache.default(), Path(target).expanduser(), with_wit=wit)
    else:
        from mcpkg.ops.inspect import inspect_target

        with opened(json_output, plain_http) as ctx:
            report, wit_text = inspect_target(ctx, target, with_wit=wit)
    if wit_text is not None:
        if json_output:
            emit_json({**report, "wit": wit_text})
        else:
            print(wit_text, end="")
        return
    if json_output:
        emit_json(report)
        return
    render_report(report)


def render_report(report: dict[str, Any]) -> None:
    if "reference" in report:
        print(f"reference:    {report['reference']}")
        print(f"digest:       {report['digest']}")
        print(f"media type:   {report['manifest']['mediaType']}")
    else:
        print(f"file:         {report['file']}")
    print(f"layer:        {report['layer-digest']}")
    print(f"size:         {report['size']} ({human_size(report['size'])})")
    shared = report.get("shared-modules")
    if shared:
        print(
            f"shared:       {shared['modules']} core modules ({human_size(shared['bytes'])}) defined once, "
            f"aliased {shared['aliases']} times by {shared['components']} nested components"
        )
    for key, value in sorted((report.get("annotations") or {}).items()):
        print(f"annotation:   {key}={value}")
    config = report.get("config")
    if config is not None:
        component = config.get("component") or {}
        print(f"created:      {config.get('created') or '-'}")
        print(f"os:           {config.get('os') or '-'}")
        print(f"target:       {component.get('target') or '-'}")
    roles = [_role_text(r) for r in report["roles"]] or ["none of the MCP contracts mcpkg knows"]
    print(f"roles:        {roles[0]}")
    for role in roles[1:]:
        print(f"              {role}")
    backend = report.get("backend")
    if backend is not None:
        if backend["hostable"]:
            run = " ".join(["mcpkg run", *backend.get("needs", [])])
            print(f"backend:      hostable by `{run}` (entry point {backend['entry']})")
        for problem in backend["problems"]:
            print(f"backend:      not hostable: {problem}")
    for direction in ("imports", "exports"):
        print(f"{direction}:")
        for name, body in report["types"][direction].items():
            if "functions" in body:
                print(f"  {name}")
                for resource in body["resources"]:
                    print(f"    resource {resource}")
                for function, signature in body["functions"].items():
                    print(f"    {function}: {signature}")
            elif "func" in body:
                print(f"  {name}: {body['func']}")
            else:
                print(f"  {name}: {body['kind']}")
    for warning in report.get("warnings", []):
        print(f"warning:      {warning}")


def _role_text(role: dict[str, Any]) -> str:
    """`tools-handler (wasmcp:mcp@0.3.0, chain)`; a service known by its interface:
    `request service (wasmcp:mcp@0.3.0)`."""
    if role["world"]:
        return f"{role['role']} ({role['contract']}, {role['position']})"
    return f"{role['role']} ({role['contract']})"


EXAMPLES = """\b
Examples:
  mcpkg inspect tools.wasm                        # a file (ends in .wasm, or ./ ../ / ~/)
  mcpkg inspect ghcr.io/me/tools:0.1.0 --wit      # a registry component, as WIT
  mcpkg inspect fixtures:tools@0.1 --json
"""
