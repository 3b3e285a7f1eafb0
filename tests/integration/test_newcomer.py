"""The frictions a newcomer's review of the command line found, one test each: the exact
command and the exact expectation (issue 20, items 1-13)."""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkg.cli.commands import COMMANDS
from testing.registry import Registry
from tests.conftest import ROOT, Mcpkg
from tests.integration.test_project import published, write_project

__all__ = ["published"]  # the session fixture, shared with test_project.py


def run_cli(mcpkg: Mcpkg, *args: str, tty: bool, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """mcpkg as a subprocess, its stderr on a pseudo-terminal (`tty`) or a pipe."""
    full = {k: v for k, v in {**os.environ, **mcpkg.env, **(env or {})}.items() if v is not None}
    command = [str(Path(sys.executable).parent / "mcpkg"), *args]  # the installed entry point
    if not tty:
        done = subprocess.run(command, env=full, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    process = subprocess.Popen(command, env=full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    return process.wait(timeout=120), out, err.decode(errors="replace")


# 1. long steps show a spinner on a terminal; nothing on a pipe, with -q or with --json
@pytest.mark.parametrize(
    ("flags", "tty", "shown"),
    [([], True, True), ([], False, False), (["-q"], True, False), (["--json"], True, False)],
)
def test_1_a_step_shows_a_spinner_only_on_a_terminal(
    mcpkg: Mcpkg, fixtures: Path, tmp_path: Path, flags: list[str], tty: bool, shown: bool
) -> None:
    cold = {"MCPKG_CACHE_DIR": str(tmp_path / "cold"), "MCPKG_PROGRESS_DELAY": "0"}  # 0: show at once
    code, out, err = run_cli(mcpkg, "inspect", str(fixtures / "greeter.wasm"), *flags, tty=tty, env=cold)
    assert code == 0 and "fixtures:hello/greet@0.1.0" in out
    spinner = "reading the types of /"  # the line is cut to the terminal's width: the path may not fit
    assert (spinner in err) == shown, err
    if shown:
        assert "\r\x1b[K" in err  # the status line is drawn, then cleared
    else:
        assert err == ""


# 2. a text ending in .wasm or starting with ./ ../ / ~ is a path: "no such file"
@pytest.mark.parametrize("text", ["nonexist.wasm", "./nonexist.wasm", "../nonexist", "/nonexist", "~/nonexist"])
def test_2_a_path_is_a_path_everywhere(mcpkg: Mcpkg, tmp_path: Path, text: str) -> None:
    inspected = mcpkg("inspect", text)
    assert inspected.exit_code == 1, inspected.stderr
    assert inspected.stderr.startswith("error: component ") and "does not exist (no such file)" in inspected.stderr
    assert "cannot reach" not in inspected.stderr and "cannot resolve" not in inspected.stderr
    pulled = mcpkg("pull", text)
    assert pulled.exit_code == 2
    assert f"error: {text} is a file path, but `mcpkg pull` takes a registry reference" in pulled.stderr
    project = tmp_path / "p"
    mcpkg.ok("init", "-C", str(project))
    added = mcpkg("add", "tools", text, "-C", str(project))
    assert added.exit_code == 1 and "(no such file)" in added.stderr
    assert "[components.tools]" not in (project / "mcpkg.toml").read_text()  # nothing half-written


# 3. offline: "cannot resolve HOST (no network or DNS)" and what needed it (simulated in-process)
def test_3_a_dns_failure_names_the_host_and_what_needed_it(
    mcpkg: Mcpkg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(str(host))
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    pulled = mcpkg("pull", "nonexist")
    assert pulled.exit_code == 1
    assert pulled.stderr.startswith(
        "error: cannot resolve ghcr.io (no network or DNS), needed for repository ghcr.io/nonexist\n"
    )
    assert lookups == ["ghcr.io"]  # a name that does not resolve is not asked again
    project = tmp_path / "p"
    project.mkdir()
    (project / "mcpkg.toml").write_text(
        '[server]\nname = "s"\ntransport = "stdio"\nchain = []\nterminal = "init"\n'
        '[components.stdio]\nref = "ghcr.io/acme/stdio"\n[components.init]\nref = "ghcr.io/acme/init"\n'
    )
    locked = mcpkg("lock", "-C", str(project))
    assert locked.exit_code == 1
    assert re.match(
        r"error: component (stdio|init): cannot resolve ghcr\.io \(no network or DNS\), "
        r"needed for repository ghcr\.io/acme/(stdio|init)\n",
        locked.stderr,
    ), locked.stderr
    assert not (project / "mcpkg.lock").exists()


# 4. a typo gets one suggestion
def test_4_one_suggestion_for_a_typo(mcpkg: Mcpkg) -> None:
    result = mcpkg("pul", "x")
    assert result.exit_code == 2
    assert result.stderr.count("Did you mean 'pull'?") == 1, result.stderr


# 5. -q, -v and --json before or after the subcommand, as cargo does
def test_5_global_options_in_either_place(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:1.0.0", "-q")
    before = mcpkg.ok("-q", "pull", f"{repo}:1.0.0")
    after = mcpkg.ok("pull", f"{repo}:1.0.0", "-q")
    assert before.stdout == after.stdout and "digest:" in after.stdout and before.stderr == after.stderr == ""
    assert mcpkg.ok("--json", "tags", repo).json() == mcpkg.ok("tags", repo, "--json").json()
    assert mcpkg.ok("--json", "cache", "ls").json() == mcpkg.ok("cache", "ls", "--json").json()
    assert "Traceback" in mcpkg("pull", f"{repo}:9.9.9", "-v").stderr  # -v after: tracebacks


# 6. a registry alone is not a repository
def test_6_a_registry_alone_is_not_a_repository(mcpkg: Mcpkg) -> None:
    result = mcpkg("tags", "127.0.0.1:38447")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 127.0.0.1:38447 names a registry, not a repository\n"
        "  hint: add the repository after it: 127.0.0.1:38447/<repository>[:tag]\n"
    )


# 7. push takes a package name with an exact version; swapped arguments get a hint
def test_7_push_to_a_package_name(mcpkg: Mcpkg, fixtures: Path, registry: Registry) -> None:
    mcpkg.write_config(f'[namespaces]\nnewcomer = "{registry.host}/newcomer"\n')
    answer = str(fixtures / "answer.wasm")
    pushed = mcpkg.ok("push", answer, "newcomer:answer@1.0.1", "--json").json()
    assert pushed["reference"].startswith(f"{registry.host}/newcomer/answer:1.0.1@sha256:")
    assert mcpkg.ok("pull", "newcomer:answer@1.0.1", "--json").json()["digest"] == pushed["digest"]
    swapped = mcpkg("push", "newcomer:answer@1.0.1", answer)
    assert swapped.exit_code == 2
    assert swapped.stderr == (
        f"error: {answer} is a file and newcomer:answer@1.0.1 is not: the file comes first\n"
        f"  hint: mcpkg push {answer} newcomer:answer@1.0.1\n"
    )
    ranged = mcpkg("push", answer, "newcomer:answer@^1.0")
    assert ranged.exit_code == 2 and "push needs an exact version for a package name" in ranged.stderr


# 8. help pages with examples, REF described, completion, check -C, env, MCPKG_CONFIG
def test_8_help_completion_check_C_env_and_config(mcpkg: Mcpkg, tmp_path: Path) -> None:
    for name in [*COMMANDS, "cache ls", "cache verify", "cache prune"]:
        page = mcpkg.ok(*name.split(), "--help").stdout
        assert f"mcpkg {name} " in page.split("\n  Examples:\n", 1)[1], name
    pull = mcpkg.ok("pull", "--help").stdout
    assert "REF  A registry reference [registry/]repo[:tag][@digest]" in pull
    assert "[NAME]...  With --update: the components (their names in mcpkg.toml)" in mcpkg.ok("lock", "--help").stdout
    completion = {"_MCPKG_COMPLETE": "complete_bash", "COMP_WORDS": "mcpkg pu", "COMP_CWORD": "1"}
    code, out, _ = run_cli(mcpkg, tty=False, env=completion)
    assert code == 0 and out.split() == ["pull", "push"]
    home = tmp_path / "home-dir"
    home.mkdir()
    code, out, err = run_cli(mcpkg, "--install-completion", "bash", tty=False, env={"HOME": str(home)})
    assert code == 0, err
    assert "_mcpkg_completion" in (home / ".bash_completions" / "mcpkg.sh").read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    checked = mcpkg("check", "-C", str(empty))
    assert checked.exit_code == 1 and f"no mcpkg.toml in {empty} or any of its parents" in checked.stderr
    mcpkg.write_config('[namespaces]\nacme = "registry.example/acme"\n')
    env = mcpkg.ok("env", "--json").json()
    assert env["config"] == {"path": str(mcpkg.config), "exists": True, "from": "MCPKG_CONFIG"}
    assert env["cache"] == {"path": str(mcpkg.cache), "from": "MCPKG_CACHE_DIR"}
    assert env["namespaces"] == {"acme": "registry.example/acme"}
    assert env["credentials"]["docker-config"] == str(mcpkg.docker / "config.json")
    text = mcpkg.ok("env").stdout
    assert f"config:           {mcpkg.config}  [MCPKG_CONFIG]\n" in text and "  acme = registry.example/acme\n" in text
    typo = mcpkg("env", env={"MCPKG_CONFIG": str(tmp_path / "typo.toml")})
    assert typo.exit_code == 1
    assert f"error: MCPKG_CONFIG names {tmp_path / 'typo.toml'}, which does not exist" in typo.stderr


# 9. usage errors under --json are JSON; docs/json.md covers every command
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pull", "--json"], "Missing argument 'REF'."),
        (["--json", "pul"], "No such command 'pul'. Did you mean 'pull'?"),
        (["tags", "x", "--json", "--bogus"], "No such option '--bogus'."),
        (["--json", "run"], "run gives the server stdin and stdout, so it prints no JSON document"),
    ],
)
def test_9_usage_errors_under_json(mcpkg: Mcpkg, args: list[str], message: str) -> None:
    result = mcpkg(*args)
    assert result.exit_code == 2
    error = result.json()["error"]
    assert error["type"] == "usage" and error["message"].startswith(message), error


def test_9_json_md_documents_every_command() -> None:
    headings = [line for line in (ROOT / "docs" / "json.md").read_text().splitlines() if line.startswith("## ")]
    documented = set()
    for heading in headings:
        for names in re.findall(r"`mcpkg ((?:cache )?[a-z|]+)(?: [A-Z]+)? --json`", heading):
            prefix, _, rest = names.rpartition(" ")
            documented |= {f"{prefix} {name}".strip() for name in rest.split("|")}
    wanted = {name for name in COMMANDS if name != "run"} | {"cache ls", "cache verify", "cache prune"}
    assert wanted <= documented, sorted(wanted - documented)


# 10. pull without -o prints the cached file's path
def test_10_pull_prints_the_cached_path(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0")
    result = mcpkg.ok("pull", f"{repo}:1.0.0")
    cached = Path(result.stdout.split("cached at:    ", 1)[1].splitlines()[0])
    assert cached.read_bytes() == (fixtures / "greeter.wasm").read_bytes()
    assert stat.S_IMODE(cached.stat().st_mode) & 0o222 == 0  # read-only
    assert "use -o PATH for a file of your own" in result.stderr


# 11. verify, outdated and cache ls print readable lines
def test_11_verify_outdated_and_cache_ls_output(mcpkg: Mcpkg, fixtures: Path, published: str, tmp_path: Path) -> None:
    password = {"COSIGN_PASSWORD": "newcomer"}
    key_id = mcpkg.ok("keygen", "--output-prefix", str(tmp_path / "k"), env=password).stdout.strip()
    ref = f"{published}/tools:0.1.0"
    mcpkg.ok("sign", ref, "--key", str(tmp_path / "k.key"), env=password)
    verified = mcpkg.ok("verify", ref, "--key", str(tmp_path / "k.pub")).stdout
    assert f"signature #0: valid, signed by key {key_id}\nverified\n" in verified
    root = write_project(tmp_path / "p", published)
    mcpkg.ok("lock", "-C", str(root))
    lines = mcpkg.ok("outdated", "-C", str(root)).stdout.splitlines()
    assert lines[0] == f"{'component':<24} {'locked':<12} {'matching':<12} latest"
    assert all(line == line.rstrip() for line in lines)
    listing = mcpkg.ok("cache", "ls").stdout.splitlines()
    assert listing[0].startswith(f"{published}/")
    short = (
        r"  digest sha256:[0-9a-f]{12}  layer sha256:[0-9a-f]{12}  [0-9.]+ (B|KiB|MiB)  used \d{4}-\d\d-\d\d \d\d:\d\d"
    )
    assert re.fullmatch(short, listing[1]), listing[1]
    assert all(len(line) <= 100 for line in listing)
    assert re.search(r"digest sha256:[0-9a-f]{64}  ", mcpkg.ok("cache", "ls", "-v").stdout)


# 12. compose without mcpkg.toml fails before announcing any work
def test_12_compose_checks_its_inputs_first(mcpkg: Mcpkg, tmp_path: Path) -> None:
    result = mcpkg("compose", "-C", str(tmp_path), "--precompile")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no mcpkg.toml in {tmp_path} or any of its parents\n  hint: run `mcpkg init` to create one\n"
    )


# 13. a first compile says what happens and that it happens once
def test_13_a_first_compile_says_so_once(mcpkg: Mcpkg, published: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", published)
    first = mcpkg.ok("compose", "-C", str(root), "-o", str(tmp_path / "server.wasm"), "--precompile")
    assert (
        "compiling server.wasm (once, now) with cranelift: `mcpkg run` loads the compiled code from then on\n"
        in first.stderr
    )
    again = mcpkg.ok("compose", "-C", str(root), "-o", str(tmp_path / "server.wasm"), "--precompile")
    assert "compiling" not in again.stderr  # compiled once: nothing to say
    json.loads(mcpkg.ok("compose", "-C", str(root), "-o", str(tmp_path / "server.wasm"), "--json").stdout)
