"""What mcpkg's command line does beyond typer's defaults, at the click level:

- the global options `-q`/`--quiet`, `-v`/`--verbose` and `--json` are accepted before
  or after the subcommand, as cargo does (`mcpkg -q pull REF` = `mcpkg pull REF -q`;
  `mcpkg --json tags REPO` = `mcpkg tags REPO --json`): every command and group carries
  them, and a `--json` given to a group is passed on to the subcommand;
- a usage error (unknown option, missing argument, unknown command) under `--json` also
  prints the JSON error document on stdout (docs/json.md); click's usage text still
  goes to stderr and the exit code stays 2;
- an unknown command gets click's one "Did you mean" (typer's own suggestion is off).
"""

from __future__ import annotations

import inspect
from typing import Any

import click
from typer.core import TyperCommand, TyperGroup

from mcpkg.cli.terminal import OUT, STATUS, emit_json
from mcpkg.progress import use_steps


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        OUT.quiet = True


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        OUT.verbose = True


def _json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        OUT.json = True
        ctx.meta["mcpkg.json"] = True


def global_options(*, with_json: bool) -> list[click.Parameter]:
    """`-q`, `-v` (and for a group, `--json`): not passed to the command function; they
    set the terminal's output mode when given."""
    options: list[click.Parameter] = [
        click.Option(
            ["--quiet", "-q"], is_flag=True, expose_value=False, callback=_quiet, help="Only print results and errors."
        ),
        click.Option(
            ["--verbose", "-v"],
            is_flag=True,
            expose_value=False,
            callback=_verbose,
            help="More detail; tracebacks on errors.",
        ),
    ]
    if with_json:
        options.append(
            click.Option(
                ["--json"],
                is_flag=True,
                expose_value=False,
                callback=_json,
                help="Print one JSON document (see docs/json.md).",
            )
        )
    return options


def _wants_json(args: list[str]) -> bool:
    options = args[: args.index("--")] if "--" in args else args
    return OUT.json or "--json" in options


def report_usage_error(exc: click.UsageError, args: list[str]) -> None:
    """Under `--json`, the JSON error document of a usage error (docs/json.md)."""
    if not _wants_json(args) or getattr(exc, "mcpkg_reported", False):
        return
    exc.mcpkg_reported = True  # type: ignore[attr-defined]  # a group re-raises what a command raised
    path = exc.ctx.command_path if exc.ctx is not None else "mcpkg"
    emit_json({"error": {"type": "usage", "message": exc.format_message(), "hint": f"see `{path} --help`"}})


class McpkgCommand(TyperCommand):
    """A leaf command: its own options plus `-q` and `-v`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _restore_argument_help(self)
        names = {opt for param in self.params for opt in param.opts}
        self.params.extend(option for option in global_options(with_json="--json" not in names))

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Nothing: typer writes the arguments section (click 8.5 would write a second)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click consumes the list as it parses
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            report_usage_error(exc, given)
            raise


class McpkgGroup(TyperGroup):
    """The top-level `mcpkg` and `mcpkg cache`: global options, `--json` handed down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["suggest_commands"] = False  # click suggests once already
        super().__init__(*args, **kwargs)
        names = {opt for param in self.params for opt in param.opts}
        self.params.extend(option for option in global_options(with_json=True) if option.opts[0] not in names)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if parent is None:  # a new invocation (in-process tests run several): defaults first
            OUT.quiet = OUT.verbose = OUT.json = False
            use_steps(STATUS.step)  # long steps show a spinner on a terminal
        return super().make_context(info_name, args, parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click consumes the list as it parses
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            report_usage_error(exc, given)
            raise

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        given = list(args)
        try:
            name, command, rest = super().resolve_command(ctx, args)
        except click.UsageError as exc:
            report_usage_error(exc, given)
            raise
        if command is not None and ctx.meta.get("mcpkg.json") and "--json" in _option_names(command):
            rest = ["--json", *rest]
        return name, command, rest


def _restore_argument_help(command: click.Command) -> None:
    """Put each argument's `help=` back on it: click 8.5's `Argument.__init__` drops the
    help typer sets, so `pull --help` would not say what REF is."""
    if command.callback is None:
        return
    parameters = inspect.signature(command.callback).parameters
    for param in command.params:
        if isinstance(param, click.Argument) and param.name in parameters:
            text = getattr(parameters[param.name].default, "help", None)
            if text and not getattr(param, "help", None):
                param.help = text  # TyperArgument reads it


def _option_names(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts}
