"""`mcpkg logout REGISTRY`."""

from __future__ import annotations

import typer

from mcpkg.cli.options import registry_argument
from mcpkg.cli.terminal import OUT, emit_json, note


def logout_command(
    registry: str = typer.Argument(..., metavar="REGISTRY", help="Registry host[:port]."),
) -> None:
    """Remove stored credentials for a registry."""
    from mcpkg.ops.login import logout

    host = registry_argument(registry)
    removed = logout(host)
    if OUT.json:
        emit_json({"registry": host, "logged-out": removed})
    elif removed:
        print(f"logged out of {host}")
    else:
        note(f"not logged in to {host}; nothing to remove")


EXAMPLES = """\b
Examples:
  mcpkg logout ghcr.io
"""
