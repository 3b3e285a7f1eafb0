"""The imports `mcpkg compose` reports are the composed server's: one per semver group."""

from __future__ import annotations

from mcpkg.ops.compose import unified_imports


def test_semver_compatible_imports_are_one_under_the_highest_version() -> None:
    names = ["wasi:io/streams@0.2.3", "wasi:io/streams@0.2.9", "wasi:io/error@0.2.3", "wasmcp:mcp/types@0.3.0"]
    assert unified_imports(names) == ["wasi:io/error@0.2.3", "wasi:io/streams@0.2.9", "wasmcp:mcp/types@0.3.0"]


def test_incompatible_versions_stay_apart() -> None:
    names = ["x:y/z@1.0.0", "x:y/z@2.0.0", "x:y/z@0.1.0", "x:y/z@0.2.0", "x:y/z"]
    assert unified_imports(names) == sorted(names)
