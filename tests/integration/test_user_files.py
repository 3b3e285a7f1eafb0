"""What `pull -o` and `compose -o` do with each kind of destination, against a real
registry: stdout (`-o -`), symlinks (to /dev/null, to a file), FIFOs, sockets,
directories; the pulled file is the user's own (writing into it never changes the
cache); a SIGKILL while writing into a FIFO or stdout leaves the cache clean. Links to
/dev/null are made in the test's temp dir: nothing under /dev is created or replaced."""

from __future__ import annotations

import hashlib
import os
import pty
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.streams import FifoReader
from tests.conftest import Mcpkg
from tests.integration.test_project import published, write_project

__all__ = ["published"]  # the session fixture of published role components, shared


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def cli(mcpkg: Mcpkg, *args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    """The real CLI as a process, with real stdout (bytes) and the test's isolated env."""
    env = {k: v for k, v in {**os.environ, **mcpkg.env}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "mcpkg", *args], env=env, stdout=stdout, stderr=subprocess.PIPE, timeout=120
    )


def spawn(
    mcpkg: Mcpkg, *args: str, extra_env: dict[str, str] | None = None, stdout: int | None = None
) -> subprocess.Popen[bytes]:
    """The real CLI started in the background (stderr captured)."""
    env = {k: v for k, v in {**os.environ, **mcpkg.env, **(extra_env or {})}.items() if v is not None}
    return subprocess.Popen([sys.executable, "-m", "mcpkg", *args], env=env, stdout=stdout, stderr=subprocess.PIPE)


def cache_is_clean(mcpkg: Mcpkg) -> None:
    verified = mcpkg("cache", "verify")
    assert verified.exit_code == 0 and ", 0 corrupt" in verified.stdout, verified.stdout + verified.stderr


@pytest.fixture
def greeter(mcpkg: Mcpkg, fixtures: Path, repo: str) -> Iterator[tuple[str, bytes]]:
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0")
    yield f"{repo}:1.0.0", (fixtures / "greeter.wasm").read_bytes()


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "chatty"])
def test_pull_to_stdout_cold_and_warm(mcpkg: Mcpkg, greeter: tuple[str, bytes], quiet: bool) -> None:
    ref, data = greeter
    flags = ["-q"] if quiet else []
    for round_ in ("cold", "warm"):
        done = cli(mcpkg, *flags, "pull", ref, "-o", "-")
        assert done.returncode == 0, done.stderr
        assert sha(done.stdout) == sha(data), f"{round_}: stdout is not the component"
        assert b"reference:" in done.stderr and b"written to:   stdout" in done.stderr
    assert not Path("-").exists()
    cache_is_clean(mcpkg)


def test_stdout_with_json_is_a_usage_error(mcpkg: Mcpkg, greeter: tuple[str, bytes]) -> None:
    result = mcpkg("pull", greeter[0], "-o", "-", "--json")
    assert result.exit_code == 2 and "both want stdout" in result.stdout
    assert mcpkg.cached_blobs() == []  # refused before any transfer


def test_stdout_that_is_a_terminal_is_refused(mcpkg: Mcpkg, greeter: tuple[str, bytes]) -> None:
    main, terminal = pty.openpty()
    try:
        done = cli(mcpkg, "pull", greeter[0], "-o", "-", stdout=terminal)
    finally:
        os.close(terminal)
        os.close(main)
    assert done.returncode == 2 and b"to a terminal" in done.stderr
    assert mcpkg.cached_blobs() == []


