"""Every command that takes a path, given a bad one: missing, the wrong kind (a
directory for a file, a file for a directory), a dangling symlink, and one the user
may not use (run as uid 65534 through `setpriv`). Each ends with exit 1 or 2 and a
message naming the path, never a traceback, and leaves nothing behind; the few cases
where mcpkg creates what is missing (as `git init DIR` and `docker login` do) are
asserted as such."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.nonroot import NOBODY, build_tree, run_as_nobody
from testing.registry import Registry
from tests.conftest import Mcpkg

DIGEST = "sha256:" + "a" * 64
REF = "127.0.0.1:9/t/x:1.0.0"  # never reached: every path is checked before a request
MANIFEST = """[server]
name = "p"
transport = "t"
chain = []
terminal = "x"

[components.t]
path = "t.wasm"

[components.x]
path = "x.wasm"

[components.extra]
path = "extra.wasm"
"""
CASES = ("missing", "wrong-kind", "dangling", "no-permission")


@dataclass
class Scenario:
    args: list[str]
    path: Path  # the path the message must name
    env: dict[str, str]
    succeeds: bool = False  # documented: mcpkg creates what is missing (or has nothing to do)


def _project(directory: Path, mode: int) -> Path:
    directory.mkdir()
    (directory / "mcpkg.toml").write_text(MANIFEST)
    directory.chmod(mode)
    return directory


def _bad_path(case: str, base: Path, *, want: str, name: str = "x.wasm") -> Path:
    """A path for `case`: `want` is what the command expects there (file, dir, output)."""
    if case == "missing":
        return base / "missing" / name if want == "output" else base / f"missing-{name}"
    if case == "dangling":
        link = base / f"dangling-{name}"
        link.symlink_to(base / "nowhere" / name)
        return link
    if case == "wrong-kind":
        if want == "dir":
            (base / "a-file").write_text("not a directory")
            return base / "a-file"
        (base / "a-dir" / name).mkdir(parents=True)  # for an output: the name inside is a directory
        return base / "a-dir" if want == "output" else base / "a-dir" / name
    # no-permission: root's files that uid 65534 may not read or write
    if want == "output":
        (base / "root-only").mkdir(mode=0o755, exist_ok=True)
        return base / "root-only" / name
    if want == "dir":
        return _project(base / "root-project", 0o700)
    secret = base / f"root-{name}"
    secret.write_bytes(b"\0asm\x0d\0\x01\0")
    secret.chmod(0o600)
    return secret


def _writable_project(base: Path) -> Path:
    return _project(base / "read-only-project", 0o755)


def scenario(command: str, case: str, base: Path, home: Path, registry: str) -> Scenario:
    env: dict[str, str] = {"COSIGN_PASSWORD": "pw"}
    if command == "pull -o":
        p = _bad_path(case, base, want="output", name="x.wasm")
        return Scenario(["pull", REF, "-o", str(p)], p / "x.wasm" if case == "wrong-kind" else p, env)
    if command == "compose -o":
        p = _bad_path(case, base, want="output", name="server.wasm")
        shown = p / "server.wasm" if case == "wrong-kind" else p
        return Scenario(["compose", "-C", str(home), "-o", str(p)], shown, env)
    if command == "keygen":
        p = _bad_path(case, base, want="output", name="k.key")
        prefix = str(p)[: -len(".key")] if case != "wrong-kind" else str(p / "k")
        shown = p / "k.key" if case == "wrong-kind" else p
        return Scenario(["keygen", "--output-prefix", prefix], shown, env, succeeds=case == "missing")
    if command in ("sign --key", "verify --key"):
        p = _bad_path(case, base, want="file", name="k.key")
        verb = command.split()[0]
        target = REF if verb == "sign" else f"127.0.0.1:9/t/x@{DIGEST}"
        return Scenario([verb, target, "--key", str(p)], p, env)
    if command in ("push", "inspect", "check", "run"):
        p = _bad_path(case, base, want="file")
        args = {"push": ["push", str(p), REF], "inspect": ["inspect", str(p)], "check": ["check", str(p), str(p)]}
        return Scenario(args.get(command, ["run", str(p)]), p, env)
    if command == "init -C":
        p = _bad_path(case, base, want="dir") if case != "no-permission" else base / "root-only-init" / "new"
        if case == "no-permission":
            p.parent.mkdir(mode=0o755)
        return Scenario(["init", "-C", str(p)], p, env, succeeds=case == "missing")
    if command.endswith("-C"):
        verb = command.split()[0]
        writer = verb in ("lock", "add", "remove", "compose")
        if case == "no-permission" and writer:
            p = _writable_project(base)
            shown = p / ("mcpkg.toml" if verb in ("add", "remove") else "mcpkg.lock")
        else:
            p = _bad_path(case, base, want="dir")
            shown = p
        into = ["-o", str(home / "server.wasm")]
        extra = {"add": ["y", "127.0.0.1:9/t/y"], "remove": ["extra"], "compose": into}.get(verb, [])
        return Scenario([verb, *extra, "-C", str(p)], shown, env)
    # login / logout, through DOCKER_CONFIG
    if case == "missing":
        docker = base / "missing-docker"
    elif case == "wrong-kind":
        docker = base / "a-file"
        docker.write_text("not a directory")
    elif case == "dangling":
        docker = base / "docker"
        docker.mkdir()
        (docker / "config.json").symlink_to(base / "nowhere" / "config.json")
    else:
        docker = base / "root-docker"
        docker.mkdir(mode=0o755)
        (docker / "config.json").write_text(json.dumps({"auths": {registry: {"auth": "dTpw"}}}))
        (docker / "config.json").chmod(0o644)
    env["DOCKER_CONFIG"] = str(docker)
    shown = docker if case == "wrong-kind" else docker / "config.json"
    # a missing DOCKER_CONFIG is created by login (as `docker login` does); logout has nothing to do
    if command == "login":
        return Scenario(["login", registry, "-u", "u", "--password-stdin"], shown, env, succeeds=case == "missing")
    return Scenario(["logout", registry], shown, env, succeeds=case == "missing")


COMMANDS = (
    "pull -o", "compose -o", "keygen", "sign --key", "verify --key", "push", "inspect", "check",
    "init -C", "lock -C", "add -C", "remove -C", "tree -C", "compose -C", "run", "login", "logout",
)  # fmt: skip


@pytest.fixture(scope="module")
def nobody_site() -> Iterator[Path]:
    tree = Path(tempfile.mkdtemp(prefix="mcpkg-nobody-"))
    yield build_tree(tree)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A base directory anyone can enter (owned by root, so uid 65534 cannot write it)
    and a home that uid 65534 owns."""
    base = Path(tempfile.mkdtemp(prefix="mcpkg-paths-"))
    base.chmod(0o755)
    home = base / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    yield base, home
    for directory, _, _ in os.walk(base):
        os.chmod(directory, 0o755)
    import shutil

    shutil.rmtree(base)


