"""Temp files beside a user's output path (`pull -o`, `compose -o`), and their clean-up.

An output is written to `.NAME.<pid>.<unique>.tmp` in the output's own directory (so the
final `os.replace` is atomic) and renamed over `NAME` only when complete. A process killed
outright (SIGKILL, OOM killer, power loss) cannot remove its temp file; the next write to
the same `NAME` does, when the pid in the name is no longer a running process. A file of
a live process (another mcpkg writing the same output right now) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
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
