from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import IO

import pytest

import mcpkg.cache
from mcpkg.cache import RACY_SECONDS, Cache, is_racy
from mcpkg.errors import IntegrityError
from mcpkg.outfile import resolve_destination
from mcpkg.reference import Digest


def digest_of(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def test_failed_fill_leaves_nothing(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    digest = digest_of(b"hello")

    def fill(out: IO[bytes]) -> None:
        out.write(b"hel")
        raise IntegrityError("boom")

    with pytest.raises(IntegrityError):
        cache.store_stream(digest, fill)
    assert not cache.has_blob(digest)
    assert list(cache.tmp.iterdir()) == []


def test_concurrent_stores_fill_once(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    data = os.urandom(1 << 16)
    digest = digest_of(data)
    calls: list[int] = []

    def fill(out: IO[bytes]) -> None:
        calls.append(1)
        time.sleep(0.05)
        out.write(data)

    threads = [threading.Thread(target=cache.store_stream, args=(digest, fill)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert cache.blob_path(digest).read_bytes() == data


def test_export_detects_a_tampered_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    data = b"component bytes"
    digest = digest_of(data)
    path = cache.store_bytes(digest, data)
    os.chmod(path, 0o644)
    path.write_bytes(b"component bytez")
    dest = tmp_path / "out.wasm"
    with pytest.raises(IntegrityError, match="corrupt"):
        cache.export(digest, len(data), resolve_destination(dest))
    assert not dest.exists() and not cache.has_blob(digest)
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temp file left beside dest


def test_verify_and_prune(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    good, bad, orphan = b"good", b"bad", b"orphan"
    for data in (good, bad, orphan):
        cache.store_bytes(digest_of(data), data)
    cache.record(digest_of(good), digest_of(good), digest_of(bad), 3, "r/x:1")
    p = cache.blob_path(digest_of(bad))
    os.chmod(p, 0o644)
    p.write_bytes(b"BAD")
    checked, corrupt = cache.verify()
    assert checked == 3 and corrupt == [digest_of(bad)]
    old = time.time() - 7200
    os.utime(cache.blob_path(digest_of(orphan)), (old, old))
    entries, freed = cache.prune(None)
    assert entries == 0 and freed == len(orphan)
    assert cache.has_blob(digest_of(good)) and not cache.has_blob(digest_of(orphan))
    entries, _ = cache.prune(0)
    assert entries == 1 and cache.entries() == []


def test_temp_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from mcpkg.outfile import remove_dead_temps, temp_path_for

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)
    dest = tmp_path / "server.wasm"
    dead_temp = tmp_path / f".server.wasm.{dead}.0a1b2c.tmp"
    live_temp = tmp_path / f".server.wasm.{os.getppid()}.0a1b2c.tmp"  # a running process
    own_temp = temp_path_for(dest)
    other = tmp_path / f".other.wasm.{dead}.0a1b2c.tmp"
    for path in (dead_temp, live_temp, own_temp, other):
        path.write_bytes(b"partial")
    assert remove_dead_temps(dest) == 1
    assert not dead_temp.exists()
    assert live_temp.exists() and own_temp.exists() and other.exists()


def test_export_twice_to_one_path_leaves_no_temp_file(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    data = b"\x00asm\x0d\x00\x01\x00" + b"x" * 100
    digest = Digest("sha256", hashlib.sha256(data).hexdigest())
    cache.store_bytes(digest, data)
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(3):
        cache.export(digest, len(data), resolve_destination(out / "a.wasm"))
    assert sorted(p.name for p in out.iterdir()) == ["a.wasm"]
    assert (out / "a.wasm").read_bytes() == data


def test_a_file_changed_in_the_last_two_seconds_is_racy(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    st = path.stat()
    changed = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    assert is_racy(st, now=changed + 1) and is_racy(st, now=changed - 60)  # the future too
    assert not is_racy(st, now=changed + RACY_SECONDS + 0.1)
    os.utime(path, ns=(0, 0))  # an old mtime set by hand: the ctime is still now
    assert is_racy(path.stat(), now=changed + 1)


def test_a_racy_file_is_hashed_every_time_and_not_recorded(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    path = tmp_path / "f"
    for data in (b"one", b"two", b"one"):  # same size, same inode, within one second
        with path.open("r+b" if path.exists() else "wb") as f:
            f.write(data)
        assert cache.file_digest(path) == (digest_of(data), 3)
    assert not (cache.root / "files").exists()


def test_a_digest_record_that_cannot_be_written_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mcpkg.cache, "RACY_SECONDS", -3600.0)  # the file counts as settled at once
    path = tmp_path / "f"
    path.write_bytes(b"data")
    writable = Cache(tmp_path / "writable")
    assert writable.file_digest(path) == (digest_of(b"data"), 4)
    assert len(list((writable.root / "files").iterdir())) == 1
    cache = Cache(tmp_path / "cache")
    cache.ensure()
    (cache.root / "files").write_bytes(b"not a folder")  # so no record can be made
    assert cache.file_digest(path) == (digest_of(b"data"), 4)
