from __future__ import annotations

import sys

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import PLAIN_HTTP_OPTION
from mcpkg.ui import note


def _registry_argument(text: str) -> str:
    from mcpkg.reference import validate_registry

    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return validate_registry(text.rstrip("/"))


def register(app: typer.Typer) -> None:
    @app.command("login")
    @handle_errors
    def login_command(
        registry: str = typer.Argument(..., metavar="REGISTRY", help="Registry host[:port], e.g. ghcr.io."),
        username: str = typer.Option(..., "--username", "-u", help="User name."),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Check credentials against a registry and store them in Docker's config.json."""
        import getpass

        from mcpkg.config import load_config
        from mcpkg.errors import UsageError
        from mcpkg.oci.client import RegistryClient
        from mcpkg.oci.credentials import Credentials, check_login_storable, store_credentials

        host = _registry_argument(registry)
        check_login_storable(host)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = getpass.getpass(f"password for {username}@{host}: ")
        else:
            raise UsageError("no password given", "pipe it in with --password-stdin")
        if not password:
            raise UsageError("the password is empty", "pass it on stdin with --password-stdin")
        creds = Credentials(username, password, "login")
        with RegistryClient(host, load_config(), plain_http=plain_http, credentials=creds) as client:
            client.ping()
        where = store_credentials(host, creds)
        note(f"credentials stored in {where}")
        print(f"logged in to {host} as {username}")

    @app.command("logout")
    @handle_errors
    def logout_command(
        registry: str = typer.Argument(..., metavar="REGISTRY", help="Registry host[:port]."),
    ) -> None:
        """Remove stored credentials for a registry."""
        from mcpkg.oci.credentials import erase_credentials

        host = _registry_argument(registry)
        if erase_credentials(host):
            print(f"logged out of {host}")
        else:
            note(f"not logged in to {host}; nothing to remove")
