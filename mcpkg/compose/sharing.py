"""Core modules shared across the nested components of a composition (docs/compose.md,
"Shared core modules").

Every component written with componentize-py (or componentize-js) carries its language
runtime as core modules: libpython, libc, the runtime glue... byte for byte the same in
every part built by the same tool. Nesting the parts verbatim (what `wasm-tools compose`
and wac do) repeats them once per part, and wasmtime compiles each copy. Here each core
module whose bytes occur two or more times among the nested components, at any depth,
is defined once in the outer component, before the first nested component, and every
occurrence is replaced in place by one alias section of one alias,
`(alias outer <depth> <index> (core module))`, where `depth` is how many components out
the outer one is. One module section becomes one module alias, so every index inside
the nested component stays what it was; only section sizes change (a section header's
size may have been written padded: it is rewritten minimal where the payload changed and
kept byte for byte elsewhere).

The plan is pure and deterministic: modules are keyed by their bytes (sha256), ordered by
first occurrence (component order, then binary order), so the same inputs give the same
output. The outer component defines no core modules of its own, so the shared modules
take outer core module indices 0, 1, ...
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import BinaryIO

from mcpkg.wasm.binary.leb import Reader, encode_u32, malformed
from mcpkg.wasm.binary.sections import (
    ALIAS_SECTION,
    COMPONENT_SECTION,
    CORE_MODULE_SECTION,
    MAX_DEPTH,
    section_spans,
)

_CORE_SORT, _MODULE_SORT, _OUTER = 0x00, 0x11, 0x02


@dataclass(frozen=True)
class SharedModule:
    digest: str  # sha256 of the module's bytes
    size: int
    occurrences: int  # how many times the nested components held it

    @property
    def saved(self) -> int:
        return self.size * (self.occurrences - 1)

    def to_json(self) -> dict[str, object]:
        return {"digest": self.digest, "size": self.size, "occurrences": self.occurrences}


@dataclass
class Sharing:
    modules: list[bytes] = field(default_factory=list)  # the outer definitions, in index order
    components: list[bytes] = field(default_factory=list)  # each input component, rewritten where it shares
    shared: list[SharedModule] = field(default_factory=list)
    sharing_components: int = 0  # how many of the input components alias a shared module

    @property
    def saved(self) -> int:
        """Bytes the output is smaller by (less the few bytes of each alias section)."""
        return sum(m.saved for m in self.shared)

    def to_json(self) -> dict[str, object]:
        return {
            "modules": len(self.shared),
            "components": self.sharing_components,
            "bytes-saved": self.saved,
            "shared": [m.to_json() for m in self.shared],
        }


@dataclass(frozen=True)
class _Occurrence:
    key: bytes
    start: int
    end: int


def _sections(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    return section_spans(data, start, end, f"the component at offset {start}")


def _collect(data: bytes, start: int, end: int, depth: int, found: list[_Occurrence]) -> None:
    if depth > MAX_DEPTH:
        raise malformed(f"components nested more than {MAX_DEPTH} deep")
    view = memoryview(data)
    for sid, _, payload_start, payload_end in _sections(data, start, end):
        if sid == CORE_MODULE_SECTION:
            key = hashlib.sha256(view[payload_start:payload_end]).digest()
            found.append(_Occurrence(key, payload_start, payload_end))
        elif sid == COMPONENT_SECTION:
            _collect(data, payload_start, payload_end, depth + 1, found)


def _alias_section(depth: int, index: int) -> bytes:
    payload = bytes([1, _CORE_SORT, _MODULE_SORT, _OUTER]) + encode_u32(depth) + encode_u32(index)
    return bytes([ALIAS_SECTION]) + encode_u32(len(payload)) + payload


def _rewrite(
    data: bytes, start: int, end: int, depth: int, shared_at: dict[int, int]
) -> tuple[list[bytes | memoryview], int] | None:
    """The component at data[start:end] with each shared module (by its payload offset,
    `shared_at`: offset -> outer index) replaced by an outer alias, as chunks and their
    length; None when nothing in it changes."""
    view = memoryview(data)
    out: list[bytes | memoryview] = [view[start : start + 8]]
    length = 8
    changed = False
    for sid, header, payload_start, payload_end in _sections(data, start, end):
        if sid == CORE_MODULE_SECTION and payload_start in shared_at:
            alias = _alias_section(depth, shared_at[payload_start])
            out.append(alias)
            length += len(alias)
            changed = True
            continue
        if sid == COMPONENT_SECTION:
            inner = _rewrite(data, payload_start, payload_end, depth + 1, shared_at)
            if inner is not None:
                head = bytes([COMPONENT_SECTION]) + encode_u32(inner[1])
                out += [head, *inner[0]]
                length += len(head) + inner[1]
                changed = True
                continue
        out.append(view[header:payload_end])
        length += payload_end - header
    return (out, length) if changed else None


def share_modules(components: list[bytes]) -> Sharing:
    """The plan: which modules the outer component defines, and each component rewritten
    to alias them (unchanged components are returned as they are)."""
    occurrences: list[list[_Occurrence]] = []
    for data in components:
        found: list[_Occurrence] = []
        _collect(data, 0, len(data), 1, found)
        occurrences.append(found)
    counts: dict[bytes, int] = {}
    for found in occurrences:
        for occurrence in found:
            counts[occurrence.key] = counts.get(occurrence.key, 0) + 1
    sharing = Sharing()
    index_of: dict[bytes, int] = {}
    for data, found in zip(components, occurrences, strict=True):
        for occurrence in found:
            if counts[occurrence.key] >= 2 and occurrence.key not in index_of:
                index_of[occurrence.key] = len(sharing.modules)
                module = data[occurrence.start : occurrence.end]
                sharing.modules.append(module)
                count = counts[occurrence.key]
                sharing.shared.append(SharedModule("sha256:" + occurrence.key.hex(), len(module), count))
    for data, found in zip(components, occurrences, strict=True):
        shared_at = {o.start: index_of[o.key] for o in found if o.key in index_of}
        rewritten = _rewrite(data, 0, len(data), 1, shared_at) if shared_at else None
        sharing.components.append(data if rewritten is None else b"".join(rewritten[0]))
        sharing.sharing_components += rewritten is not None
    return sharing


@dataclass(frozen=True)
class SharedInFile:
    modules: int  # core modules the outer component defines that nested components alias
    size: int  # their bytes
    aliases: int  # how many times nested components alias them
    components: int  # how many nested components (at any depth) alias at least one

    def to_json(self) -> dict[str, int]:
        return {"modules": self.modules, "bytes": self.size, "aliases": self.aliases, "components": self.components}


def _read_u32(f: BinaryIO) -> int:
    result, shift = 0, 0
    for _ in range(5):
        raw = f.read(1)
        if not raw:
            raise malformed("the file ends inside a section header")
        result |= (raw[0] & 0x7F) << shift
        shift += 7
        if not raw[0] & 0x80:
            return result
    raise malformed("a section size is longer than 5 bytes")


def _file_sections(f: BinaryIO, start: int, end: int) -> list[tuple[int, int, int]]:
    """(id, payload start, payload size) of each section of the component at [start, end)."""
    out, pos = [], start + 8
    while pos < end:
        f.seek(pos)
        raw = f.read(1)
        if not raw:
            raise malformed("the file ends inside a component")
        size = _read_u32(f)
        payload = f.tell()
        if payload + size > end:
            raise malformed(f"a section at offset {payload} claims {size} bytes past its component's end")
        out.append((raw[0], payload, size))
        pos = payload + size
    return out


def _outer_module_aliases(payload: bytes, depth: int) -> list[int]:
    """The outer core module indices that an alias section at `depth` takes from the
    outermost component (aliases of other kinds are skipped)."""
    r = Reader(payload)
    found = []
    for _ in range(r.u32("an alias count")):
        sort = r.byte("an alias sort")
        core_sort = r.byte("a core sort") if sort == 0x00 else None
        tag = r.byte("an alias target")
        if tag in (0x00, 0x01):
            r.u32("an instance index")
            length = r.u32("a name length")  # not `r.pos += r.u32(...)`: r.pos would be read first
            r.pos += length
        elif tag == _OUTER:
            count, index = r.u32("an outer count"), r.u32("an outer index")
            if core_sort == _MODULE_SORT and count == depth:
                found.append(index)
        else:
            raise malformed(f"unknown alias target {tag:#x}")
    return found


def shared_in_file(f: BinaryIO, size: int) -> SharedInFile:
    """What a composed component shares: its own core modules that nested components alias
    (`mcpkg inspect` of a composed server). Reads section headers and alias sections
    only, seeking past everything else."""
    top = _file_sections(f, 0, size)
    modules = [(payload, length) for sid, payload, length in top if sid == CORE_MODULE_SECTION]
    aliased: set[int] = set()
    counts = {"aliases": 0, "components": 0}

    def walk(start: int, end: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise malformed(f"components nested more than {MAX_DEPTH} deep")
        uses = 0
        for sid, payload, length in _file_sections(f, start, end):
            if sid == ALIAS_SECTION:
                f.seek(payload)
                indices = _outer_module_aliases(f.read(length), depth)
                aliased.update(indices)
                uses += len(indices)
            elif sid == COMPONENT_SECTION:
                walk(payload, payload + length, depth + 1)
        counts["aliases"] += uses
        counts["components"] += bool(uses)

    for sid, payload, length in top:
        if sid == COMPONENT_SECTION:
            walk(payload, payload + length, 1)
    shared = [modules[i] for i in sorted(aliased) if i < len(modules)]
    return SharedInFile(len(shared), sum(length for _, length in shared), counts["aliases"], counts["components"])