def _snapshot(base: Path) -> set[str]:
    return {str(p.relative_to(base)) for p in base.rglob("*")}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_path_gets_a_clear_error(
    command: str, case: str, world: tuple[Path, Path], mcpkg: Mcpkg, nobody_site: Path, registry: Registry
) -> None:
    base, home = world
    made = scenario(command, case, base, home, registry.host)
    if command == "compose -o" or (command == "compose -C" and case == "no-permission"):
        (home / "mcpkg.toml").write_text(MANIFEST)
        os.chown(home / "mcpkg.toml", NOBODY, NOBODY)
    before = _snapshot(base)
    stdin = "secret\n" if command == "login" else None
    if case == "no-permission":
        env = {
            "HOME": str(home), "MCPKG_CACHE_DIR": str(home / "cache"), "MCPKG_CONFIG": os.devnull,
            "DOCKER_CONFIG": str(home / "docker"), **made.env,
        }  # fmt: skip
        done = run_as_nobody(nobody_site, made.args, env, cwd=home, input=stdin)
        code, out = done.returncode, done.stdout + done.stderr
    else:
        result = mcpkg(*made.args, env=made.env, input=stdin)  # an exception would fail the test here
        code, out = result.exit_code, result.stdout + result.stderr
    assert "Traceback" not in out, out
    if made.succeeds:
        assert code == 0, out
        return
    assert code in (1, 2), out
    assert str(made.path) in out, f"the message does not name {made.path}:\n{out}"
    after = _snapshot(base) - {"home/cache", "home/config.toml"}
    assert {p for p in after - before if not p.startswith("home/cache/")} == set(), "files were left behind"


def test_nobody_can_pull_into_their_own_directory(
    mcpkg: Mcpkg, fixtures: Path, repo: str, world: tuple[Path, Path], nobody_site: Path
) -> None:
    home = world[1]
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0")
    env = {"HOME": str(home), "MCPKG_CACHE_DIR": str(home / "cache"), "MCPKG_CONFIG": os.devnull}
    done = run_as_nobody(nobody_site, ["pull", f"{repo}:1.0.0", "-o", str(home / "g.wasm")], env, cwd=home)
    assert done.returncode == 0, done.stderr
    out = home / "g.wasm"
    assert out.read_bytes() == (fixtures / "greeter.wasm").read_bytes()
    assert out.stat().st_uid == NOBODY and out.stat().st_nlink == 1
    verified = run_as_nobody(nobody_site, ["cache", "verify"], env, cwd=home)
    assert verified.returncode == 0 and ", 0 corrupt" in verified.stdout
