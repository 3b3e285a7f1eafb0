"""The whole typer application, every command registered (`mcpkg --help`, tests,
in-process use). `mcpkg` itself builds only what its command line needs:
`commands.app_for`, called by `mcpkg.cli.main`."""

from __future__ import annotations

from mcpkg.cli.commands import COMMANDS, build_app

__all__ = ["COMMANDS", "app"]

app = build_app()
