"""`mcpkg login REGISTRY -u USER --password-stdin`."""

from __future__ import annotations

import getpass
import sys

import typer

from mcpkg.cli.options import PLAIN_HTTP_OPTION, registry_argument
from mcpkg.cli.terminal import OUT, emit_json, note
from mcpkg.errors import UsageError


def login_command(
    registry: str = typer.Argument(..., metavar="REGISTRY", help="Registry host[:port], e.g. ghcr.io."),
    username: str = typer.Option(..., "--username", "-u", help="User name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Check credentials against a registry and store them in Docker's config.json."""
    from mcpkg.ops.login import check_login_storable, login

    host = registry_argument(registry)
    check_login_storable(host)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {username}@{host}: ")
    else:
        raise UsageError("no password given", "pipe it in with --password-stdin")
    if not password:
        raise UsageError("the password is empty", "pass it on stdin with --password-stdin")
    where = login(host, username, password, plain_http=plain_http)
    if OUT.json:
        emit_json({"registry": host, "username": username, "stored-in": where})
        return
    note(f"credentials stored in {where}")
    print(f"logged in to {host} as {username}")


EXAMPLES = """\b
Examples:
  echo "$TOKEN" | mcpkg login ghcr.io -u octocat --password-stdin
"""
