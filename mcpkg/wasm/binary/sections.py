"""The component binary format's section ids, preambles and the reader's limits, and the
raw walk over a binary's sections: cheap to import (the reduced-copy walker and the
composer's module sharing need only these, not the model)."""

from __future__ import annotations

from mcpkg.wasm.binary.leb import Reader, malformed
from mcpkg.wasm.preamble import COMPONENT_PREAMBLE, CORE_MODULE_PREAMBLE

PREAMBLE = COMPONENT_PREAMBLE
CORE_PREAMBLE = CORE_MODULE_PREAMBLE

# Deepest nesting of components in components, and of component/instance types in types.
MAX_DEPTH = 64
# Bytes of decoded sections (types, imports, exports, aliases, instances) in one component,
# nested ones included. Decoded, they take ~50x their size in Python objects; real
# components hold a few hundred KiB (core modules and custom sections are not decoded and
# not counted), so this bounds memory at a few hundred MiB whatever the input.
MAX_DECODED_BYTES = 4 * 1024 * 1024

# Section ids.
CUSTOM_SECTION = 0
CORE_MODULE_SECTION = 1
CORE_INSTANCE_SECTION = 2
CORE_TYPE_SECTION = 3
COMPONENT_SECTION = 4
INSTANCE_SECTION = 5
ALIAS_SECTION = 6
TYPE_SECTION = 7
CANON_SECTION = 8
START_SECTION = 9
IMPORT_SECTION = 10
EXPORT_SECTION = 11
VALUE_SECTION = 12

SECTION_NAMES = {
    CUSTOM_SECTION: "custom",
    CORE_MODULE_SECTION: "core module",
    CORE_INSTANCE_SECTION: "core instance",
    CORE_TYPE_SECTION: "core type",
    COMPONENT_SECTION: "component",
    INSTANCE_SECTION: "instance",
    ALIAS_SECTION: "alias",
    TYPE_SECTION: "type",
    CANON_SECTION: "canon",
    START_SECTION: "start",
    IMPORT_SECTION: "import",
    EXPORT_SECTION: "export",
    VALUE_SECTION: "value",
}


def section_spans(data: bytes, start: int, end: int, what: str) -> list[tuple[int, int, int, int]]:
    """(id, header start, payload start, payload end) of each section of the binary at
    data[start:end], past its 8-byte preamble (a core module's or a component's: their
    sections are laid out alike). A size header may be a padded LEB128."""
    r = Reader(data, start + 8, end)
    out = []
    while not r.at_end():
        header = r.pos
        sid = r.byte("a section id")
        size = r.u32("a section size")
        if size > r.remaining:
            raise malformed(f"a section of {what} at offset {r.pos} claims {size} bytes, only {r.remaining} remain")
        out.append((sid, header, r.pos, r.pos + size))
        r.pos += size
    return out
