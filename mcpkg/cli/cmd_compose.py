"""`mcpkg compose [COMPONENT]... [--transport stdio|http] [--with ROLE=COMPONENT]... [--save]
[-o server.wasm|DIR|-] [--locked] [--offline] [--precompile [--compiler C]]`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mcpkg.cli.options import (
    COMPILER_OPTION,
    JSON_OPTION,
    PLAIN_HTTP_OPTION,
    PROJECT_OPTION,
    opened,
    project_root,
    results_printer,
    stdout_taken,
)
from mcpkg.cli.terminal import OUT, compiling_note, emit_json, first_run_note, human_size, note
from mcpkg.errors import UsageError

if TYPE_CHECKING:
    from mcpkg.ops.assemble import AssembleResult
    from mcpkg.ops.compose import ComposeResult


def compose_command(
    components: list[str] = typer.Argument(
        None,
        metavar="[COMPONENT]...",
        help="Without mcpkg.toml: the server's own components (files, references or package names), "
        "in chain order; mcpkg adds the transport, terminal and services of their contract's framework.",
    ),
    transport: str | None = typer.Option(
        None,
        "--transport",
        "-t",
        help="With COMPONENTs: stdio or http (default http; a transport you give serves what it serves).",
    ),
    with_parts: list[str] = typer.Option(
        [], "--with", metavar="ROLE=COMPONENT", help="With COMPONENTs: replace one framework part (repeatable)."
    ),
    save: bool = typer.Option(
        False, "--save", help="With COMPONENTs: write the plan as mcpkg.toml and mcpkg.lock here."
    ),
    output: Path = typer.Option(
        Path("server.wasm"), "--output", "-o", help="Where to write the server (a file, a directory, or -)."
    ),
    locked: bool = typer.Option(False, "--locked", help="Fail if mcpkg.lock is missing or stale."),
    offline: bool = typer.Option(False, "--offline", help="Use only the lock and the cache."),
    precompile: bool = typer.Option(
        False, "--precompile", help="Also compile the server now (else the first `mcpkg run` does, once)."
    ),
    compiler: str = COMPILER_OPTION,
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Compose the locked components into one server component (deterministic); or, given
    COMPONENTs and no mcpkg.toml, a server from them and their contract's framework."""
    from mcpkg.ops.compose import compose_project
    from mcpkg.ops.run import parse_compiler

    chosen = parse_compiler(compiler)
    to_stdout = stdout_taken(output, json_output)

    def compiling(name: str) -> None:
        compiling_note(name, chosen, "once, now", "`mcpkg run` loads the compiled code from then on")

    if components:
        _one_command(components, transport, with_parts, save, output, chosen if precompile else None, json_output,
                     plain_http, to_stdout, locked or project is not None, compiling, offline)  # fmt: skip
        return
    if save or with_parts or transport is not None:
        raise UsageError(
            "--save, --with and --transport apply to COMPONENT arguments", "mcpkg compose hello.wasm --save"
        )
    root = project_root(project)  # no mcpkg.toml: fails here, before any work is announced
    with opened(json_output, plain_http) as ctx:
        result = compose_project(
            ctx,
            root,
            output,
            locked=locked,
            offline=offline,
            precompile=chosen if precompile else None,
            on_compile=compiling,
        )
    if json_output:
        emit_json(result.to_json())
        return
    if result.relocked:
        note("mcpkg.lock was missing or stale and has been rewritten")
    say = results_printer(to_stdout)
    say(f"wrote {result.output} ({result.size} bytes, {human_size(result.size)})")
    say(f"digest:       {result.digest}")
    needs_line(say, result)
    shared = result.sharing_line()
    if shared:
        note(shared)  # -q hides it
    say("imports the host must provide:")
    for name in result.imports:
        say(f"  {name}")
    say("exports:")
    for name in result.exports:
        say(f"  {name}")
    _after_compose(result, precompile)


