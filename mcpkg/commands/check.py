from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, set_json
from mcpkg.ui import emit_json


def register(app: typer.Typer) -> None:
    @app.command("check")
    @handle_errors
    def check_command(
        files: list[Path] = typer.Argument(None, metavar="TRANSPORT [HANDLER ...] TERMINAL"),
        service: list[Path] = typer.Option([], "--service", "-s", help="A service component (repeatable)."),
        json_output: bool = JSON_OPTION,
    ) -> None:
        """Check files compose in this order (transport, chain, terminal, services); with no
        files, check the project for CI: fresh lock, signatures, compatible chain."""
        from mcpkg.check import check_files
        from mcpkg.context import Context
        from mcpkg.errors import IncompatibleError, UsageError

        set_json(json_output)
        if not files:
            if service:
                raise UsageError("--service goes with component files: TRANSPORT [HANDLER ...] TERMINAL")
            _check_project(json_output)
            return
        result = check_files(Context.load(), files, service)
        if json_output:
            emit_json(result.to_json())
        else:
            print(
                " -> ".join(result.order) + (f"  (services: {', '.join(result.services)})" if result.services else "")
            )
            wiring = result.report.wiring
            if wiring.chain_interface:
                print(f"chain interface: {wiring.chain_interface}")
            for (importer, name), (provider, export) in sorted(wiring.links.items()):
                print(f"  {importer}: {name} <- {provider} ({export})")
            if wiring.host_imports:
                print("host imports: " + ", ".join(sorted(wiring.host_imports)))
            for problem in result.report.problems:
                print(f"problem: {problem}")
        if not result.report.ok:
            count = len(result.report.problems)
            raise IncompatibleError(
                f"these components do not compose ({count} problem{'s' if count != 1 else ''})",
                "see the problems above: each names the component, interface, function and types",
            )
        if not json_output:
            print("ok: these components compose")


def _check_project(json_output: bool) -> None:
    from mcpkg.context import Context
    from mcpkg.errors import McpkgError
    from mcpkg.project.insight import project_check
    from mcpkg.project.manifest import find_project

    ctx = Context.load()
    try:
        problems = project_check(ctx, find_project())
    finally:
        ctx.close()
    if problems:
        raise McpkgError(
            f"check failed ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  " + "\n  ".join(problems),
            "run `mcpkg lock` (or `mcpkg lock --update`) and check the signatures",
            {"problems": problems},
        )
    if json_output:
        emit_json({"ok": True, "problems": []})
    else:
        print("ok: the lock is fresh, every locked component verifies, and the chain composes")
