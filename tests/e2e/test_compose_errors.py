"""What the composer says when it cannot compose, or composed something invalid: the
component, interface and name it could not wire; wasmtime's complaint (item and offset),
and with `--verbose` wasmtime's whole message and `wasm-tools validate`'s."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpkg.cache import Cache
from mcpkg.compose.compose import validate_with_wasmtime
from mcpkg.config import Config
from mcpkg.context import Context
from mcpkg.errors import IncompatibleError, InvalidArtifactError
from mcpkg.ui import OUT
from tests.harness.differential import build, compose_with_mcpkg
from tests.harness.witgen import Case

# an instance import without the export an alias asks for: what the twin defect produced
BROKEN_WAT = '(component (import "a" (instance $i (export "y" (type (sub resource))))) (alias export $i "x" (type)))'


@pytest.fixture
def verbose() -> Iterator[None]:
    OUT.verbose = True
    try:
        yield
    finally:
        OUT.verbose = False


def broken_component(tmp_path: Path, wasm_tools: str) -> Path:
    wat = tmp_path / "broken.wat"
    wat.write_text(BROKEN_WAT)
    out = tmp_path / "broken.wasm"
    subprocess.run([wasm_tools, "parse", str(wat), "-o", str(out)], check=True)
    return out


def test_invalid_output_names_the_item_and_offset(tmp_path: Path, wasm_tools: str) -> None:
    ctx = Context(Config(), Cache(tmp_path / "cache"))
    with pytest.raises(InvalidArtifactError) as raised:
        validate_with_wasmtime(ctx, broken_component(tmp_path, wasm_tools), "sha256:" + "0" * 64)
    error = raised.value
    reason = "instance 0 has no export named `x` (at offset 0x1e)"
    assert error.message == f"the composed component does not validate: {reason}"
    assert error.hint is not None and "bug in mcpkg's composer" in error.hint and "--verbose" in error.hint
    assert error.details is not None and "failed to parse WebAssembly module" in error.details["wasmtime"]


def test_verbose_shows_wasmtime_and_wasm_tools(
    tmp_path: Path, wasm_tools: str, verbose: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{Path(wasm_tools).parent}:/usr/bin:/bin")  # wasm-tools on PATH
    ctx = Context(Config(), Cache(tmp_path / "cache"))
    with pytest.raises(InvalidArtifactError) as raised:
        validate_with_wasmtime(ctx, broken_component(tmp_path, wasm_tools), "sha256:" + "1" * 64)
    stderr = capsys.readouterr().err
    assert "wasmtime's complaint" in stderr and "failed to parse WebAssembly module" in stderr
    assert "`wasm-tools validate` says: error: instance 0 has no export named `x` (at offset 0x1e)" in stderr
    assert raised.value.details is not None and "no export named `x`" in raised.value.details["wasm-tools validate"]


def test_conflicting_type_imports_name_components_interfaces_and_name(tmp_path: Path) -> None:
    """Two worlds `use` two different types under one name: the composed component cannot
    import both, and the error says who binds `t` to what."""
    root = """package test:clash@0.1.0;
interface a { record t { x: u32 } }
interface b { record t { y: string } }
interface handler { g: func(); }
world transport { use a.{t}; import handler; export run: func(v: t); }
world terminal { use b.{t}; import f: func(v: t); export handler; }
"""
    built = build(Case({"root.wit": root}, "transport", (), "terminal", ()), tmp_path)
    with pytest.raises(IncompatibleError) as raised:
        compose_with_mcpkg(built, tmp_path / "cache")
    message = str(raised.value)
    assert "type import t" in message and "transport" in message and "terminal" in message
    assert "test:clash/a@0.1.0" in message and "test:clash/b@0.1.0" in message