def _one_command(
    components: list[str],
    transport: str | None,
    with_parts: list[str],
    save: bool,
    output: Path,
    precompile: str | None,
    json_output: bool,
    plain_http: bool,
    to_stdout: bool,
    project_options: bool,
    on_compile: Callable[[str], None],
    offline: bool,
) -> None:
    from mcpkg.ops.assemble import assemble, parse_overrides
    from mcpkg.ops.run import parse_compiler

    if project_options:
        raise UsageError(
            "--locked and -C apply to a project (mcpkg.toml), not to COMPONENT arguments",
            "use --save to write the project, then `mcpkg compose --locked`",
        )
    overrides = parse_overrides(with_parts)
    with opened(json_output, plain_http) as ctx:
        result = assemble(
            ctx,
            components,
            output,
            transport=transport,
            overrides=overrides,
            save=save,
            precompile=parse_compiler(precompile) if precompile else None,
            on_compile=on_compile,
            offline=offline,
        )
    if json_output:
        emit_json({
            **result.composed.to_json(),
            "contract": result.plan.contract.package,
            "plan": [{**p.to_json(), "digest": _digest(result, p.name)} for p in result.plan.parts],
            "saved": str(result.saved) if result.saved else None,
        })  # fmt: skip
        return
    say = results_printer(to_stdout)
    if not OUT.quiet:  # -q: only what was written
        for line in plan_lines(result):
            say(line)
    composed = result.composed
    say(f"wrote {composed.output} ({composed.size} bytes, {human_size(composed.size)})")
    say(f"digest:       {composed.digest}")
    needs_line(say, composed)
    shared = composed.sharing_line()
    if shared:
        note(shared)  # -q hides it
    _after_compose(composed, precompile is not None)
    if result.saved is not None:
        note(f"wrote {result.saved / 'mcpkg.toml'} and mcpkg.lock: `mcpkg compose --locked` gives the same bytes")
    else:
        note("to pin this server: run the same command with --save (writes mcpkg.toml and mcpkg.lock)")


def needs_line(say: Callable[[str], None], composed: ComposeResult) -> None:
    """ "needs:        --allow-http (...)": the grants its `mcpkg run` needs (none: no line)."""
    if composed.needs:
        where = "server.wasm" if composed.output == "stdout" else composed.output
        command = f"mcpkg run {' '.join(composed.needs)} {where}"
        say(f"needs:        {', '.join(composed.needs)} (it calls out over HTTP: {command})")


def plan_lines(result: AssembleResult) -> list[str]:
    """The plan as text: each part's name, position and origin, its digest and role, and
    for a wrapper (or any part wired by name) which part each wired import goes to."""
    lines = [f"server of {result.plan.contract.package}:"]
    for part in result.plan.parts:
        origin = part.source if not part.framework else f"{part.source}@{(part.version or '').lstrip('=')}"
        lines.append(f"  {part.name:<22} {part.position:<9} {origin}")
        lines.append(f"  {'':<22} {'':<9} {_digest(result, part.name)}  {part.role}")
        for interface, provider in sorted(part.wires.items()):
            lines.append(f"  {'':<22} {'':<9} wired: {interface} <- {provider}")
    return lines


def _after_compose(composed: ComposeResult, precompiled: bool) -> None:
    """Notes after a compose: the imports of types alone (nothing to provide), and when
    the server was not compiled now, what its first `mcpkg run` will take."""
    if composed.type_imports:
        note("imports of types alone (nothing to provide): " + ", ".join(composed.type_imports))
    if precompiled or composed.output == "stdout":
        return
    from mcpkg.ops.run import first_compile_ahead

    first_run_note(first_compile_ahead(Path(composed.output), composed.digest))


def _digest(result: AssembleResult, name: str) -> str:
    entry = result.lock.lock.entry(name)
    return (entry.digest or entry.layer_digest) if entry is not None else "-"


EXAMPLES = """\b
Examples:
  mcpkg compose hello.wasm --transport stdio -o server.wasm   # no mcpkg.toml: one command
  mcpkg compose ./tools.wasm --with transport=./my-transport.wasm --save
  mcpkg compose                                   # server.wasm from mcpkg.toml + mcpkg.lock
  mcpkg compose --locked -o build/                # CI: fail on a stale lock
  mcpkg compose --precompile                      # also compile now, not on the first run
"""
