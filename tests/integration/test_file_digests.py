"""`inspect FILE` and `check FILE` take a user file's digest from the cache's `files/`
record while the file's inode state is unchanged (mcpkg/cache.py): a file rewritten in
place (same path, same size, same inode) is hashed again and its new types shown; a
record that is garbage is ignored; a file changed in the last two seconds ("racy") is
hashed every time and never recorded. `lock --check` reads the records and writes none."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from tests.conftest import Mcpkg
from tests.integration.test_project import published, write_project

__all__ = ["published"]  # the session fixture of published role components, shared

SETTLE = 2.2  # seconds: a file younger than mcpkg.cache.RACY_SECONDS gets no record


def padded(data: bytes, size: int) -> bytes:
    """`data` (a component) with a custom section "pad" appended: `size` bytes long."""
    for payload in range(size):
        body = bytes([3]) + b"pad" + bytes(payload)
        section = bytes([0]) + _leb(len(body)) + body
        if len(data) + len(section) == size:
            return data + section
    raise AssertionError(f"cannot pad {len(data)} bytes to {size}")


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def rewrite_in_place(path: Path, data: bytes) -> None:
    with path.open("r+b") as f:  # the same inode: no new file, no rename
        f.write(data)


def records(mcpkg: Mcpkg) -> list[Path]:
    folder = mcpkg.cache / "files"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_file_rewritten_in_place_shows_its_new_types(mcpkg: Mcpkg, fixtures: Path, tmp_path: Path) -> None:
    greeter = (fixtures / "greeter.wasm").read_bytes()
    logger = padded((fixtures / "logger.wasm").read_bytes(), len(greeter))
    part = tmp_path / "part.wasm"
    shutil.copyfile(fixtures / "greeter.wasm", part)
    fresh = mcpkg.ok("inspect", str(part), "--json").json()
    assert "fixtures:hello/greet@0.1.0" in fresh["exports"] and records(mcpkg) == []  # racy: no record

    time.sleep(SETTLE)
    assert mcpkg.ok("inspect", str(part), "--json").json() == fresh
    [record] = records(mcpkg)
    stat = part.stat()
    assert record.name == f"{stat.st_dev}-{stat.st_ino}"
    assert json.loads(record.read_text())["digest"] == fresh["layer-digest"]

    inode = part.stat().st_ino
    rewrite_in_place(part, logger)
    assert part.stat().st_ino == inode and part.stat().st_size == len(greeter)
    reference = tmp_path / "reference" / "part.wasm"  # the new bytes in a new file
    reference.parent.mkdir()
    reference.write_bytes(logger)
    time.sleep(SETTLE)  # no longer racy: only the changed stat tells the record is stale
    changed = mcpkg.ok("inspect", str(part), "--json").json()
    assert changed["exports"] == ["fixtures:hello/log@0.1.0"] and changed["layer-digest"] != fresh["layer-digest"]
    assert {**changed, "file": ""} == {**mcpkg.ok("inspect", str(reference), "--json").json(), "file": ""}
    transport = str(fixtures / "greeter.wasm")
    checked, expected = (mcpkg("check", transport, str(path), "--json") for path in (part, reference))
    assert (checked.exit_code, checked.stdout) == (expected.exit_code, expected.stdout)
    assert "fixtures:hello/log@0.1.0" in checked.stdout

    # rewritten again and inspected at once (racy): hashed, and not recorded
    written = json.loads(record.read_text())
    rewrite_in_place(part, greeter)
    assert mcpkg.ok("inspect", str(part), "--json").json()["layer-digest"] == fresh["layer-digest"]
    assert json.loads(record.read_text()) == written


def test_a_record_that_is_garbage_is_ignored(mcpkg: Mcpkg, fixtures: Path, tmp_path: Path) -> None:
    part = tmp_path / "part.wasm"
    shutil.copyfile(fixtures / "greeter.wasm", part)
    time.sleep(SETTLE)
    want = mcpkg.ok("inspect", str(part), "--json").json()
    [record] = records(mcpkg)
    stat = part.stat()
    key = f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"
    garbage = [
        b"\x00\xff not json",
        b"[]",
        b'{"stat": 1}',
        json.dumps({"stat": key, "digest": "md5:abc", "size": stat.st_size}).encode(),
        json.dumps({"stat": key, "digest": ["x"], "size": stat.st_size}).encode(),
        json.dumps({"stat": key, "digest": want["layer-digest"], "size": stat.st_size + 1}).encode(),
    ]
    for text in garbage:
        record.write_bytes(text)
        assert mcpkg.ok("inspect", str(part), "--json").json() == want, text
        assert json.loads(record.read_text())["digest"] == want["layer-digest"]  # written anew


def test_lock_check_reads_records_and_sees_a_rewrite(
    mcpkg: Mcpkg, published: str, tmp_path: Path, roles_dir: Path
) -> None:
    root = write_project(tmp_path / "p", published)
    (root / "build").mkdir()
    local = root / "build" / "tools.wasm"
    tools, writers = ((roles_dir / f"{name}.wasm").read_bytes() for name in ("tools-handler", "writers"))
    size = max(len(tools), len(writers))
    local.write_bytes(padded(tools, size) if len(tools) < size else tools)
    text = (root / "mcpkg.toml").read_text().replace(f'ref = "{published}/tools"', 'path = "build/tools.wasm"')
    (root / "mcpkg.toml").write_text(text)
    time.sleep(SETTLE)
    mcpkg.ok("lock", "-C", str(root))
    [record] = records(mcpkg)
    locked = record.read_bytes()
    assert mcpkg.ok("lock", "--check", "-C", str(root)).stdout == "mcpkg.lock is fresh\n"

    rewrite_in_place(local, padded(writers, size) if len(writers) < size else writers)
    time.sleep(SETTLE)  # settled again: only the changed stat tells the record is stale
    changed = mcpkg("lock", "--check", "-C", str(root))
    assert changed.exit_code == 1 and "tools: build/tools.wasm changed since it was locked" in changed.stderr
    assert records(mcpkg) == [record] and record.read_bytes() == locked  # --check wrote nothing
