"""Interruption and concurrency chaos against a loopback docker-registry.

    ./scripts/chaos [--iterations 50] [--seed N] [--concurrency 5] [--concurrent-rounds 3] [--minutes M]

`--iterations` rounds, taking `mcpkg pull REF -o OUT`, `mcpkg lock` and
`mcpkg compose -o OUT` in turn, each SIGKILLed after a random delay within its typical
duration (measured first), against one shared cache and one project; after every kill:
`mcpkg cache verify --json` clean, no output partial (previous or new complete content,
by sha256), `mcpkg.lock` parses, and the same command run again succeeds. Then rounds of
`--concurrency` processes at once. Prints a summary table; exits 1 on any failure. The
rules are in testing/chaos.py.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.chaos import Chaos  # noqa: E402
from testing.registry import running_registry  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=50, help="kill rounds (operations in turn)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--concurrency", type=int, default=5, help="processes at once in the concurrency phase")
    parser.add_argument("--concurrent-rounds", type=int, default=3, help="rounds of the concurrency phase")
    parser.add_argument("--minutes", type=float, default=None, help="start no kill round after this many minutes")
    parser.add_argument("--blob-mib", type=float, default=2.0, help="size of the components pulled")
    args = parser.parse_args()
    if args.iterations < 0 or args.concurrency < 1 or args.concurrent_rounds < 0:
        parser.error("--iterations and --concurrent-rounds must be >= 0, --concurrency >= 1")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"seed {seed} (repeat with --seed {seed})", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mcpkg-chaos-") as tmp, running_registry() as registry:
        chaos = Chaos(
            registry.host,
            Path(tmp),
            seed,
            blob_size=int(args.blob_mib * 1024 * 1024),
            log=lambda line: print(line, flush=True),
        )
        chaos.setup()
        deadline = started + args.minutes * 60 if args.minutes else None
        report = chaos.run_all(args.iterations, args.concurrency, args.concurrent_rounds, deadline)
    print(f"\n{report.table()}")
    print(f"seed {seed}, {time.monotonic() - started:.0f} s")
    if report.failures:
        print(f"\n{len(report.failures)} failure(s):")
        for failure in report.failures:
            print(f"  {failure}")
        return 1
    print("no failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
