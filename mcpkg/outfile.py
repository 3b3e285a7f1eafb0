"""Writing files atomically: temp file, then rename; and cleaning up after killed writers.

A file mcpkg writes for the user (`pull -o`, `compose -o`, `mcpkg.lock`, `mcpkg.toml`,
keys, the Docker config) goes to `.NAME.<pid>.<unique>.tmp` in the same directory (so the
final `os.replace` is atomic) and is renamed over `NAME` only when complete. A process killed
outright (SIGKILL, OOM killer, power loss) cannot remove its temp file; the next write to
the same `NAME` does, when the pid in the name is no longer a running process. A file of
a live process (another mcpkg writing the same output right now) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path


def temp_path_for(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_dead_temps(dest: Path) -> int:
    """Remove temp files that killed writers left for `dest`; returns how many."""
    pattern = re.compile(re.escape(f".{dest.name}.") + r"(\d+)\.[0-9a-z_]+\.tmp")
    removed = 0
    try:
        candidates = list(dest.parent.iterdir())
    except OSError:
        return 0
    for path in candidates:
        match = pattern.fullmatch(path.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.unlink()
            removed += 1
    return removed


def atomic_write_bytes(
    dest: Path, data: bytes, mode: int = 0o644, *, tmp_dir: Path | None = None, durable: bool = True
) -> None:
    """Write `data` to `dest` through a temp file (beside it, or in `tmp_dir` on the same
    filesystem) and a rename: `dest` holds the old or the new content, never part. With
    `durable` (the user's files) the data is fsynced first, so that holds across a power
    loss too; the cache passes its own `tmp/` and no fsync."""
    if tmp_dir is None:
        remove_dead_temps(dest)
        tmp = temp_path_for(dest)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    else:
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix=f".{dest.name}.", suffix=".tmp")
        tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
