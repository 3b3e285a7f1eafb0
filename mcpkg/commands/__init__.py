"""One module per command: parse options, call the core, render the result."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from mcpkg.ui import OUT

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document (see docs/json.md).")
PLAIN_HTTP_OPTION = typer.Option(
    False, "--plain-http", help="Use plain HTTP for a non-loopback registry (never sends credentials)."
)


def set_json(enabled: bool) -> None:
    OUT.json = enabled


def stdout_taken(output: Path | None, json_output: bool) -> bool:
    """Whether `-o -` sends the artifact to stdout; with `--json` that is a usage error
    (both want stdout)."""
    from mcpkg.outfile import is_stdout

    if not is_stdout(output):
        return False
    if json_output:
        from mcpkg.errors import UsageError

        raise UsageError("-o - and --json both want stdout", "drop --json, or write the output to a file")
    return True


def results_printer(to_stderr: bool) -> Callable[[str], None]:
    """`print` for result lines: on stderr when stdout carries the artifact (`-o -`)."""
    if to_stderr:
        return lambda line: print(line, file=sys.stderr)
    return print
