"""A reduced copy of a component, from which wasmtime reads the same types in a fraction
of a full compile's time.

Every core module (top level and inside nested components, at any depth) keeps its
type, import, function, table, memory, global, export and tag sections; each function
body becomes `unreachable` (no locals), and its data, data-count, element, start and
custom sections are dropped. Everything at the component level is copied verbatim, so
the copy has the same imports, exports, instances, canonical functions and types, and a
core module's signature (what the component's structure and types depend on) is
unchanged. The original core modules are returned too: the caller validates each of
them (`wasmtime.Module.validate`), so the copy never accepts what a full compile refuses.

The walk is raw (section id, size, payload) and needs nothing of a section's contents
but a code section's function count, so component features mcpkg's decoder does not know
pass through to wasmtime untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.binary.leb import Reader, encode_u32, malformed
from mcpkg.wasm.binary.sections import (
    COMPONENT_SECTION,
    CORE_MODULE_SECTION,
    CORE_PREAMBLE,
    MAX_DEPTH,
    PREAMBLE,
    section_spans,
)

# core module section ids (WebAssembly core spec, binary format)
_CORE_CUSTOM, _CORE_START, _CORE_ELEMENT, _CORE_CODE, _CORE_DATA, _CORE_DATACOUNT = 0, 8, 9, 10, 11, 12
_CORE_FUNCTION, _CORE_EXPORT = 3, 7
_CORE_DROPPED = {_CORE_CUSTOM, _CORE_START, _CORE_ELEMENT, _CORE_DATA, _CORE_DATACOUNT}
_UNREACHABLE_BODY = b"\x03\x00\x00\x0b"  # size 3: no local declarations, `unreachable`, `end`


@dataclass(frozen=True)
class Reduced:
    component: bytes  # the reduced copy, a valid component when the original is one
    modules: tuple[bytes, ...]  # every original core module, in binary order


def _sections(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int]]:
    """(id, payload start, payload end) of each section of the binary at data[start:end]."""
    return [(sid, begin, stop) for sid, _, begin, stop in section_spans(data, start, end, what)]


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + encode_u32(len(payload)) + payload


_SINGLE_BYTE_VALTYPES = {0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F}  # i32 i64 f32 f64 v128 funcref externref


def _skip_valtype(r: Reader) -> bool:
    code = r.byte()
    if code in (0x63, 0x64):  # (ref null? heaptype)
        r.s(33)
        return True
    return code in _SINGLE_BYTE_VALTYPES


def _skip_limits(r: Reader) -> bool:
    flags = r.byte()
    if flags & ~0x0F:
        return False
    bits = 64 if flags & 0x04 else 32
    r.u(bits)
    if flags & 0x01:
        r.u(bits)
    if flags & 0x08:  # custom page size
        r.u32()
    return True


def _imported_functions(payload: bytes) -> int | None:
    """How many functions the import section imports; None for an encoding this walker
    does not know (the caller then keeps every function)."""
    r = Reader(payload)
    functions = 0
    for _ in range(r.u32()):
        r.take(r.u32())  # module name
        r.take(r.u32())  # field name
        kind = r.byte()
        if kind == 0x00:
            r.u32()
            functions += 1
        elif kind == 0x01:
            if not (_skip_valtype(r) and _skip_limits(r)):
                return None
        elif kind == 0x02:
            if not _skip_limits(r):
                return None
        elif kind == 0x03:
            if not _skip_valtype(r):
                return None
            r.byte()
        elif kind == 0x04:
            r.byte()
            r.u32()
        else:
            return None
    return functions if r.at_end() else None


_CONST_EXPR_ARITH = {0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E}  # extended-const add/sub/mul


def _const_expr_refers_to_no_function(r: Reader) -> bool:
    """Skip a constant expression; False when it holds `ref.func` or an unknown opcode."""
    while True:
        op = r.byte()
        if op == 0x0B:
            return True
        if op == 0x41:
            r.s(32)
        elif op == 0x42:
            r.s(64)
        elif op == 0x43:
            r.take(4)
        elif op == 0x44:
            r.take(8)
        elif op == 0x23:
            r.u32()
        elif op == 0xD0:
            r.s(33)
        elif op == 0xFD and r.u32() == 12:  # v128.const
            r.take(16)
        elif op not in _CONST_EXPR_ARITH:
            return False


def _globals_and_tables_refer_to_no_function(payloads: dict[int, bytes]) -> bool:
    if 4 in payloads:
        r = Reader(payloads[4])
        for _ in range(r.u32()):
            if r.peek() == 0x40 or not (_skip_valtype(r) and _skip_limits(r)):  # 0x40: a table with an initializer
                return False
        if not r.at_end():
            return False
    if 6 in payloads:
        r = Reader(payloads[6])
        for _ in range(r.u32()):
            if not _skip_valtype(r):
                return False
            r.byte()  # mutability
            if not _const_expr_refers_to_no_function(r):
                return False
        if not r.at_end():
            return False
    return True


def _cut(payloads: dict[int, bytes]) -> tuple[bytes, bytes, int] | None:
    """Only the exported functions: (function section, export section, function count),
    or None when some other item may refer to a function (a `ref.func` in a global or
    table initializer) or an encoding is unknown."""
    if not _globals_and_tables_refer_to_no_function(payloads):
        return None
    imported = _imported_functions(payloads[2]) if 2 in payloads else 0
    if imported is None:
        return None
    r = Reader(payloads.get(3, b"\x00"))
    types = [r.u32() for _ in range(r.u32())]
    if not r.at_end():
        return None
    r = Reader(payloads.get(7, b"\x00"))
    exports: list[tuple[bytes, int, int]] = []
    for _ in range(r.u32()):
        name = r.take(r.u32())
        kind = r.byte()
        exports.append((name, kind, r.u32()))
    if not r.at_end():
        return None
    kept = sorted({index - imported for _, kind, index in exports if kind == 0x00 and index >= imported})
    if any(index >= len(types) for index in kept):
        return None
    renumber = {old + imported: new + imported for new, old in enumerate(kept)}
    function_section = encode_u32(len(kept)) + b"".join(encode_u32(types[i]) for i in kept)
    export_section = encode_u32(len(exports)) + b"".join(
        encode_u32(len(name)) + name + bytes([kind]) + encode_u32(renumber.get(index, index) if kind == 0 else index)
        for name, kind, index in exports
    )
    return function_section, export_section, len(kept)


def reduce_module(data: bytes, start: int = 0, end: int | None = None, *, cut: bool = True) -> bytes:
    """The core module at data[start:end] with `unreachable` bodies and no data, element,
    start or custom sections; with `cut`, also without the functions it does not export
    (when nothing else can refer to one)."""
    end = len(data) if end is None else end
    if data[start : start + 8] != CORE_PREAMBLE:
        raise malformed(f"the core module at offset {start} has no valid preamble")
    sections = [
        (sid, begin, stop)
        for sid, begin, stop in _sections(data, start, end, f"the core module at offset {start}")
        if sid not in _CORE_DROPPED
    ]
    cutting = None
    if cut:
        try:
            cutting = _cut({sid: data[begin:stop] for sid, begin, stop in sections})
        except InvalidArtifactError:
            cutting = None  # left to the validation of the original module
    out = bytearray(CORE_PREAMBLE)
    for sid, begin, stop in sections:
        if sid == _CORE_CODE:
            if cutting is not None:
                count = cutting[2]
            else:
                count = Reader(data, begin, stop).u32("the function count of a code section")
                if count > stop - begin:  # every body takes at least one byte
                    raise malformed(f"the code section at offset {begin} claims {count} functions")
            out += _section(sid, encode_u32(count) + _UNREACHABLE_BODY * count)
        elif sid == _CORE_FUNCTION and cutting is not None:
            out += _section(sid, cutting[0])
        elif sid == _CORE_EXPORT and cutting is not None:
            out += _section(sid, cutting[1])
        else:
            out += _section(sid, data[begin:stop])
    return bytes(out)


def _reduce_component(data: bytes, start: int, end: int, depth: int, modules: list[bytes], cut: bool) -> bytes:
    if depth > MAX_DEPTH:
        raise malformed(f"components nest deeper than {MAX_DEPTH} levels")
    if data[start : start + 8] != PREAMBLE:
        raise malformed(f"the component at offset {start} has no valid preamble")
    out = bytearray(data[start : start + 8])
    for sid, begin, stop in _sections(data, start, end, f"the component at offset {start}"):
        if sid == CORE_MODULE_SECTION:
            modules.append(data[begin:stop])
            out += _section(sid, reduce_module(data, begin, stop, cut=cut))
        elif sid == COMPONENT_SECTION:
            out += _section(sid, _reduce_component(data, begin, stop, depth + 1, modules, cut))
        else:
            out += _section(sid, data[begin:stop])
    return bytes(out)


def reduce_component(data: bytes, *, cut: bool = True) -> Reduced:
    """The reduced copy of a component binary and its original core modules; `cut`: core
    modules keep only their exported functions where that is safe."""
    modules: list[bytes] = []
    reduced = _reduce_component(data, 0, len(data), 0, modules, cut)
    return Reduced(reduced, tuple(modules))
