"""The typer application: global options and the table of commands.

Each `cmd_*.py` module holds one command as a plain module-level function and its
`EXAMPLES` (the end of its `--help` page): the function parses options, calls one
operation of `mcpkg.ops`, and renders the result. Those modules import only typer and
this package at the top; the operation they call is imported inside the function, when
the command runs, so that `mcpkg --help` and `--version` never load requests or
wasmtime. That is the one lazy import boundary of mcpkg.

`-q`, `-v` and `--json` are global: accepted before or after the subcommand
(`group.py`). Shell completion: `mcpkg --install-completion` / `--show-completion`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import typer

from mcpkg import __version__
from mcpkg.cli import (
    cmd_add,
    cmd_cache,
    cmd_check,
    cmd_compose,
    cmd_env,
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
cache_app = typer.Typer(
    help="List, verify and prune the component cache.",
    epilog=cmd_cache.EXAMPLES,
    cls=McpkgGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
)

# name -> the module holding `<name>_command` (or the function named) and `EXAMPLES`
COMMANDS: dict[str, tuple[Callable[..., Any], ModuleType]] = {
    "pull": (cmd_pull.pull_command, cmd_pull),
    "push": (cmd_push.push_command, cmd_push),
    "tags": (cmd_tags.tags_command, cmd_tags),
    "inspect": (cmd_inspect.inspect_command, cmd_inspect),
    "check": (cmd_check.check_command, cmd_check),
    "keygen": (cmd_keygen.keygen_command, cmd_keygen),
    "sign": (cmd_sign.sign_command, cmd_sign),
    "verify": (cmd_verify.verify_command, cmd_verify),
    "compose": (cmd_compose.compose_command, cmd_compose),
    "run": (cmd_run.run_command, cmd_run),
    "lock": (cmd_lock.lock_command, cmd_lock),
    "init": (cmd_init.init_command, cmd_init),
    "add": (cmd_add.add_command, cmd_add),
    "remove": (cmd_remove.remove_command, cmd_remove),
    "outdated": (cmd_outdated.outdated_command, cmd_outdated),
    "tree": (cmd_tree.tree_command, cmd_tree),
    "login": (cmd_login.login_command, cmd_login),
    "logout": (cmd_logout.logout_command, cmd_logout),
    "env": (cmd_env.env_command, cmd_env),
}
CACHE_COMMANDS: dict[str, tuple[Callable[..., Any], str]] = {
    "ls": (cmd_cache.cache_ls, cmd_cache.LS_EXAMPLES),
    "verify": (cmd_cache.cache_verify, cmd_cache.VERIFY_EXAMPLES),
    "prune": (cmd_cache.cache_prune, cmd_cache.PRUNE_EXAMPLES),
}


def _version(value: bool) -> None:
    if value:
        print(f"mcpkg {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Package manager for the WebAssembly components MCP servers are built from."""


for _name, (_function, _module) in COMMANDS.items():
    app.command(_name, cls=McpkgCommand, epilog=_module.EXAMPLES)(handle_errors(_function))
for _name, (_function, _examples) in CACHE_COMMANDS.items():
    cache_app.command(_name, cls=McpkgCommand, epilog=_examples)(handle_errors(_function))
app.add_typer(cache_app, name="cache")
