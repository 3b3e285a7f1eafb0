"""The reduced copy of `mcpkg.wasm.reduce`: what it keeps and drops of each core module,
that wasmtime accepts it and reads the original's types from it, and that the original
core modules are what `validated_model` validates (an invalid body is refused even
though the copy no longer holds it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
import wasmtime.component

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.binary.leb import Reader
from mcpkg.wasm.binary.types import CORE_PREAMBLE, PREAMBLE
from mcpkg.wasm.extract import extract_model
from mcpkg.wasm.introspect import validated_model
from mcpkg.wasm.reduce import reduce_component, reduce_module
from tests.conftest import ROOT

BUILD = ROOT / "registry-fixtures" / "build"
SMALL_FIXTURES = ("greeter.wasm", "logger.wasm", "answer.wasm")

MODULE_WAT = """
(module
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $f (type $t)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (global $g (mut i32) (i32.const 7))
  (func $helper (result i32) (i32.const 1))
  (func $add (export "add") (param i32) (result i32)
    (local i64)
    local.get 0
    call $f
    global.get $g
    i32.add)
  (elem (i32.const 0) $add $helper)
  (data (i32.const 16) "hello")
  (start $start)
  (func $start nop)
  (@custom "note" "kept out")
)
"""


def sections(module: bytes) -> list[tuple[int, bytes]]:
    assert module[:8] == CORE_PREAMBLE
    r, out = Reader(module, 8), []
    while not r.at_end():
        sid = r.byte()
        size = r.u32()
        out.append((sid, module[r.pos : r.pos + size]))
        r.pos += size
    return out


def section_ids(module: bytes) -> list[int]:
    return [sid for sid, _ in sections(module)]


def test_module_keeps_its_signature_and_drops_bodies_and_segments() -> None:
    original = bytes(wasmtime.wat2wasm(MODULE_WAT))
    reduced = reduce_module(original, cut=False)
    assert 0 in section_ids(original) and {8, 9, 11} <= set(section_ids(original))
    assert section_ids(reduced) == [1, 2, 3, 4, 5, 6, 7, 10]  # type import func table memory global export code
    engine = wasmtime.Engine()
    wasmtime.Module.validate(engine, reduced)
    # the signature sections are the original's, byte for byte
    assert [s for s in sections(original) if s[0] in range(1, 8)] == [s for s in sections(reduced) if s[0] != 10]
    assert [e.name for e in wasmtime.Module(engine, reduced).exports] == ["memory", "add"]
    # three bodies, each `unreachable`
    assert reduced.endswith(b"\x0a\x0d\x03" + b"\x03\x00\x00\x0b" * 3)


def test_cut_keeps_only_exported_functions_renumbered() -> None:
    original = bytes(wasmtime.wat2wasm(MODULE_WAT))
    reduced = reduce_module(original)
    engine = wasmtime.Engine()
    wasmtime.Module.validate(engine, reduced)
    kept = dict(sections(reduced))
    assert kept[3] == b"\x01\x00"  # one function (`add`, type 0)
    assert kept[10] == b"\x01" + b"\x03\x00\x00\x0b"
    # `add` was function 2 (after the import and `helper`), now 1
    assert kept[7] == b"\x02\x06memory\x02\x00\x03add\x00\x01"
    module = wasmtime.Module(engine, reduced)
    full = wasmtime.Module(engine, original)
    assert [(e.name, type(e.type)) for e in module.exports] == [(e.name, type(e.type)) for e in full.exports]
    add = next(e.type for e in module.exports if e.name == "add")
    assert isinstance(add, wasmtime.FuncType)
    assert [str(t) for t in add.params] == ["i32"] and [str(t) for t in add.results] == ["i32"]


def test_a_function_reference_in_a_global_keeps_every_function() -> None:
    original = bytes(
        wasmtime.wat2wasm(
            '(module (func $hidden) (global funcref (ref.func $hidden)) (func (export "f"))'
            " (elem declare func $hidden))"
        )
    )
    reduced = reduce_module(original)
    wasmtime.Module.validate(wasmtime.Engine(), reduced)
    assert dict(sections(reduced))[3] == b"\x02\x00\x00"


def test_bulk_memory_module_without_its_data_still_validates() -> None:
    original = bytes(
        wasmtime.wat2wasm(
            '(module (memory 1) (data $d "xyz") (func (export "init") (memory.init $d (i32.const 0) (i32.const 0)'
            " (i32.const 3)) (data.drop $d)))"
        )
    )
    assert 12 in section_ids(original)  # data count
    reduced = reduce_module(original)
    assert 11 not in section_ids(reduced) and 12 not in section_ids(reduced)
    wasmtime.Module.validate(wasmtime.Engine(), reduced)


@pytest.mark.parametrize("name", SMALL_FIXTURES)
def test_small_fixture_types_equal_the_full_compile(name: str) -> None:
    data = (BUILD / name).read_bytes()
    reduced = reduce_component(data)
    assert reduced.component[:8] == PREAMBLE and len(reduced.modules) >= 1
    assert all(m[:8] == CORE_PREAMBLE for m in reduced.modules)
    engine = wasmtime.Engine()
    full = extract_model(engine, wasmtime.component.Component(engine, data))
    assert validated_model(data, name) == full


def test_an_invalid_core_body_is_refused(tmp_path: Path) -> None:
    """A component whose only core module has a body that does not type-check: the reduced
    copy would compile (its body is `unreachable`), the original module's validation
    refuses it."""
    bad_module = wasmtime.wat2wasm('(module (func (export "f") (result i32) (i64.const 1)))')
    with pytest.raises(wasmtime.WasmtimeError):
        wasmtime.Module.validate(wasmtime.Engine(), bad_module)
    component = PREAMBLE + bytes([1]) + len(bad_module).to_bytes(1, "little") + bad_module
    reduced = reduce_component(component)
    wasmtime.component.Component(wasmtime.Engine(), reduced.component)  # the copy alone is accepted
    with pytest.raises(InvalidArtifactError, match="is not a valid component"):
        validated_model(component, "bad.wasm")


def test_truncated_input_is_invalid_artifact() -> None:
    data = (BUILD / "greeter.wasm").read_bytes()
    for cut in (9, len(data) // 3, len(data) // 2, len(data) - 1):
        with pytest.raises(InvalidArtifactError, match=r"truncated\.wasm is not a valid component"):
            validated_model(data[:cut], "truncated.wasm")
