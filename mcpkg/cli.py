"""The typer application: global options, command registration, the one error handler.

Each command module in `mcpkg/commands/` only parses options, calls one function of the
core, and renders the result. Heavy modules (requests, wasmtime) are imported inside
the commands so that `mcpkg --help` starts fast.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from mcpkg import __version__
from mcpkg.errors import McpkgError
from mcpkg.ui import OUT, emit_json

app = typer.Typer(
    name="mcpkg",
    help="Package manager for the WebAssembly components MCP servers are built from.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def _version(value: bool) -> None:
    if value:
        print(f"mcpkg {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only print results and errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail; tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    OUT.quiet, OUT.verbose, OUT.json = quiet, verbose, False


def handle_errors(func: F) -> F:
    """Run a command body; turn an McpkgError into a message (or JSON) and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except McpkgError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # `mcpkg pull REF -o - | head -c 100`: the reader left; say so, quietly exit
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            print("mcpkg: stdout was closed before the whole output was written", file=sys.stderr)
            raise typer.Exit(1) from None
        except OSError as exc:
            # a file-system refusal no check foresaw: still a message naming the path
            error = McpkgError(describe_os_error(exc), "check the path and its permissions")
            report_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            print("mcpkg: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def describe_os_error(exc: OSError) -> str:
    if type(exc).__module__.split(".")[0] in ("requests", "urllib3"):
        return f"network error: {exc}"
    where = f" {exc.filename}" if exc.filename else ""
    other = f" -> {exc.filename2}" if exc.filename2 else ""
    return f"cannot use{where}{other}: {exc.strerror or exc}"


def report_error(exc: McpkgError) -> None:
    if OUT.verbose:
        traceback.print_exc(file=sys.stderr)
    if OUT.json:
        error: dict[str, Any] = {"type": exc.kind, "message": exc.message, "hint": exc.hint}
        if exc.details is not None:
            error["details"] = exc.details
        emit_json({"error": error})
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)


def _register() -> None:
    from mcpkg.commands import cache, check, inspect, login, project, pull, push, signing, tags

    for module in (pull, push, tags, inspect, check, signing, project, login, cache):
        module.register(app)


_register()


def main() -> None:
    app()
