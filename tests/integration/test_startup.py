"""The import budget of commands that must start instantly: what `mcpkg --version`,
`--help`, `lock --check` and a warm `inspect FILE` load. Counted, never timed: the heavy
engines (requests, wasmtime, cryptography, nacl, ...) stay out, and the module count
stays under a budget that a careless top-level import would break."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Mcpkg

HEAVY = ("requests", "urllib3", "wasmtime", "cryptography", "nacl", "tomlkit", "platformdirs", "sigstore", "pydantic")
# the entry point `mcpkg` runs (pyproject's [project.scripts]), with its own argv
PROBE = """
import json, sys
sys.argv[0] = "mcpkg"
from mcpkg.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
# measured through the entry point (59 for --version, which answers before typer is
# imported; 179 for --help, the whole app; 197 for lock --check (which reads the trust
# policy since keyless identities: no sigstore, no cryptography) and 186 for a warm
# inspect, each loading its own command only), plus room
BUDGET = {"--version": 65, "--help": 190, "lock --check": 202, "inspect (warm)": 196}


def loaded(mcpkg: Mcpkg, *args: str, cwd: Path | None = None) -> list[str]:
    env = {**{k: v for k, v in mcpkg.env.items() if v is not None}, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


def check(modules: list[str], what: str, command: str | None = None) -> None:
    heavy = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})
    assert heavy == [], f"{what} imports {heavy}"
    assert len(modules) <= BUDGET[what], f"{what} imports {len(modules)} modules (budget {BUDGET[what]})"
    if command is not None:  # a command line naming a command loads that command's module only
        assert [m for m in modules if m.startswith("mcpkg.cli.cmd_")] == [f"mcpkg.cli.cmd_{command}"]


@pytest.mark.parametrize("what", ["--version", "--help"])
def test_version_and_help(mcpkg: Mcpkg, what: str) -> None:
    check(loaded(mcpkg, what), what)


def test_lock_check(mcpkg: Mcpkg, tmp_path: Path) -> None:
    (tmp_path / "mcpkg.toml").write_text('[server]\nname = "x"\ntransport = "t"\nchain = []\nterminal = "t"\n')
    check(loaded(mcpkg, "lock", "--check", cwd=tmp_path), "lock --check", "lock")


def test_warm_inspect_of_a_file(mcpkg: Mcpkg, fixtures: Path) -> None:
    mcpkg.ok("inspect", str(fixtures / "greeter.wasm"))  # the types are now cached
    check(loaded(mcpkg, "-q", "inspect", str(fixtures / "greeter.wasm")), "inspect (warm)", "inspect")


def test_commands_that_meet_no_bundle_do_not_import_sigstore(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    """sigstore-python (~0.3 s, pydantic) is imported only where a bundle is verified or
    made: a pull without a trust policy, or under a key-only policy, never loads it."""
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0")
    modules = loaded(mcpkg, "pull", f"{repo}:1.0.0")
    assert "mcpkg.ops.pull" in modules  # the probe really pulled
    assert not [m for m in modules if m.split(".")[0] in ("sigstore", "sigstore_models", "pydantic")]
    keys = mcpkg.home / "keys"
    mcpkg.ok("keygen", "--output-prefix", str(keys / "k"), env={"COSIGN_PASSWORD": "pw"})
    host = repo.split("/", 1)[0]
    mcpkg.write_config(f'[trust."{host}/t/*"]\nkeys = ["{keys / "k.pub"}"]\n')
    modules = loaded(mcpkg, "pull", f"{repo}:1.0.0")
    assert "mcpkg.signing.cosign" in modules
    assert not [m for m in modules if m.split(".")[0] in ("sigstore", "sigstore_models", "pydantic")]