def test_pull_through_a_symlink_to_dev_null(mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path) -> None:
    link = tmp_path / "out" / "null.wasm"
    link.parent.mkdir()
    link.symlink_to("/dev/null")
    for _ in ("cold", "warm"):
        mcpkg.ok("pull", greeter[0], "-o", str(link))
        assert link.is_symlink() and os.readlink(link) == "/dev/null"
        assert sorted(p.name for p in link.parent.iterdir()) == ["null.wasm"]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_pull_through_a_symlink_to_a_file(mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path) -> None:
    target = tmp_path / "store" / "real.wasm"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.wasm"
    link.symlink_to(target)
    got = mcpkg.ok("pull", greeter[0], "-o", str(link), "--json").json()
    assert got["output"] == str(link)
    assert link.is_symlink() and target.read_bytes() == greeter[1]
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.wasm"]


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_pull_into_a_fifo(mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path, warm: bool) -> None:
    if warm:
        mcpkg.ok("pull", greeter[0])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    mcpkg.ok("pull", greeter[0], "-o", str(fifo))
    assert reader.result() == greeter[1]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_pull_to_a_socket_is_refused(mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "s.wasm"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        result = mcpkg("pull", greeter[0], "-o", str(path))
        assert result.exit_code == 1 and str(path) in result.stderr and "socket" in result.stderr
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert mcpkg.cached_blobs() == []
    finally:
        server.close()


def test_pull_into_a_directory_names_the_file_after_the_repository(
    mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path
) -> None:
    ref = greeter[0]
    name = ref.rsplit("/", 1)[1].split(":")[0] + ".wasm"
    got = mcpkg.ok("pull", ref, "-o", str(tmp_path), "--json").json()
    assert got["output"] == str(tmp_path / name) and (tmp_path / name).read_bytes() == greeter[1]
    (tmp_path / name).unlink()
    (tmp_path / name).mkdir()  # the name inside is itself a directory: refused, named
    refused = mcpkg("pull", ref, "-o", str(tmp_path))
    assert refused.exit_code == 1 and str(tmp_path / name) in refused.stderr and "directory" in refused.stderr


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_the_pulled_file_is_the_users_own(mcpkg: Mcpkg, greeter: tuple[str, bytes], tmp_path: Path, warm: bool) -> None:
    ref, data = greeter
    if warm:
        mcpkg.ok("pull", ref)
    out = tmp_path / "mine.wasm"
    mcpkg.ok("pull", ref, "-o", str(out))
    assert out.stat().st_nlink == 1 and out.stat().st_mode & stat.S_IWUSR
    with out.open("r+b") as f:  # what `cp other.wasm mine.wasm` does
        f.write(b"edited by the user")
    cache_is_clean(mcpkg)
    mcpkg.ok("pull", ref, "-o", str(out))
    assert out.read_bytes() == data


def test_sigkill_while_writing_into_a_fifo_leaves_the_cache_clean(
    mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path
) -> None:
    large = (fixtures / "large.wasm").read_bytes()
    mcpkg.ok("push", str(fixtures / "large.wasm"), f"{repo}:1.0.0")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = bytearray()
    for round_ in ("cold", "warm"):
        process = spawn(mcpkg, "-q", "pull", f"{repo}:1.0.0", "-o", str(fifo))
        with open(fifo, "rb") as reader:
            got = bytearray(reader.read(65536))  # then stop reading: the writer blocks on a full pipe
            time.sleep(0.3)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        assert got == large[: len(got)] and len(got) > 0, round_  # only verified bytes went out
        cache_is_clean(mcpkg)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    out = tmp_path / "after.wasm"
    mcpkg.ok("pull", f"{repo}:1.0.0", "-o", str(out))
    assert sha(out.read_bytes()) == sha(large)


def test_sigkill_while_writing_to_stdout_leaves_the_cache_clean(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    large = (fixtures / "large.wasm").read_bytes()
    mcpkg.ok("push", str(fixtures / "large.wasm"), f"{repo}:1.0.0")
    process = spawn(mcpkg, "-q", "pull", f"{repo}:1.0.0", "-o", "-", stdout=subprocess.PIPE)
    assert process.stdout is not None
    head = process.stdout.read(65536)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert head == large[: len(head)]
    cache_is_clean(mcpkg)
    done = cli(mcpkg, "-q", "pull", f"{repo}:1.0.0", "-o", "-")
    assert done.returncode == 0 and sha(done.stdout) == sha(large)


# -- compose -o ---------------------------------------------------------------------


@pytest.fixture
def locked_project(mcpkg: Mcpkg, published: str, tmp_path: Path) -> Path:
    root = write_project(tmp_path / "proj", published)
    mcpkg.ok("lock", "-C", str(root))
    return root


def test_compose_to_each_kind_of_destination(mcpkg: Mcpkg, locked_project: Path, tmp_path: Path) -> None:
    root = locked_project
    reference = root / "server.wasm"
    first = mcpkg.ok("compose", "-C", str(root), "-o", str(reference), "--json").json()
    data = reference.read_bytes()
    assert sha(data) == first["digest"]
    # stdout: the bytes, and every human line on stderr
    done = cli(mcpkg, "compose", "-C", str(root), "-o", "-")
    assert done.returncode == 0 and sha(done.stdout) == first["digest"]
    assert b"wrote stdout" in done.stderr and first["digest"].encode() in done.stderr
    assert mcpkg("compose", "-C", str(root), "-o", "-", "--json").exit_code == 2
    # a symlink to /dev/null stays a symlink
    link = tmp_path / "null.wasm"
    link.symlink_to("/dev/null")
    mcpkg.ok("compose", "-C", str(root), "-o", str(link))
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    # a FIFO's reader gets the validated server
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    mcpkg.ok("compose", "-C", str(root), "-o", str(fifo))
    assert reader.result() == data and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # a directory gets server.wasm inside it
    out = tmp_path / "build"
    out.mkdir()
    got = mcpkg.ok("compose", "-C", str(root), "-o", str(out), "--json").json()
    assert got["output"] == str(out / "server.wasm") and (out / "server.wasm").read_bytes() == data
    # a socket is refused, named, and left alone
    sock_path = tmp_path / "s.wasm"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        refused = mcpkg("compose", "-C", str(root), "-o", str(sock_path))
        assert refused.exit_code == 1 and str(sock_path) in refused.stderr and "socket" in refused.stderr
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    finally:
        server.close()
    cache_is_clean(mcpkg)
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_no_lock_file_of_the_lock_is_left_in_the_project(mcpkg: Mcpkg, published: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", published)
    before = {"mcpkg.toml"}
    mcpkg.ok("lock", "-C", str(root))
    assert {p.name for p in root.iterdir()} == before | {"mcpkg.lock"}
    mcpkg.ok("add", "tools2", f"{published}/tools", "--version", "^0.2", "--chain", "-C", str(root))
    mcpkg.ok("remove", "tools2", "-C", str(root))
    failed = mcpkg("add", "bad", f"{published}/bad-logger", "--chain", "-C", str(root))  # cannot compose: rolled back
    assert failed.exit_code == 1
    assert {p.name for p in root.iterdir()} == before | {"mcpkg.lock"}


def test_locks_on_one_project_serialise_across_caches(mcpkg: Mcpkg, published: str, tmp_path: Path) -> None:
    """Two processes with different MCPKG_CACHE_DIRs: the second waits for the first's
    flock on the project directory (held here by the test itself)."""
    import fcntl

    root = write_project(tmp_path / "p", published)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    finished = threading.Event()
    env = {"MCPKG_CACHE_DIR": str(tmp_path / "other-cache")}
    process = spawn(mcpkg, "-q", "lock", "-C", str(root), extra_env=env)

    def wait() -> None:
        process.wait()
        finished.set()

    threading.Thread(target=wait, daemon=True).start()
    try:
        assert not finished.wait(3), "lock did not wait for the project's lock"
        assert not (root / "mcpkg.lock").exists()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert finished.wait(60) and process.returncode == 0
    assert (root / "mcpkg.lock").is_file()
