"""`mcpkg pull REF [-o PATH|-]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened, results_printer, stdout_taken
from mcpkg.cli.terminal import emit_json, human_size, note


def pull_command(
    reference: str = typer.Argument(
        ...,
        metavar="REF",
        help="A registry reference [registry/]repo[:tag][@digest] (no tag or digest: the highest release), "
        "or a package name ns:name[@requirement] mapped through [namespaces] (see `mcpkg env`).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Also write the .wasm here (a file, a directory, or - for stdout)."
    ),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Download a component into the verified cache (and optionally to a file)."""
    from mcpkg.ops.pull import pull

    to_stdout = stdout_taken(output, json_output)
    with opened(json_output, plain_http) as ctx:
        result = pull(ctx, reference, output)
    if json_output:
        emit_json(result.to_json())
        return
    note("pulled from cache" if result.from_cache else "pulled and verified")
    say = results_printer(to_stdout)
    say(f"reference:    {result.reference.with_digest(None)}")
    say(f"digest:       {result.reference.digest}")
    say(f"layer:        {result.manifest.layer.digest}")
    say(f"size:         {result.manifest.layer.size} ({human_size(result.manifest.layer.size)})")
    say(f"signature:    {result.signature}")
    declared = result.declared
    if declared is not None:
        say("declared by the publisher (verify with `mcpkg inspect`):")
        say(f"  target:     {declared.target or '-'}")
        for name in declared.imports:
            say(f"  import      {name}")
        for name in declared.exports:
            say(f"  export      {name}")
    if result.output:
        say(f"written to:   {result.output}")
    else:
        say(f"cached at:    {result.layer_path}")
        note("the cached file is read-only and shared: use -o PATH for a file of your own")


EXAMPLES = """\b
Examples:
  mcpkg pull fixtures:greeter@0.1              # a package name, mapped through [namespaces]
  mcpkg pull ghcr.io/me/tools:1.2.0 -o tools.wasm  # also a file of your own
  mcpkg pull 127.0.0.1:5000/me/tools@sha256:<hex>  # by digest (cached: no network)
  mcpkg pull ghcr.io/me/tools -o - | wc -c        # the highest release, to stdout
"""
