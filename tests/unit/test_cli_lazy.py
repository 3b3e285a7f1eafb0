"""Lazily loaded subcommands (mcpkg/cli/commands.py): `mcpkg pull ...` builds a group
holding only `pull`; whatever a user sees is the same as from the whole app."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mcpkg.cli.commands import COMMANDS, COMPLETE_VAR, app_for, build_app, command_word


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["pull", "x"], "pull"),
        (["-q", "-v", "--json", "tags", "r"], "tags"),
        (["--quiet", "--verbose", "cache", "ls"], "cache"),
        (["inspect", "pull"], "inspect"),
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["-q", "--version"], None),
        (["-qv", "pull"], None),  # combined short flags: left to click
        (["--install-completion", "bash"], None),
        (["--", "pull"], None),
        (["pul", "x"], None),  # not a command: the whole app says "Did you mean"
        (["ls"], None),  # a cache subcommand is no top-level command
    ],
)
def test_the_command_word(args: list[str], word: str | None) -> None:
    assert command_word(args) == word


def test_only_the_named_command_is_registered() -> None:
    assert [c.name for c in app_for(["-q", "pull", "x"]).registered_commands] == ["pull"]
    cache = app_for(["cache", "ls"])
    assert cache.registered_commands == [] and [g.name for g in cache.registered_groups] == ["cache"]
    assert len(app_for(["pul"]).registered_commands) == len(COMMANDS)


def test_the_whole_app_while_the_shell_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(COMPLETE_VAR, "complete_bash")
    assert len(app_for(["pull"]).registered_commands) == len(COMMANDS)


def test_a_command_loads_only_its_module() -> None:
    probe = (
        "import sys\nfrom mcpkg.cli.commands import app_for\napp_for(['--json', 'env'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('mcpkg.cli.cmd_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "['mcpkg.cli.cmd_env']"


SAME = [
    ["pull", "--help"],
    ["pull"],
    ["--json", "pull"],
    ["pull", "--json"],
    ["-q", "pull", "--bogus"],
    ["tags", "x", "--json", "--bogus"],
    ["inspect", "-h"],
    ["inspect"],
    ["--json", "run"],
    ["lock", "--help"],
    ["cache"],
    ["cache", "--help"],
    ["cache", "ls", "--help"],
    ["--json", "cache", "bogus"],
    ["cache", "prune", "--bogus"],
    ["env", "--bogus", "--json"],
    *[[name, "--help"] for name in COMMANDS],
]


@pytest.mark.parametrize("args", SAME, ids=" ".join)
def test_pages_and_usage_errors_are_those_of_the_whole_app(args: list[str]) -> None:
    runner = CliRunner()
    lazy = runner.invoke(app_for(args), args, prog_name="mcpkg")
    whole = runner.invoke(build_app(), args, prog_name="mcpkg")
    assert lazy.exit_code == whole.exit_code
    assert (lazy.stdout, lazy.stderr) == (whole.stdout, whole.stderr)
    assert len(app_for(args).registered_commands) <= 1
