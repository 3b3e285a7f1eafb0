"""The types wasmtime reads from the reduced copy (`mcpkg.wasm.reduce`, what every type
lookup uses) are those of a full compile of the original, on every fixture component
(one full compile each, unoptimized)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.introspect import compile_model, validated_model
from tests.conftest import ROOT

BUILD = ROOT / "registry-fixtures" / "build"


def fixture_components() -> list[Path]:
    # `tmp/` holds the fixture build's intermediate files while a build runs.
    return sorted(
        p for p in BUILD.rglob("*.wasm") if "tmp" not in p.relative_to(BUILD).parts and p.name != "core-module.wasm"
    )


@pytest.mark.parametrize("path", fixture_components(), ids=lambda p: str(p.relative_to(BUILD)))
def test_reduced_copy_types_equal_full_compile_types(path: Path, fixtures: Path) -> None:
    assert validated_model(path.read_bytes(), path.name) == compile_model(path, path.name)


def test_a_core_module_is_refused_like_the_full_compile(fixtures: Path) -> None:
    path = fixtures / "core-module.wasm"
    with pytest.raises(InvalidArtifactError) as full:
        compile_model(path, path.name)
    with pytest.raises(InvalidArtifactError) as reduced:
        validated_model(path.read_bytes(), path.name)
    assert str(reduced.value).splitlines()[0].startswith(f"{path.name} ")
    assert str(full.value).splitlines()[0].startswith(f"{path.name} ")
