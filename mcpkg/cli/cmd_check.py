"""`mcpkg check [TRANSPORT [HANDLER ...] TERMINAL] [--service FILE]...`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mcpkg.cli.options import JSON_OPTION, PROJECT_OPTION, opened, project_root, set_json
from mcpkg.cli.terminal import emit_json
from mcpkg.errors import IncompatibleError, McpkgError, UsageError

if TYPE_CHECKING:
    from mcpkg.ops.check import BackendCheck


def check_command(
    files: list[Path] = typer.Argument(
        None,
        metavar="TRANSPORT [HANDLER ...] TERMINAL | BACKEND",
        help="Component files in chain order: the transport first, the terminal last; or one wasi:mcp backend. "
        "None: check the project.",
    ),
    service: list[Path] = typer.Option([], "--service", "-s", help="A service component (repeatable)."),
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Check files compose in this order (transport, chain, terminal, services), or that one
    file is a wasi:mcp backend mcpkg can host; with no files, check the project for CI:
    fresh lock, signatures, compatible chain."""
    from mcpkg.ops.check import check_backend_file, check_files, check_project

    set_json(json_output)
    if not files and service:
        raise UsageError("--service goes with component files: TRANSPORT [HANDLER ...] TERMINAL")
    if files and project is not None:
        raise UsageError("-C/--project applies to the project check, not to component files", "mcpkg check -C DIR")
    if not files:
        root = project_root(project)  # no mcpkg.toml: fails here, before any work
        with opened(json_output) as ctx:
            problems = check_project(ctx, root)
        if problems:
            raise McpkgError(
                f"check failed ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  "
                + "\n  ".join(problems),
                "run `mcpkg lock` (or `mcpkg lock --update`) and check the signatures",
                {"problems": problems},
            )
        if json_output:
            emit_json({"ok": True, "problems": []})
        else:
            print("ok: the lock is fresh, every locked component verifies, and the chain composes")
        return
    if len(files) == 1 and not service:
        with opened(json_output) as ctx:
            backend = check_backend_file(ctx, files[0])
        if backend is not None:
            _report_backend(backend, json_output)
            return
    with opened(json_output) as ctx:
        result = check_files(ctx, files, service)
    if json_output and result.report.ok:
        emit_json(result.to_json())
    elif not json_output:
        print(" -> ".join(result.order) + (f"  (services: {', '.join(result.services)})" if result.services else ""))
        for name, role in result.roles.items():
            print(f"  {name}: {role}")
        wiring = result.report.wiring
        if wiring.chain_interface:
            print(f"chain interface: {wiring.chain_interface}")
        for (importer, name), (provider, export) in sorted(wiring.links.items()):
            print(f"  {importer}: {name} <- {provider} ({export})")
        if wiring.host_imports:
            print("host imports: " + ", ".join(sorted(wiring.host_imports)))
        for problem in result.report.problems:
            print(f"problem: {problem}")
        for mismatch in result.mismatches:
            print(f"problem: {mismatch}")
    if not result.report.ok:
        count = len(result.report.problems)
        raise IncompatibleError(
            f"these components do not compose ({count} problem{'s' if count != 1 else ''})",
            "see the problems above: each names the component, interface, function and types",
            result.to_json(),  # with --json: the one document, under error.details
        )
    if not json_output:
        print("ok: these components compose")


def _report_backend(result: BackendCheck, json_output: bool) -> None:
    if json_output and result.ok:
        emit_json(result.to_json())
    elif not json_output:
        print(f"{result.file}: {result.role}")
        print(f"entry point: {result.entry or '-'}")
        for problem in result.problems:
            print(f"problem: {problem}")
    if not result.ok:
        count = len(result.problems)
        raise IncompatibleError(
            f"mcpkg cannot host this wasi:mcp backend ({count} problem{'s' if count != 1 else ''})",
            "see docs/wasi-mcp.md for the contract and the entry-point convention",
            result.to_json(),
        )
    if not json_output:
        run = " ".join(["mcpkg run", *result.needs, result.file])
        print(f"ok: a wasi:mcp backend mcpkg can host ({run})")


EXAMPLES = """\b
Examples:
  mcpkg check                                     # the project, for CI
  mcpkg check -C path/to/project
  mcpkg check stdio.wasm tools.wasm init.wasm --service writers.wasm
"""
