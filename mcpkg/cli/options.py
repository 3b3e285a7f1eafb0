"""Options and argument helpers shared by the command modules, and the command opening
(`--json` switched on, a `Context` loaded and closed) written once."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mcpkg.cli.terminal import OUT, Progress
from mcpkg.errors import UsageError

if TYPE_CHECKING:
    from mcpkg.ops.context import Context

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document (see docs/json.md).")
PLAIN_HTTP_OPTION = typer.Option(
    False, "--plain-http", help="Use plain HTTP for a non-loopback registry (never sends credentials)."
)
PROJECT_OPTION = typer.Option(None, "--project", "-C", help="Directory of mcpkg.toml (default: here or a parent).")
COMPILER_OPTION = typer.Option(
    "cranelift",
    "--compiler",
    metavar="cranelift|winch",
    help="wasmtime's compiler for the one full compile: cranelift (fastest requests) or winch "
    "(a first run several times sooner, slower requests; see docs/compose.md).",
)


def set_json(enabled: bool) -> None:
    OUT.json = enabled


@contextlib.contextmanager
def opened(json_output: bool = False, plain_http: bool = False) -> Iterator[Context]:
    """The opening of every command that talks to registries or the cache."""
    from mcpkg.ops.context import Context  # the CLI's lazy boundary: ops load on use

    set_json(json_output)
    with Context.load(plain_http, progress=Progress) as ctx:
        yield ctx


def project_root(project: Path | None) -> Path:
    from mcpkg.project.manifest import find_project

    return find_project(project)


def registry_argument(text: str) -> str:
    """A registry host[:port] as typed, `https://` and a trailing `/` allowed."""
    from mcpkg.reference import validate_registry

    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return validate_registry(text.rstrip("/"))


def stdout_taken(output: Path | None, json_output: bool) -> bool:
    """Whether `-o -` sends the artifact to stdout; with `--json` that is a usage error
    (both want stdout)."""
    set_json(json_output)  # so that the usage error itself is reported as JSON
    if output is None or str(output) != "-":
        return False
    if json_output:
        raise UsageError("-o - and --json both want stdout", "drop --json, or write the output to a file")
    return True


def results_printer(to_stderr: bool) -> Callable[[str], None]:
    """`print` for result lines: on stderr when stdout carries the artifact (`-o -`)."""
    if to_stderr:
        return lambda line: print(line, file=sys.stderr)
    return print
