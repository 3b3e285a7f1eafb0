"""A minutes-long differential run of mcpkg's composer against `wasm-tools compose`.

    ./scripts/fuzz compose [--minutes 20] [--seed N] [--batch 25]

Generated servers (testing/witgen.py: the whole WIT type grammar, resources, twins and
aliases, `use` across interfaces and packages, world-level functions, versioned and
unversioned packages, WASI-like host imports at several patch versions) are composed by
mcpkg and by `wasm-tools compose` and compared (testing/differential.py), in batches of
`--batch` cases from consecutive seeds until the time is up. A failing case is shrunk by
hypothesis and kept as `tests/integration/compose-cases/<sha256>.json`, which the suite
replays. Prints the count of cases by outcome and by what they held; exit 1 on a failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.differential import Outcome, run_cases  # noqa: E402

KEPT = ROOT / "tests" / "integration" / "compose-cases"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: from the clock)")
    parser.add_argument("--batch", type=int, default=25, help="cases per seed")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    deadline = time.monotonic() + args.minutes * 60
    verdicts: Counter[str] = Counter()
    facts: Counter[str] = Counter()
    failures = 0

    def seen(outcome: Outcome) -> None:
        verdicts[outcome.verdict] += 1
        facts.update(name for name, present in outcome.facts.items() if present)

    started, first = time.monotonic(), seed
    while time.monotonic() < deadline:
        failure = run_cases(seed, args.batch, seen)
        if failure is not None:
            failures += 1
            text = json.dumps(failure.case.to_json(), indent=1, sort_keys=True)
            KEPT.mkdir(parents=True, exist_ok=True)
            path = KEPT / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
            path.write_text(text + "\n")
            print(f"seed {seed}: FAILED ({failure.error.splitlines()[0]}); shrunk case kept in {path}", flush=True)
        seed += 1
    minutes = (time.monotonic() - started) / 60
    total = sum(verdicts.values())
    print(f"\n{total} servers in {minutes:.1f} min (seeds {first}..{seed - 1}), {failures} failing seed(s)")
    for verdict, count in verdicts.most_common():
        print(f"  {verdict:<28} {count}")
    print("what the cases held:")
    for name, count in sorted(facts.items()):
        print(f"  {name:<28} {count}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
