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

from mcpkg.wasm.binary.leb import Reader, encode_u32, malformed
from mcpkg.wasm.binary.types import COMPONENT_SECTION, CORE_MODULE_SECTION, CORE_PREAMBLE, MAX_DEPTH, PREAMBLE

# core module section ids (WebAssembly core spec, binary format)
_CORE_CUSTOM, _CORE_START, _CORE_ELEMENT, _CORE_CODE, _CORE_DATA, _CORE_DATACOUNT = 0, 8, 9, 10, 11, 12
_CORE_DROPPED = {_CORE_CUSTOM, _CORE_START, _CORE_ELEMENT, _CORE_DATA, _CORE_DATACOUNT}
_UNREACHABLE_BODY = b"\x03\x00\x00\x0b"  # size 3: no local declarations, `unreachable`, `end`


@dataclass(frozen=True)
class Reduced:
    component: bytes  # the reduced copy, a valid component when the original is one
    modules: tuple[bytes, ...]  # every original core module, in binary order


def _sections(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int]]:
    """(id, payload start, payload end) of each section of the binary at data[start:end]
    (past its 8-byte preamble)."""
    r = Reader(data, start + 8, end)
    out = []
    while not r.at_end():
        sid = r.byte("a section id")
        size = r.u32("a section size")
        if size > r.remaining:
            raise malformed(f"a section of {what} at offset {r.pos} claims {size} bytes, only {r.remaining} remain")
        out.append((sid, r.pos, r.pos + size))
        r.pos += size
    return out


def _section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + encode_u32(len(payload)) + payload


def reduce_module(data: bytes, start: int = 0, end: int | None = None) -> bytes:
    """The core module at data[start:end] with `unreachable` bodies and no data, element,
    start or custom sections."""
    end = len(data) if end is None else end
    if data[start : start + 8] != CORE_PREAMBLE:
        raise malformed(f"the core module at offset {start} has no valid preamble")
    out = bytearray(CORE_PREAMBLE)
    for sid, begin, stop in _sections(data, start, end, f"the core module at offset {start}"):
        if sid in _CORE_DROPPED:
            continue
        if sid == _CORE_CODE:
            count = Reader(data, begin, stop).u32("the function count of a code section")
            if count > stop - begin:  # every body takes at least one byte
                raise malformed(f"the code section at offset {begin} claims {count} functions")
            out += _section(sid, encode_u32(count) + _UNREACHABLE_BODY * count)
        else:
            out += _section(sid, data[begin:stop])
    return bytes(out)


def _reduce_component(data: bytes, start: int, end: int, depth: int, modules: list[bytes]) -> bytes:
    if depth > MAX_DEPTH:
        raise malformed(f"components nest deeper than {MAX_DEPTH} levels")
    if data[start : start + 8] != PREAMBLE:
        raise malformed(f"the component at offset {start} has no valid preamble")
    out = bytearray(data[start : start + 8])
    for sid, begin, stop in _sections(data, start, end, f"the component at offset {start}"):
        if sid == CORE_MODULE_SECTION:
            modules.append(data[begin:stop])
            out += _section(sid, reduce_module(data, begin, stop))
        elif sid == COMPONENT_SECTION:
            out += _section(sid, _reduce_component(data, begin, stop, depth + 1, modules))
        else:
            out += _section(sid, data[begin:stop])
    return bytes(out)


def reduce_component(data: bytes) -> Reduced:
    """The reduced copy of a component binary and its original core modules."""
    modules: list[bytes] = []
    reduced = _reduce_component(data, 0, len(data), 0, modules)
    return Reduced(reduced, tuple(modules))
