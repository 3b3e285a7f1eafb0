"""The command line: the typer app (`commands.py`), one module per command (`cmd_*.py`),
shared options (`options.py`), the error handler (`render.py`) and terminal output
(`terminal.py`). The entry point is `main` below.

May import: the shared basics at the top of `mcpkg`, typer; `mcpkg.ops` only inside a
command function (the one lazy boundary). Nothing else imports `mcpkg.cli`.
"""

from __future__ import annotations

import sys


def main() -> None:
    """`mcpkg`: `--version` answers before typer is even imported (a third of start-up)."""
    if sys.argv[1:] == ["--version"]:
        from mcpkg import __version__

        print(f"mcpkg {__version__}")
        return
    from mcpkg.cli.commands import app_for

    app_for(sys.argv[1:])()
