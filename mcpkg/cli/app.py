"""The typer application: global options and the table of commands.

Each `cmd_*.py` module holds one command as a plain module-level function: it parses
options, calls one operation of `mcpkg.ops`, and renders the result. Those modules
import only typer and this package at the top; the operation they call is imported
inside the function, when the command runs, so that `mcpkg --help` and `--version` never
load requests or wasmtime. That is the one lazy import boundary of mcpkg.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from mcpkg import __version__
from mcpkg.cli import (
    cmd_add,
    cmd_cache,
    cmd_check,
    cmd_compose,
    cmd_init,
    cmd_inspect,
    cmd_keygen,
    cmd_lock,
    cmd_login,
    cmd_logout,
    cmd_outdated,
    cmd_pull,
    cmd_push,
    cmd_remove,
    cmd_run,
    cmd_sign,
    cmd_tags,
    cmd_tree,
    cmd_verify,
)
from mcpkg.cli.render import handle_errors
from mcpkg.cli.terminal import OUT

app = typer.Typer(
    name="mcpkg",
    help="Package manager for the WebAssembly components MCP servers are built from.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
cache_app = typer.Typer(help="List, verify and prune the component cache.", no_args_is_help=True)

COMMANDS: dict[str, Callable[..., Any]] = {
    "pull": cmd_pull.pull_command,
    "push": cmd_push.push_command,
    "tags": cmd_tags.tags_command,
    "inspect": cmd_inspect.inspect_command,
    "check": cmd_check.check_command,
    "keygen": cmd_keygen.keygen_command,
    "sign": cmd_sign.sign_command,
    "verify": cmd_verify.verify_command,
    "compose": cmd_compose.compose_command,
    "run": cmd_run.run_command,
    "lock": cmd_lock.lock_command,
    "init": cmd_init.init_command,
    "add": cmd_add.add_command,
    "remove": cmd_remove.remove_command,
    "outdated": cmd_outdated.outdated_command,
    "tree": cmd_tree.tree_command,
    "login": cmd_login.login_command,
    "logout": cmd_logout.logout_command,
}
CACHE_COMMANDS: dict[str, Callable[..., Any]] = {
    "ls": cmd_cache.cache_ls,
    "verify": cmd_cache.cache_verify,
    "prune": cmd_cache.cache_prune,
}


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


for _name, _function in COMMANDS.items():
    app.command(_name)(handle_errors(_function))
for _name, _function in CACHE_COMMANDS.items():
    cache_app.command(_name)(handle_errors(_function))
app.add_typer(cache_app, name="cache")
