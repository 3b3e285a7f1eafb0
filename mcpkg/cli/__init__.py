"""The command line: the typer app (`app.py`, entry point `mcpkg.cli.app:main`), one
module per command (`cmd_*.py`), shared options (`options.py`), the error handler
(`render.py`) and terminal output (`terminal.py`).

May import: the shared basics at the top of `mcpkg`, typer; `mcpkg.ops` only inside a
command function (the one lazy boundary). Nothing else imports `mcpkg.cli`.
"""
