"""The one error handler: an McpkgError becomes a message (or a JSON error document)
and an exit code; a file-system or pipe failure no check foresaw still becomes a
message naming the path, never a traceback (those only with `-v`)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from mcpkg.cli.terminal import OUT, emit_json
from mcpkg.errors import McpkgError

F = TypeVar("F", bound=Callable[..., Any])


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
    if type(exc).__module__ == "mcpkg.oci.http":
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
