"""`mcpkg compose [-o server.wasm|DIR|-] [--locked] [--offline] [--precompile [--compiler C]]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import (
    COMPILER_OPTION,
    JSON_OPTION,
    PLAIN_HTTP_OPTION,
    PROJECT_OPTION,
    opened,
    project_root,
    results_printer,
    stdout_taken,
)
from mcpkg.cli.terminal import compiling_note, emit_json, human_size, note


def compose_command(
    output: Path = typer.Option(
        Path("server.wasm"), "--output", "-o", help="Where to write the server (a file, a directory, or -)."
    ),
    locked: bool = typer.Option(False, "--locked", help="Fail if mcpkg.lock is missing or stale."),
    offline: bool = typer.Option(False, "--offline", help="Use only the lock and the cache."),
    precompile: bool = typer.Option(
        False, "--precompile", help="Also compile the server now (else the first `mcpkg run` does, once)."
    ),
    compiler: str = COMPILER_OPTION,
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Compose the locked components into one server component (deterministic)."""
    from mcpkg.ops.compose import compose_project
    from mcpkg.ops.run import parse_compiler

    chosen = parse_compiler(compiler)
    to_stdout = stdout_taken(output, json_output)
    root = project_root(project)  # no mcpkg.toml: fails here, before any work is announced

    def compiling(name: str) -> None:
        compiling_note(name, chosen, "once, now: `mcpkg run` loads the compiled code from then on")

    with opened(json_output, plain_http) as ctx:
        result = compose_project(
            ctx,
            root,
            output,
            locked=locked,
            offline=offline,
            precompile=chosen if precompile else None,
            on_compile=compiling,
        )
    if json_output:
        emit_json(result.to_json())
        return
    if result.relocked:
        note("mcpkg.lock was missing or stale and has been rewritten")
    say = results_printer(to_stdout)
    say(f"wrote {result.output} ({result.size} bytes, {human_size(result.size)})")
    say(f"digest:       {result.digest}")
    say("imports the host must provide:")
    for name in result.imports:
        say(f"  {name}")
    say("exports:")
    for name in result.exports:
        say(f"  {name}")


EXAMPLES = """\b
Examples:
  mcpkg compose                                   # server.wasm from mcpkg.toml + mcpkg.lock
  mcpkg compose --locked -o build/                # CI: fail on a stale lock
  mcpkg compose --precompile                      # also compile now, not on the first run
"""
