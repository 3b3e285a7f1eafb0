"""`mcpkg push FILE REF`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json, human_size, note


def push_command(
    file: Path = typer.Argument(..., metavar="FILE", help="The component (.wasm) to publish."),
    reference: str = typer.Argument(
        ...,
        metavar="REF",
        help="Where to publish: [registry/]repo:tag, or a package name with an exact version ns:name@1.2.3.",
    ),
    annotation: list[str] = typer.Option([], "--annotation", "-a", help="Manifest annotation KEY=VALUE."),
    target: str | None = typer.Option(None, "--target", help="The world this component targets."),
    force: bool = typer.Option(False, "--force", help="Move a release tag that names other content."),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Publish a component in the Wasm OCI artifact layout."""
    from mcpkg.ops.push import parse_annotations, push

    annotations = parse_annotations(annotation)
    with opened(json_output, plain_http) as ctx:
        result = push(ctx, file, reference, annotations=annotations, target=target, force=force)
    if json_output:
        emit_json(result.to_json())
        return
    if result.status == "already published":
        note(f"{result.reference.with_digest(None)} already published with these contents; nothing pushed")
    else:
        note(f"uploaded {result.uploaded} blob(s), mounted {result.mounted}, {result.skipped} already present")
    print(f"reference:    {result.reference.with_digest(None)}")
    print(f"digest:       {result.digest}")
    print(f"layer:        {result.layer_digest}")
    print(f"size:         {result.size} ({human_size(result.size)})")
    if result.target:
        print(f"target:       {result.target}" + (f" ({result.role})" if result.role else ""))
    print(f"status:       {result.status}")


EXAMPLES = """\b
Examples:
  mcpkg push tools.wasm ghcr.io/me/tools:0.1.0
  mcpkg push tools.wasm fixtures:tools@0.1.0      # a package name with an exact version
  mcpkg push tools.wasm ghcr.io/me/tools:0.1.0 -a org.opencontainers.image.description="Echo tools"
"""
