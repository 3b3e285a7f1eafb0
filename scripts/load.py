"""Load: push, then pull, many distinct components concurrently against a loopback
docker-registry, through the real CLI, and report throughput and errors.

    ./scripts/load [--count 200] [--jobs 8] [--keep]

Phase 1 pushes `--count` components (a real fixture, `answer.wasm`, made distinct by a
custom section; every 10th padded to 1-5 MiB, so some uploads go chunked), `--jobs`
`mcpkg push` processes at a time. Phase 2 pulls them all back (`mcpkg pull -o --json`)
into a fresh directory, the same way; every file must be byte-identical to the pushed
one and hash to the layer digest the pull reported. Phase 3 lists the tags of a few
repositories. Every process shares one cache, which `mcpkg cache verify` must then find
clean. Exit status 1 on any error or mismatch.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.load import format_report, run_load  # noqa: E402
from testing.registry import running_registry  # noqa: E402


def fixtures_dir() -> Path:
    """Build the fixtures if stale; their directory (the builder's last line)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "registry-fixtures" / "build.py")], check=True, capture_output=True, text=True
    )
    return Path(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="components to push and pull (default 200)")
    parser.add_argument("--jobs", type=int, default=8, help="mcpkg processes at a time (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (components, cache, pulls)")
    args = parser.parse_args()
    if args.count < 1 or args.jobs < 1:
        parser.error("--count and --jobs must be at least 1")

    base = (fixtures_dir() / "answer.wasm").read_bytes()
    work = Path(tempfile.mkdtemp(prefix="mcpkg-load-"))
    try:
        with running_registry() as registry:
            print(f"registry {registry.host}, working directory {work}", file=sys.stderr)
            report = run_load(base, registry.host, work, count=args.count, jobs=args.jobs)
        print(format_report(report))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
