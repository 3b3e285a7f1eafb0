"""A minutes-long differential run of mcpkg's composer against `wasm-tools compose`.

    ./scripts/fuzz compose [--minutes 20] [--seed N] [--batch 25]

Generated servers (`testing/witgen.py`) are checked as
`testing/differential.py` says, in batches of `--batch` cases; batch k runs
hypothesis with seed N+k, so `--seed N` replays a whole run. A failing case is shrunk by
hypothesis and kept as `tests/e2e/compose-cases/<kind>-<sha256 prefix>.json` (one per
kind of failure, the smallest), which `tests/e2e/test_compose_differential.py` replays.
At the end: the count of cases by outcome, what the cases covered, the failures. Exit
status 1 if any case failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.compose_tool import find_wasm_tools  # noqa: E402
from testing.differential import Failure, Outcome, run_cases  # noqa: E402
from testing.witgen import Case  # noqa: E402

KEPT = ROOT / "tests" / "e2e" / "compose-cases"


def failure_kind(error: str) -> str:
    """A short, stable name for what went wrong (numbers and generated names removed)."""
    first = error.splitlines()[0] if error else "unknown"
    words = re.sub(r"[^a-z ]+", " ", re.sub(r"\b[a-z]+\d+\b|`[^`]*`|\d+", " ", first.lower())).split()
    return "-".join(words[:6]) or "unknown"


def generic(detail: str) -> str:
    """`detail` with generated names and numbers made generic, so outcomes group by kind."""
    detail = re.sub(r"\b[a-z]+\d+\b", "_", detail)
    detail = re.sub(r"^(type|resource) .*?(?=( \(in _\))?;)", r"\1 _", detail)
    detail = re.sub(r"AliasableResourceId \{.*\}", "AliasableResourceId {...}", detail)
    return re.sub(r"\(ResourceId \{.*?\}\)", "(...)", detail)


def keep(failure: Failure, kept: dict[str, Path]) -> Path:
    """Keep the smallest failing case of each kind."""
    kind = failure_kind(failure.error)
    text = json.dumps(failure.case.to_json(), sort_keys=True)
    path = KEPT / f"{kind[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    previous = kept.get(kind)
    if previous is not None:
        if len(json.loads(previous.read_text())["case"]["files"]["root.wit"]) <= len(failure.case.files["root.wit"]):
            return previous
        previous.unlink(missing_ok=True)
    KEPT.mkdir(parents=True, exist_ok=True)
    found = {"found": failure.error.splitlines()[0][:500], "expect": None, "case": failure.case.to_json()}
    path.write_text(json.dumps(found, indent=1) + "\n")
    kept[kind] = path
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="how long to run (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="first batch's seed (default: from the clock)")
    parser.add_argument("--batch", type=int, default=25, help="cases per hypothesis run (default 25)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    outcomes: Counter[str] = Counter()
    details: Counter[str] = Counter()
    coverage: Counter[str] = Counter()
    failures: list[tuple[int, Failure, Path]] = []
    kept: dict[str, Path] = {}

    def count(case: Case, outcome: Outcome) -> None:
        outcomes[outcome.verdict] += 1
        if outcome.detail:
            details[f"{outcome.verdict}: {generic(outcome.detail)}"] += 1
        coverage.update(k for k, v in outcome.facts.items() if v)

    started = time.monotonic()
    batch = 0
    next_report = started + 60
    while time.monotonic() - started < args.minutes * 60:
        find_wasm_tools()  # the tools went away (the environment, not a case, failed): stop here
        failure = run_cases(seed + batch, args.batch, count)
        if failure is not None:
            path = keep(failure, kept)
            failures.append((seed + batch, failure, path))
            print(f"FAILURE (batch seed {seed + batch}): {failure.error.splitlines()[0][:300]}\n  kept as {path}")
        batch += 1
        if time.monotonic() >= next_report:
            elapsed = time.monotonic() - started
            print(f"  {elapsed / 60:.1f} min: {sum(outcomes.values())} cases, {len(failures)} failures", flush=True)
            next_report += 60
    elapsed = time.monotonic() - started
    total = sum(outcomes.values()) + len(failures)
    seeds = f"seeds {seed}..{seed + batch - 1}"
    print(f"cases: {total} in {elapsed / 60:.1f} min ({batch} batches of {args.batch}, {seeds})")
    for verdict, n in outcomes.most_common():
        print(f"  {verdict}: {n}")
    print(f"  failed: {len(failures)}")
    for detail, n in details.most_common():
        print(f"    {n} x {detail[:160]}")
    print("coverage (cases holding each):")
    for fact, n in sorted(coverage.items()):
        print(f"  {fact}: {n}")
    for batch_seed, failure, path in failures:
        print(f"failure, batch seed {batch_seed}: {failure.error[:500]}\n  {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
