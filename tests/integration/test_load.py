"""A small load run (the code path of scripts/load): concurrent `mcpkg push` and
`mcpkg pull` processes sharing one cache lose and alter nothing."""

from __future__ import annotations

from pathlib import Path

from testing.load import LARGE_SIZES, format_report, run_load
from testing.registry import Registry


def test_concurrent_push_and_pull_lose_nothing(registry: Registry, fixtures: Path, tmp_path: Path) -> None:
    # 12 components: index 9 is padded to 5 MiB (a chunked upload), the rest are a few hundred bytes
    report = run_load((fixtures / "answer.wasm").read_bytes(), registry.host, tmp_path, count=12, jobs=4)
    text = format_report(report)
    assert report.errors == [], text
    push, pull, tags = report.phases
    assert (len(push.results), push.ok) == (12, 12), text
    assert (len(pull.results), pull.ok) == (12, 12), text
    assert tags.ok == len(tags.results) == 3, text  # 12 components, 4 tags per repository
    assert report.verified == 12, text
    assert report.cache_clean, text
    assert pull.bytes == push.bytes > LARGE_SIZES[0], text
    assert report.ok, text
