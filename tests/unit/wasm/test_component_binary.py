"""The pure-Python Component Model reader/writer (`mcpkg.wasm.binary`): byte-exact round
trips of real components, names equal to wasmtime's, components written from scratch that
wasmtime accepts, and malformed input that fails only with `InvalidArtifactError`."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest
import wasmtime
import wasmtime.component
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.binary.decode import decode_canons, read_component, top_level
from mcpkg.wasm.binary.encode import encode_canons, encode_component
from mcpkg.wasm.binary.leb import Reader, encode_name, encode_s, encode_u, encode_u32, encode_vec
from mcpkg.wasm.binary.types import (
    CANON_SECTION,
    CORE_FUNC,
    CORE_INSTANCE_SECTION,
    CORE_MODULE_SECTION,
    CORE_PREAMBLE,
    FUNC,
    INSTANCE,
    PREAMBLE,
    AliasSection,
    BorrowType,
    CanonLift,
    CanonLower,
    Component,
    ComponentSection,
    CoreExportAlias,
    Export,
    ExportAlias,
    ExportDecl,
    ExportSection,
    ExternName,
    FixedListType,
    FromExports,
    FuncDesc,
    FuncType,
    FutureType,
    Import,
    ImportSection,
    InlineExport,
    InstanceDesc,
    InstanceSection,
    InstanceType,
    Instantiate,
    InstantiateArg,
    Labeled,
    ListType,
    MapType,
    NameOption,
    OptionType,
    OwnType,
    PrimValType,
    RecordType,
    ResultType,
    Section,
    StreamType,
    TypeDecl,
    TypeDesc,
    TypeSection,
)
from testing.wasmbits import TOOL_WAT, canon_payloads
from testing.witbuild import build_world, wasm_tools

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "registry-fixtures" / "build"
WIT = ROOT / "wit"
WORLDS = ("stdio-transport", "tools-handler", "writers", "http-transport", "middleware")
# Fixtures small enough for wasmtime to compile in a test (the componentize-py ones take ~10 s each).
SMALL_FIXTURES = ("greeter.wasm", "logger.wasm", "answer.wasm", "broken")
# Constructs the fixtures lack (also a seed of scripts/fuzz.py).


def fixture_files() -> list[Path]:
    # `tmp/` holds the fixture build's intermediate files while a build runs.
    return sorted(p for p in BUILD.rglob("*.wasm") if "tmp" not in p.relative_to(BUILD).parts)


def engine() -> wasmtime.Engine:
    return wasmtime.Engine()


def wasmtime_names(data: bytes) -> tuple[set[str], set[str]]:
    eng = engine()
    ty = wasmtime.component.Component(eng, data).type
    return set(ty.imports(eng)), set(ty.exports(eng))


@pytest.fixture(scope="module")
def world_components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("worlds")
    return {w: build_world(WIT, w, out / f"{w}.wasm").read_bytes() for w in WORLDS}


@pytest.fixture(scope="module")
def greeter() -> bytes:
    path = BUILD / "greeter.wasm"
    if not path.exists():
        pytest.skip("fixture components are not built (python registry-fixtures/build.py)")
    return path.read_bytes()


# --- LEB128 ---------------------------------------------------------------------------


def test_leb_known_vectors() -> None:
    assert encode_u(624485) == bytes([0xE5, 0x8E, 0x26])
    assert encode_u(0) == b"\x00"
    assert encode_s(-123456) == bytes([0xC0, 0xBB, 0x78])
    assert encode_s(-1) == b"\x7f" and encode_s(63) == b"\x3f" and encode_s(64) == b"\xc0\x00"
    for value in (0, 1, 127, 128, 2**31, 2**32 - 1):
        assert Reader(encode_u32(value)).u32() == value
    for value in (0, -1, 63, -64, 64, -65, 2**32 - 1, -(2**32)):
        assert Reader(encode_s(value, 33)).s(33) == value
    with pytest.raises(ValueError):
        encode_u32(2**32)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80\x80\x80\x80\x80\x00",  # six bytes for a u32
        b"\xff\xff\xff\xff\x1f",  # bits beyond 32
        b"\x80\x80",  # truncated
        b"",
    ],
)
def test_leb_rejects_bad_u32(raw: bytes) -> None:
    with pytest.raises(InvalidArtifactError):
        Reader(raw).u32()


def test_leb_rejects_bad_s33() -> None:
    with pytest.raises(InvalidArtifactError):
        Reader(b"\xff\xff\xff\xff\x2f").s(33)  # the last byte's unused bits disagree with the sign
    assert Reader(b"\xff\xff\xff\xff\x7f").s(33) == -1  # non-minimal, but well-formed


# --- real components ------------------------------------------------------------------


def test_round_trip_of_every_fixture() -> None:
    files = fixture_files()
    if not files:
        pytest.skip("fixture components are not built (python registry-fixtures/build.py)")
    checked = 0
    for path in files:
        data = path.read_bytes()
        if data.startswith(CORE_PREAMBLE):
            with pytest.raises(InvalidArtifactError, match="core WebAssembly module"):
                read_component(data, path.name)
            continue
        component = read_component(data, path.name)
        assert encode_component(component.sections) == data, path
        assert encode_component(component) == data
        for payload in canon_payloads(component):
            assert encode_canons(decode_canons(payload)) == payload
        checked += 1
    assert checked >= 3


def test_core_module_is_rejected() -> None:
    path = BUILD / "core-module.wasm"
    if not path.exists():
        pytest.skip("fixture components are not built")
    with pytest.raises(InvalidArtifactError, match="core WebAssembly module"):
        read_component(path.read_bytes(), "core-module.wasm")


def test_small_fixtures_match_wasmtime() -> None:
    paths = [p for p in fixture_files() if p.name in SMALL_FIXTURES or p.parent.name in SMALL_FIXTURES]
    if not paths:
        pytest.skip("fixture components are not built")
    for path in paths:
        data = path.read_bytes()
        component = read_component(data)
        imports, exports = top_level(component)
        again = encode_component(component)
        assert wasmtime_names(again) == (set(imports), set(exports)), path


@pytest.mark.parametrize("world", WORLDS)
def test_world_components(world_components: dict[str, bytes], world: str) -> None:
    data = world_components[world]
    component = read_component(data, world)
    again = encode_component(component.sections)
    assert again == data
    imports, exports = top_level(component)
    assert wasmtime_names(again) == (set(imports), set(exports))
    assert set(imports.values()) == {"instance"} and set(exports.values()) == {"instance"}
    assert "mcpkg:mcp/types@0.1.0" in imports or world == "writers"
    # The interface types came through: every import is an instance of a decoded instance type.
    types = [t for s in component.sections if isinstance(s, TypeSection) for t in s.types]
    assert any(isinstance(t, InstanceType) for t in types)
    for payload in canon_payloads(component):
        assert encode_canons(decode_canons(payload)) == payload
    assert any(isinstance(c, CanonLift) for p in canon_payloads(component) for c in decode_canons(p))
    assert any(isinstance(c, CanonLower) for p in canon_payloads(component) for c in decode_canons(p))


def test_tool_output_round_trips(tmp_path: Path) -> None:
    """Constructs the fixtures lack, written by wasm-tools from text, come back byte for byte."""
    (tmp_path / "a.wat").write_text(TOOL_WAT)
    subprocess.run([wasm_tools(), "parse", str(tmp_path / "a.wat"), "-o", str(tmp_path / "a.wasm")], check=True)
    subprocess.run([wasm_tools(), "validate", "--features", "all", str(tmp_path / "a.wasm")], check=True)
    data = (tmp_path / "a.wasm").read_bytes()
    component = read_component(data)
    assert encode_component(component) == data
    assert top_level(component) == ({"v": "value"}, {"v2": "value"})
    types = [t for s in component.sections if isinstance(s, TypeSection) for t in s.types]
    u32, string = PrimValType(0x79), PrimValType(0x73)
    assert types[0] == FuncType(())
    assert types[1] == FuncType((Labeled("a", u32), Labeled("b", string)), string)
    assert types[2] == FuncType((Labeled("a", u32),), None, is_async=True)
    assert types[3:8] == [StreamType(PrimValType(0x7D)), StreamType(), FutureType(), FutureType(u32), PrimValType(0x64)]
    assert types[8:10] == [FixedListType(PrimValType(0x7D), 4), MapType(string, u32)]
    assert types[12:14] == [ResultType(u32, string), OptionType(12)]
    instance_type = types[17]
    assert isinstance(instance_type, InstanceType)
    assert instance_type.decls[:3] == (
        ExportDecl(ExternName("r"), TypeDesc(None)),
        TypeDecl(OwnType(0)),
        TypeDecl(BorrowType(0)),
    )


# --- written from scratch -------------------------------------------------------------

API = "test:demo/api@1.0.0"


def api_instance_type() -> InstanceType:
    point = RecordType((Labeled("x", PrimValType(0x7A)), Labeled("y", PrimValType(0x7A))))
    return InstanceType(
        (
            TypeDecl(point),
            ExportDecl(ExternName("point"), TypeDesc(0)),
            TypeDecl(ListType(1)),
            TypeDecl(FuncType((Labeled("points", 2), Labeled("label", PrimValType(0x73))), PrimValType(0x79))),
            ExportDecl(ExternName("count"), FuncDesc(3)),
        )
    )


def test_written_pass_through_matches_wasm_tools(tmp_path: Path) -> None:
    """Import an interface, instantiate a nested component with it and export what the
    nested instance exports: the bytes are those wasm-tools writes for the same text, and
    they validate (wasmtime does not implement re-exporting an imported function)."""
    inner = Component(
        (
            TypeSection((api_instance_type(),)),
            ImportSection((Import(ExternName(API), InstanceDesc(0)),)),
            ExportSection((Export(ExternName(API), INSTANCE, 0),)),
        )
    )
    outer = Component(
        (
            TypeSection((api_instance_type(),)),
            ImportSection((Import(ExternName(API), InstanceDesc(0)),)),
            ComponentSection(inner),
            InstanceSection((Instantiate(0, (InstantiateArg(API, INSTANCE, 0),)),)),
            AliasSection((ExportAlias(INSTANCE, 1, API),)),
            ExportSection((Export(ExternName(API), INSTANCE, 2),)),
        )
    )
    data = encode_component(outer)
    assert data.startswith(PREAMBLE)
    assert read_component(data) == outer
    assert top_level(outer) == ({API: "instance"}, {API: "instance"})
    api_type = """(type (instance
        (type (record (field "x" s32) (field "y" s32)))
        (export "point" (type (eq 0)))
        (type (list 1))
        (type (func (param "points" 2) (param "label" string) (result u32)))
        (export "count" (func (type 3)))))"""
    wat = f"""(component
      {api_type}
      (import "{API}" (instance (type 0)))
      (component {api_type} (import "{API}" (instance (type 0))) (export "{API}" (instance 0)))
      (instance (instantiate 0 (with "{API}" (instance 0))))
      (alias export 1 "{API}" (instance))
      (export "{API}" (instance 2)))"""
    (tmp_path / "c.wat").write_text(wat)
    (tmp_path / "c.wasm").write_bytes(data)
    subprocess.run([wasm_tools(), "parse", str(tmp_path / "c.wat"), "-o", str(tmp_path / "ref.wasm")], check=True)
    assert (tmp_path / "ref.wasm").read_bytes() == data
    subprocess.run([wasm_tools(), "validate", str(tmp_path / "c.wasm")], check=True)


def core_module(*sections: tuple[int, bytes]) -> bytes:
    return CORE_PREAMBLE + b"".join(bytes([i]) + encode_u32(len(p)) + p for i, p in sections)


def func_body(code: bytes) -> bytes:
    body = b"\x00" + code + b"\x0b"  # no locals, code, end
    return encode_u32(len(body)) + body


I32 = b"\x7f"
USER = "test:demo/user@1.0.0"


def adder_component() -> Component:
    """Exports `API` with `add: func(a: u32, b: u32) -> u32`, implemented by a core module."""
    module = core_module(
        (1, encode_vec([b"\x60\x02" + I32 + I32 + b"\x01" + I32])),  # type 0: (i32, i32) -> i32
        (3, encode_vec([b"\x00"])),  # func 0 has type 0
        (7, encode_vec([encode_name("add") + b"\x00\x00"])),  # export "add" (func 0)
        (10, encode_vec([func_body(b"\x20\x00\x20\x01\x6a")])),  # local.get 0, local.get 1, i32.add
    )
    add_type = FuncType((Labeled("a", PrimValType(0x79)), Labeled("b", PrimValType(0x79))), PrimValType(0x79))
    return Component(
        (
            Section(CORE_MODULE_SECTION, module),
            Section(CORE_INSTANCE_SECTION, encode_vec([b"\x00\x00" + encode_vec([])])),  # instantiate module 0
            AliasSection((CoreExportAlias(CORE_FUNC, 0, "add"),)),
            TypeSection((add_type,)),
            Section(CANON_SECTION, encode_canons([CanonLift(0, (), 0)])),
            InstanceSection((FromExports((InlineExport(ExternName("add"), FUNC, 0),)),)),
            ExportSection((Export(ExternName(API), INSTANCE, 0),)),
        )
    )


def user_component() -> Component:
    """Imports `API` and exports `USER` with `twice: func(x: u32) -> u32` = add(x, x)."""
    add_type = FuncType((Labeled("a", PrimValType(0x79)), Labeled("b", PrimValType(0x79))), PrimValType(0x79))
    module = core_module(
        (1, encode_vec([b"\x60\x02" + I32 + I32 + b"\x01" + I32, b"\x60\x01" + I32 + b"\x01" + I32])),
        (2, encode_vec([encode_name("api") + encode_name("add") + b"\x00\x00"])),  # import (func 0 (type 0))
        (3, encode_vec([b"\x01"])),  # func 1 has type 1
        (7, encode_vec([encode_name("twice") + b"\x00\x01"])),
        (10, encode_vec([func_body(b"\x20\x00\x20\x00\x10\x00")])),  # local.get 0 (twice), call 0
    )
    return Component(
        (
            TypeSection((InstanceType((TypeDecl(add_type), ExportDecl(ExternName("add"), FuncDesc(0)))),)),
            ImportSection((Import(ExternName(API), InstanceDesc(0)),)),
            AliasSection((ExportAlias(FUNC, 0, "add"),)),
            Section(CANON_SECTION, encode_canons([CanonLower(0, ())])),  # core func 0
            # core instance 0 exports "add"; core instance 1 instantiates the module with it as "api".
            Section(CORE_INSTANCE_SECTION, encode_vec([b"\x01" + encode_vec([encode_name("add") + b"\x00\x00"])])),
            Section(CORE_MODULE_SECTION, module),
            Section(CORE_INSTANCE_SECTION, encode_vec([b"\x00\x00" + encode_vec([encode_name("api") + b"\x12\x00"])])),
            AliasSection((CoreExportAlias(CORE_FUNC, 1, "twice"),)),
            TypeSection((FuncType((Labeled("x", PrimValType(0x79)),), PrimValType(0x79)),)),
            Section(CANON_SECTION, encode_canons([CanonLift(1, (), 1)])),
            InstanceSection((FromExports((InlineExport(ExternName("twice"), FUNC, 1),)),)),
            ExportSection((Export(ExternName(USER), INSTANCE, 1),)),
        )
    )


def test_written_composition_runs_in_wasmtime() -> None:
    """What the composer will emit: two components nested, the second instantiated with
    the first's export, the result exported; wasmtime runs it."""
    outer = Component(
        (
            ComponentSection(adder_component()),
            ComponentSection(user_component()),
            InstanceSection((Instantiate(0, ()),)),  # instance 0
            AliasSection((ExportAlias(INSTANCE, 0, API),)),  # instance 1
            InstanceSection((Instantiate(1, (InstantiateArg(API, INSTANCE, 1),)),)),  # instance 2
            AliasSection((ExportAlias(INSTANCE, 2, USER),)),  # instance 3
            ExportSection((Export(ExternName(USER), INSTANCE, 3),)),
        )
    )
    data = encode_component(outer)
    assert read_component(data) == outer
    assert top_level(outer) == ({}, {USER: "instance"})
    eng = engine()
    component = wasmtime.component.Component(eng, data)
    assert set(component.type.exports(eng)) == {USER} and not component.type.imports(eng)
    store = wasmtime.Store(eng)
    instance = wasmtime.component.Linker(eng).instantiate(store, component)
    user = instance.get_export_index(store, USER)
    assert user is not None
    twice_index = instance.get_export_index(store, "twice", user)
    assert twice_index is not None
    twice = instance.get_func(store, twice_index)
    assert twice is not None
    assert twice(store, 21) == 42


