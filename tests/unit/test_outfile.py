"""The destination rules for the user's files (mcpkg/outfile.py) on real files, links,
FIFOs, sockets and devices. Links to /dev/null live in the test's temp dir: nothing
under /dev is ever created, replaced or removed."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from mcpkg.cache import Cache
from mcpkg.errors import IntegrityError
from mcpkg.outfile import (
    Kind,
    PathProblem,
    copy_file_contents,
    open_output,
    resolve_destination,
    write_user_file,
)
from mcpkg.reference import Digest
from testing.streams import FifoReader


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def test_each_kind_of_destination(tmp_path: Path, fifo: Path) -> None:
    (tmp_path / "file").write_bytes(b"old")
    (tmp_path / "to-file").symlink_to(tmp_path / "file")
    (tmp_path / "to-null").symlink_to("/dev/null")
    (tmp_path / "to-fifo").symlink_to(fifo)
    assert resolve_destination(tmp_path / "new").kind is Kind.FILE
    regular = resolve_destination(tmp_path / "file")
    assert regular.kind is Kind.FILE and regular.path == tmp_path / "file"
    linked = resolve_destination(tmp_path / "to-file")
    assert linked.kind is Kind.FILE and linked.path == (tmp_path / "file").resolve()
    assert linked.shown == str(tmp_path / "to-file")
    assert resolve_destination(tmp_path / "to-null").kind is Kind.STREAM
    assert resolve_destination(fifo).kind is Kind.STREAM
    assert resolve_destination(tmp_path / "to-fifo").kind is Kind.STREAM


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "it is a directory"),
        (lambda p: p.symlink_to(p.parent / "nowhere" / "x"), "which does not exist"),
        (lambda p: None, "does not exist"),  # the parent directory is missing
    ],
    ids=["directory", "dangling-symlink", "missing-directory"],
)
def test_refused_destinations_name_the_path(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "out"
    target = path if message != "does not exist" else tmp_path / "missing" / "out"
    if callable(make):
        make(target)
    with pytest.raises(PathProblem) as caught:
        resolve_destination(target)
    assert str(target) in caught.value.message and message in caught.value.message


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(PathProblem, match="it is a socket"):
            resolve_destination(path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)  # untouched
    finally:
        server.close()


def test_a_path_through_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(PathProblem, match="is not a directory"):
        resolve_destination(tmp_path / "file" / "out")


def test_stdout_only_when_allowed(tmp_path: Path) -> None:
    assert resolve_destination("-", allow_stdout=True).kind is Kind.STDOUT  # pytest's stdout is no terminal
    assert resolve_destination(tmp_path / "-").kind is Kind.FILE


def test_symlink_is_written_through_and_stays(tmp_path: Path) -> None:
    target = tmp_path / "real.toml"
    target.write_bytes(b"old")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    write_user_file(link, b"new", 0o600)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.toml", "real.toml"]


def test_link_to_dev_null_stays_a_link(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_user_file(link, b"discarded")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_fifo_reader_gets_the_bytes_and_the_fifo_stays(fifo: Path) -> None:
    reader = FifoReader(fifo)
    write_user_file(fifo, b"through the pipe")
    assert reader.result() == b"through the pipe"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "keep"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), open_output(resolve_destination(path)) as out:
        out.write(b"half")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_copy_file_contents_kernel_copy_and_plain_fallback(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "src").write_bytes(data)
    with (tmp_path / "src").open("rb") as src, (tmp_path / "dst").open("w+b") as dst:
        how = copy_file_contents(src, dst, len(data))
    assert how in ("reflink", "kernel")
    assert (tmp_path / "dst").read_bytes() == data
    read_end, write_end = os.pipe()
    received = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 65536):
            received.extend(chunk)

    thread = threading.Thread(target=drain)
    thread.start()
    with (tmp_path / "src").open("rb") as src, os.fdopen(write_end, "wb") as pipe:
        assert copy_file_contents(src, pipe, len(data)) == "read"
    thread.join(10)
    os.close(read_end)
    assert bytes(received) == data


def _cached(tmp_path: Path, data: bytes) -> tuple[Cache, Digest]:
    cache = Cache(tmp_path / "cache")
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    cache.store_bytes(digest, data)
    return cache, digest


def test_exported_file_is_the_users_own(tmp_path: Path) -> None:
    data = b"\x00asm\x0d\x00\x01\x00" + os.urandom(4096)
    cache, digest = _cached(tmp_path, data)
    out = tmp_path / "out.wasm"
    cache.export(digest, len(data), resolve_destination(out))
    blob = cache.blob_path(digest)
    assert out.stat().st_ino != blob.stat().st_ino and out.stat().st_nlink == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    with out.open("r+b") as f:  # what `cp x out.wasm` does
        f.write(b"overwritten")
    assert cache.verify() == (1, [])
    assert blob.read_bytes() == data


def test_a_corrupt_cache_sends_nothing_to_a_fifo(tmp_path: Path, fifo: Path) -> None:
    data = b"\x00asm\x0d\x00\x01\x00" + b"y" * 1000
    cache, digest = _cached(tmp_path, data)
    blob = cache.blob_path(digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(data[:-1] + b"z")
    reader = FifoReader(fifo)
    with pytest.raises(IntegrityError, match="corrupt"):
        cache.export(digest, len(data), resolve_destination(fifo))
    os.close(os.open(fifo, os.O_WRONLY))  # let the reader see the end: it got nothing
    assert reader.result() == b""
    assert not cache.has_blob(digest)


@pytest.fixture(scope="module")
def reflink_fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A btrfs filesystem in a loop-mounted image file: one that has reflinks (the
    machine's own ext4 has none)."""
    import subprocess

    base = tmp_path_factory.mktemp("btrfs")
    image, mount = base / "fs.img", base / "mnt"
    with image.open("wb") as f:
        f.truncate(160 * 1024 * 1024)
    subprocess.run(["mkfs.btrfs", "-q", str(image)], check=True, capture_output=True)
    mount.mkdir()
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True, capture_output=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True, capture_output=True)


def test_export_clones_where_the_filesystem_has_reflinks(reflink_fs: Path) -> None:
    data = b"\x00asm\x0d\x00\x01\x00" + os.urandom(2 * 1024 * 1024)
    cache, digest = _cached(reflink_fs, data)
    out = reflink_fs / "out.wasm"
    assert cache.export(digest, len(data), resolve_destination(out)) == "reflink"
    assert out.read_bytes() == data and out.stat().st_ino != cache.blob_path(digest).stat().st_ino
    with out.open("r+b") as f:  # copy-on-write: the cache keeps its bytes
        f.write(b"changed")
    assert cache.verify() == (1, [])


def test_a_changed_blob_is_hashed_again(tmp_path: Path) -> None:
    """The hash is skipped only while the blob is the very inode that was verified: a
    write into it (which changes mtime and ctime) makes the next export hash it."""
    data = b"\x00asm\x0d\x00\x01\x00" + os.urandom(1000)
    cache = Cache(tmp_path / "cache")
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())

    def fill(out: BinaryIO) -> None:
        out.write(data)

    cache.store_stream(digest, fill)
    cache.export(digest, len(data), resolve_destination(tmp_path / "a.wasm"))  # the recorded inode
    blob = cache.blob_path(digest)
    os.chmod(blob, 0o644)
    with blob.open("r+b") as f:
        f.write(b"\x00asm\x0d\x00\x01\x00X")
    with pytest.raises(IntegrityError, match="corrupt"):
        cache.export(digest, len(data), resolve_destination(tmp_path / "b.wasm"))
    assert not (tmp_path / "b.wasm").exists() and not cache.has_blob(digest)
