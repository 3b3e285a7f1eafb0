"""The typer application, built for one run: the global options and the table of
commands (`build_app`), and the choice of what a command line needs (`app_for`).

Each `cmd_*.py` module holds one command as a plain module-level function and its
`EXAMPLES` (the end of its `--help` page): the function parses options, calls one
operation of `mcpkg.ops`, and renders the result. Those modules import only typer and
this package at the top; the operation they call is imported inside the function, when
the command runs, so that `mcpkg --help` and `--version` never load wasmtime or the
HTTP client. That is the one lazy import boundary of mcpkg.

Subcommands are loaded lazily too: `mcpkg pull REF` imports `cmd_pull` alone and builds
a group holding only `pull` (typer builds a click command from every function's
signature on each run: all of them cost 10-25 ms). Whenever the word is not a known
command, or there is none (`mcpkg`, `mcpkg --help`, `mcpkg -q --version`, `mcpkg pul`),
or the shell is completing, the whole table is built: the top-level help, the "Did you
mean" and the completions need every command. A command's own pages and errors are the
same either way (tests/unit/test_cli_lazy.py compares them).

`-q`, `-v` and `--json` are global: accepted before or after the subcommand
(`group.py`). Shell completion: `mcpkg --install-completion` / `--show-completion`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import typer

from mcpkg import __version__
from mcpkg.cli.group import McpkgCommand, McpkgGroup
from mcpkg.cli.render import handle_errors

EPILOG = """\b
Examples:
  mcpkg pull fixtures:greeter@0.1 -o greeter.wasm
  mcpkg inspect greeter.wasm
  mcpkg init && mcpkg add tools ghcr.io/me/tools --version ^0.1 && mcpkg compose
  mcpkg run server.wasm
  mcpkg env                     # where the config, cache and credentials are

-q, -v and --json go before or after the command. Shell completion:
mcpkg --install-completion."""

# name -> its module in mcpkg.cli, holding `<name>_command` and `EXAMPLES`; in the order
# of `mcpkg --help`
COMMANDS: dict[str, str] = {
    "pull": "cmd_pull",
    "push": "cmd_push",
    "tags": "cmd_tags",
    "inspect": "cmd_inspect",
    "check": "cmd_check",
    "keygen": "cmd_keygen",
    "sign": "cmd_sign",
    "verify": "cmd_verify",
    "compose": "cmd_compose",
    "run": "cmd_run",
    "lock": "cmd_lock",
    "init": "cmd_init",
    "add": "cmd_add",
    "remove": "cmd_remove",
    "outdated": "cmd_outdated",
    "tree": "cmd_tree",
    "login": "cmd_login",
    "logout": "cmd_logout",
    "env": "cmd_env",
}
GROUPS = ("cache",)  # `mcpkg cache ls|verify|prune` (cmd_cache.py)
# options of the top-level group that take no value and may stand before the command
GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "--json"})
COMPLETE_VAR = "_MCPKG_COMPLETE"  # set by the shell while it completes a command line


def _module(name: str) -> Any:
    return importlib.import_module(f"mcpkg.cli.{name}")


def _version(value: bool) -> None:
    if value:
        print(f"mcpkg {__version__}")
        raise typer.Exit(0)


def _global(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Package manager for the WebAssembly components MCP servers are built from."""


def _add(app: typer.Typer, name: str, function: Callable[..., Any], examples: str) -> None:
    app.command(name, cls=McpkgCommand, epilog=examples)(handle_errors(function))


def _cache_app() -> typer.Typer:
    cmd_cache = _module("cmd_cache")
    cache_app = typer.Typer(
        help="List, verify and prune the component cache.",
        epilog=cmd_cache.EXAMPLES,
        cls=McpkgGroup,
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    _add(cache_app, "ls", cmd_cache.cache_ls, cmd_cache.LS_EXAMPLES)
    _add(cache_app, "verify", cmd_cache.cache_verify, cmd_cache.VERIFY_EXAMPLES)
    _add(cache_app, "prune", cmd_cache.cache_prune, cmd_cache.PRUNE_EXAMPLES)
    return cache_app


def build_app(only: str | None = None) -> typer.Typer:
    """The `mcpkg` group with every command, or with the command (or group) `only`."""
    app = typer.Typer(
        name="mcpkg",
        help="Package manager for the WebAssembly components MCP servers are built from.",
        epilog=EPILOG,
        cls=McpkgGroup,
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_global)
    for name, module_name in COMMANDS.items():
        if only is None or only == name:
            module = _module(module_name)
            _add(app, name, getattr(module, f"{name}_command"), module.EXAMPLES)
    if only is None or only == "cache":
        app.add_typer(_cache_app(), name="cache")
    return app


def command_word(args: Sequence[str]) -> str | None:
    """The command a command line names (None: the whole app is needed). Only value-less
    global flags may stand before it; anything else there (`--help`, `--version`,
    `--install-completion`, `-qv`, `--`) leaves the choice to click."""
    for arg in args:
        if arg in GLOBAL_FLAGS:
            continue
        if arg in COMMANDS or arg in GROUPS:
            return arg
        return None
    return None


def app_for(args: Sequence[str]) -> typer.Typer:
    """The app for this command line: only the command it names, when that is certain."""
    if os.environ.get(COMPLETE_VAR):
        return build_app()
    return build_app(command_word(args))
