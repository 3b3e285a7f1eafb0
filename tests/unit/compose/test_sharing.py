"""Core modules shared across nested components (mcpkg/compose/sharing.py), on small
components written in WAT and checked by wasm-tools' validator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mcpkg.compose.sharing import share_modules
from mcpkg.wasm.binary.leb import encode_u32
from mcpkg.wasm.binary.sections import COMPONENT_SECTION, CORE_MODULE_SECTION, PREAMBLE
from testing.compose_tool import find_wasm_tools

SHARED = '(core module $shared (func (export "f") (result i32) i32.const 42))'
OWN_A = '(core module $own (func (export "g") (result i32) i32.const 1))'
OWN_B = '(core module $own (func (export "g") (result i32) i32.const 2))'


def wat(tmp_path: Path, name: str, text: str) -> bytes:
    source = tmp_path / f"{name}.wat"
    source.write_text(text)
    out = tmp_path / f"{name}.wasm"
    subprocess.run([find_wasm_tools(), "parse", str(source), "-o", str(out)], check=True)
    return out.read_bytes()


def top_sections(component: bytes) -> list[tuple[int, bytes, bytes]]:
    """(id, header, payload) of each top-level section (sizes read as LEB128, padded or not)."""
    out, pos = [], 8
    while pos < len(component):
        sid, size, shift, at = component[pos], 0, 0, pos + 1
        while True:
            byte = component[at]
            size |= (byte & 0x7F) << shift
            shift += 7
            at += 1
            if not byte & 0x80:
                break
        out.append((sid, component[pos:at], component[at : at + size]))
        pos = at + size
    return out


def modules_of(component: bytes) -> list[bytes]:
    return [payload for sid, _, payload in top_sections(component) if sid == CORE_MODULE_SECTION]


def validate(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "out.wasm"
    path.write_bytes(data)
    done = subprocess.run([find_wasm_tools(), "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def outer(modules: list[bytes], components: list[bytes]) -> bytes:
    """The outer component as the encoder lays it out: shared modules, then components."""
    out = bytearray(PREAMBLE)
    for sid, payloads in ((CORE_MODULE_SECTION, modules), (COMPONENT_SECTION, components)):
        for payload in payloads:
            out += bytes([sid]) + encode_u32(len(payload)) + payload
    return bytes(out)


def test_a_module_in_several_components_and_depths_is_defined_once(tmp_path: Path) -> None:
    a = wat(tmp_path, "a", f"(component {SHARED} {OWN_A} (core instance (instantiate $shared)))")
    # b holds the module itself and inside a nested component (depth 2)
    b = wat(
        tmp_path,
        "b",
        f"(component {SHARED} {OWN_B} (component $inner {SHARED} (core instance (instantiate $shared)))"
        " (core instance (instantiate $own)) (instance (instantiate $inner)))",
    )
    sharing = share_modules([a, b])
    assert len(sharing.shared) == 1 and sharing.shared[0].occurrences == 3
    assert sharing.sharing_components == 2
    shared = sharing.modules[0]
    assert shared == modules_of(a)[0] == modules_of(b)[0]
    assert sharing.saved == 2 * len(shared)
    composed = outer(sharing.modules, sharing.components)
    validate(tmp_path, composed)
    assert composed.count(shared) == 1  # one copy, in the outer component
    assert modules_of(composed) == [shared]
    # the modules only one component holds stay where they were
    assert composed.count(modules_of(a)[1]) == 1 and composed.count(modules_of(b)[1]) == 1
    assert modules_of(sharing.components[0]) == [modules_of(a)[1]]
    # deterministic
    again = share_modules([a, b])
    assert again.modules == sharing.modules and again.components == sharing.components


def test_nothing_shared_leaves_every_component_as_it_was(tmp_path: Path) -> None:
    a = wat(tmp_path, "a", f"(component {OWN_A})")
    b = wat(tmp_path, "b", f"(component {OWN_B})")
    sharing = share_modules([a, b])
    assert sharing.modules == [] and sharing.shared == [] and sharing.saved == 0
    assert sharing.components[0] is a and sharing.components[1] is b
    assert sharing.to_json() == {"modules": 0, "components": 0, "bytes-saved": 0, "shared": []}


def test_padded_section_sizes_are_read_and_kept(tmp_path: Path) -> None:
    """A section header may write its size as a padded LEB128: sections that do not change
    keep their bytes, the rewritten ones get a minimal header."""
    a = wat(tmp_path, "a", f"(component {SHARED} {OWN_A})")

    def padded(component: bytes) -> bytes:
        out = bytearray(component[:8])
        for sid, _, payload in top_sections(component):
            size = len(payload)
            out += bytes([sid]) + bytes([(size >> (7 * i)) & 0x7F | (0x80 if i < 4 else 0) for i in range(5)])
            out += payload
        return bytes(out)

    b = padded(wat(tmp_path, "b", f"(component {SHARED} {OWN_B})"))
    validate(tmp_path, b)
    sharing = share_modules([a, b])
    assert len(sharing.shared) == 1
    composed = outer(sharing.modules, sharing.components)
    validate(tmp_path, composed)
    _, header, own_b = [s for s in top_sections(b) if s[0] == CORE_MODULE_SECTION][1]
    assert len(header) == 6 and header + own_b in sharing.components[1]  # unchanged, byte for byte


def test_a_component_that_is_not_one_is_refused(tmp_path: Path) -> None:
    a = wat(tmp_path, "a", f"(component {SHARED})")
    broken = a[:8] + bytes([CORE_MODULE_SECTION]) + encode_u32(10_000) + b"\0"
    with pytest.raises(Exception, match="claims 10000 bytes"):
        share_modules([a, broken])
