"""One module per command: parse options, call the core, render the result."""

from __future__ import annotations

import typer

from mcpkg.ui import OUT

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document (see docs/json.md).")
PLAIN_HTTP_OPTION = typer.Option(
    False, "--plain-http", help="Use plain HTTP for a non-loopback registry (never sends credentials)."
)


def set_json(enabled: bool) -> None:
    OUT.json = enabled