def test_extern_name_options_round_trip() -> None:
    name = ExternName("a:b/c", 0x02, (NameOption(0x00, "a:b/d@1.0.0"), NameOption(0x01, "1.0.0")))
    component = Component((ExportSection((Export(name, INSTANCE, 0, InstanceDesc(0)),)),))
    data = encode_component(component)
    assert read_component(data) == component
    assert top_level(read_component(data)) == ({}, {"a:b/c": "instance"})


# --- malformed input --------------------------------------------------------------------


def section_boundaries(data: bytes) -> set[int]:
    r = Reader(data, 8)
    ends = {8}
    while not r.at_end():
        r.byte()
        size = r.u32()
        r.pos += size
        ends.add(r.pos)
    return ends


def test_truncations_fail_cleanly(greeter: bytes) -> None:
    boundaries = section_boundaries(greeter)
    started = time.monotonic()
    for cut in range(len(greeter)):
        try:
            read_component(greeter[:cut])
        except InvalidArtifactError:
            continue
        assert cut in boundaries, f"a truncation at {cut} was accepted"
    assert time.monotonic() - started < 10


def test_byte_flips_fail_cleanly(greeter: bytes) -> None:
    rng = random.Random(1234)
    started = time.monotonic()
    outcomes = {"ok": 0, "error": 0}
    for _ in range(1500):
        data = bytearray(greeter)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        try:
            component = read_component(bytes(data))
        except InvalidArtifactError:
            outcomes["error"] += 1
            continue
        outcomes["ok"] += 1
        assert read_component(encode_component(component)) == component
    assert outcomes["error"] > 0 and outcomes["ok"] > 0
    assert time.monotonic() - started < 15


