"""What the composer says when it cannot compose, or composed something invalid: the
component, interface and name it could not wire; wasmtime's complaint (item and offset),
`wasm-tools validate`'s verdict when it is on PATH, and with `--verbose` wasmtime's whole
message."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpkg.cache import Cache
from mcpkg.cli.render import report_error
from mcpkg.cli.terminal import OUT
from mcpkg.config import Config
from mcpkg.errors import IncompatibleError, InvalidArtifactError
from mcpkg.ops.compose import validate_with_wasmtime
from mcpkg.ops.context import Context
from testing.differential import build, compose_with_mcpkg
from testing.witgen import Case

# an instance import without the export an alias asks for: what the twin defect produced
BROKEN_WAT = '(component (import "a" (instance $i (export "y" (type (sub resource))))) (alias export $i "x" (type)))'
REASON = "instance 0 has no export named `x` (at offset 0x1e)"


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


def test_invalid_output_names_the_item_and_offset(
    tmp_path: Path, wasm_tools: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no wasm-tools on PATH: wasmtime's word alone
    ctx = Context(Config(), Cache(tmp_path / "cache"))
    with pytest.raises(InvalidArtifactError) as raised:
        validate_with_wasmtime(ctx, broken_component(tmp_path, wasm_tools), "sha256:" + "0" * 64)
    error = raised.value
    assert error.message == f"the composed component does not validate: {REASON}"
    assert error.hint is not None and "bug in mcpkg's composer" in error.hint and "--verbose" in error.hint
    assert error.details is not None and "failed to parse WebAssembly module" in error.details["wasmtime"]
    assert error.details["wasm-tools validate"] is None


def test_wasm_tools_verdict_and_verbose_complaint(
    tmp_path: Path, wasm_tools: str, verbose: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{Path(wasm_tools).parent}:/usr/bin:/bin")  # wasm-tools on PATH
    ctx = Context(Config(), Cache(tmp_path / "cache"))
    with pytest.raises(InvalidArtifactError) as raised:
        try:
            validate_with_wasmtime(ctx, broken_component(tmp_path, wasm_tools), "sha256:" + "1" * 64)
        except InvalidArtifactError as exc:
            report_error(exc)  # what the CLI prints, here with --verbose
            raise
    error = raised.value
    assert (
        error.message == f"the composed component does not validate: {REASON}\n  wasm-tools validate: error: {REASON}"
    )
    assert error.details is not None and error.details["wasm-tools validate"] == f"error: {REASON}"
    stderr = capsys.readouterr().err
    assert "failed to parse WebAssembly module" in stderr and "Caused by:" in stderr  # wasmtime's whole text
    assert f"error: the composed component does not validate: {REASON}" in stderr


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
