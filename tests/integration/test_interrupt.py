"""Interruption and concurrency: `mcpkg pull -o`, `mcpkg lock` and `mcpkg compose -o`
SIGKILLed at random points, then run concurrently, on one cache and one project. Nothing
partial is left at an output path, the cache verifies clean (strays only in its `tmp/`),
`mcpkg.lock` is the previous or the new complete lock, and the next run succeeds.

A bounded run of testing/chaos.py (3 kills per operation, one concurrent round);
`scripts/chaos` runs the long one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mcpkg.cache import Cache
from testing.chaos import OPERATIONS, Chaos
from testing.registry import Registry

SEED = 20240611


def test_interrupted_and_concurrent_runs_leave_nothing_partial(registry: Registry, tmp_path: Path) -> None:
    chaos = Chaos(registry.host, tmp_path, SEED, blob_size=512 * 1024)
    chaos.setup(calibration_rounds=1)
    report = chaos.run_all(iterations=3 * len(OPERATIONS), concurrency=4, concurrent_rounds=1)
    assert report.ok, report.table() + "\n" + "\n".join(report.failures)
    assert report.stats["pull"].runs == report.stats["lock"].runs == report.stats["compose"].runs == 3


def test_cache_temp_files_of_a_killed_writer_stay_in_tmp(tmp_path: Path) -> None:
    """A process killed in the middle of writing any cache file (blob, entry, type model,
    compiled artifact) leaves its temp file only in `tmp/`, which `verify` ignores and
    `prune` removes; `verify` never mistakes it for a corrupt blob."""
    cache = Cache(tmp_path / "cache")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import mcpkg.cache as c\n"
        "def stuck(*args, **kwargs):\n"
        "    print('writing', flush=True)\n"
        "    import time; time.sleep(60)\n"
        "os.chmod = stuck\n"  # the writer stops just before its rename
        "cache = c.Cache(Path(sys.argv[1]))\n"
        "cache.store_bytes(c.Digest('sha256', __import__('hashlib').sha256(b'x').hexdigest()), b'x')\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(cache.root)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"writing"
    process.send_signal(signal.SIGKILL)
    process.wait()
    strays = [p for p in cache.root.rglob("*") if p.is_file()]
    assert strays and all(p.parent == cache.tmp for p in strays), strays
    assert cache.verify() == (0, [])
    old = time.time() - 2 * 3600
    for path in strays:
        os.utime(path, (old, old))
    cache.prune(None)
    assert not any(p.is_file() for p in cache.root.rglob("*"))