@pytest.mark.parametrize(
    "body",
    [
        b"\x07\x05\xff\xff\xff\xff\x0f",  # a type section claiming 2^32-1 types
        b"\x0a\x06\x01\x00\xff\xff\xff\x0f",  # an import name claiming 256 MiB
        b"\x07\xff\xff\xff\xff\x0f",  # a section claiming 4 GiB
        b"\x07\x02\x01\x42",  # a truncated instance type
        b"\x07\x03\x01\x42\x00\x00",  # trailing bytes in a section
        b"\x07\x02\x01\x10",  # an unknown type opcode
        b"\x0a\x05\x01\x00\x01\xff\x05",  # a name that is not UTF-8
        b"\x0b\x06\x01\x00\x01\x61\x01\x00",  # an export with a truncated sort index
        b"\x0d\x00",  # an unknown section id
        b"\x01\x04\x00\x61\x73\x6d",  # a core module section without a module
        b"\x04\x08\x00\x61\x73\x6d\x0e\x00\x01\x00",  # a nested component of another version
        b"\x07\x03\x01\x40\x00",  # a function type without results
        b"\x07\x04\x01\x40\x00\x01\x01",  # named results (old encoding)
    ],
)
def test_malformed_sections(body: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidArtifactError):
        read_component(PREAMBLE + body)
    assert time.monotonic() - started < 1


def test_deep_nesting_is_refused() -> None:
    depth = 5000
    payload = b"\x01" + b"\x42\x01\x01" * depth + b"\x42\x00"
    data = PREAMBLE + b"\x07" + encode_u32(len(payload)) + payload
    with pytest.raises(InvalidArtifactError, match="nested"):
        read_component(data)
    nested = PREAMBLE
    for _ in range(200):
        nested = PREAMBLE + b"\x04" + encode_u32(len(nested)) + nested
    with pytest.raises(InvalidArtifactError, match="nested"):
        read_component(nested)


@pytest.mark.parametrize(
    "head", [b"", b"\x00asm", b"\x00asm\x01\x00\x00\x00", b"\x7fELF\x02\x01\x01\x00", PREAMBLE[:7]]
)
def test_bad_preambles(head: bytes) -> None:
    with pytest.raises(InvalidArtifactError):
        read_component(head + b"\x00" * 4)


def test_fuzz_reader(greeter: bytes) -> None:
    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.one_of(
            st.binary(max_size=200).map(lambda b: PREAMBLE + b),
            st.tuples(
                st.lists(st.tuples(st.integers(8, len(greeter) - 1), st.integers(0, 255)), max_size=6),
                st.integers(8, len(greeter)),
            ).map(lambda edits: mutate(greeter, *edits)),
            st.lists(
                st.tuples(st.sampled_from([4, 5, 6, 7, 10, 11]), st.binary(max_size=40)), min_size=1, max_size=4
            ).map(lambda sections: PREAMBLE + b"".join(bytes([i]) + encode_u32(len(p)) + p for i, p in sections)),
        )
    )
    def check(data: bytes) -> None:
        try:
            component = read_component(data)
        except InvalidArtifactError:
            return
        assert read_component(encode_component(component)) == component

    check()


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        out[pos] = value
    return bytes(out[:cut])


def test_decoded_sections_are_bounded() -> None:
    # 5 Mi one-byte type definitions (`string`): valid, but over the decoding budget, which
    # bounds memory (decoded types take ~50x their bytes); refused before decoding
    count = 5 * 1024 * 1024
    body = encode_u32(count) + b"\x73" * count
    data = PREAMBLE + b"\x07" + encode_u32(len(body)) + body
    with pytest.raises(InvalidArtifactError, match="over 4 MiB"):
        read_component(data)
    small = encode_u32(1000) + b"\x73" * 1000
    assert read_component(PREAMBLE + b"\x07" + encode_u32(len(small)) + small).sections
