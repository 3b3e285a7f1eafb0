"""Small helpers over component binaries shared by tests and scripts: custom sections
(to make a real component distinct, or exactly N bytes, and still valid) and the
canonical-function payloads of a decoded component."""

from __future__ import annotations

from mcpkg.wasm.binary.leb import encode_u
from mcpkg.wasm.binary.types import CANON_SECTION, Component, ComponentSection, Section


def leb128(value: int) -> bytes:
    return encode_u(value, 64)


def with_custom_section(base: bytes, name: bytes, payload: bytes) -> bytes:
    """`base` (a component) with a custom section (id 0: name, payload) right after its
    8-byte preamble; custom sections are valid anywhere, so wasmtime still accepts it."""
    body = leb128(len(name)) + name + payload
    return base[:8] + b"\x00" + leb128(len(body)) + body + base[8:]


def padded_component(base: bytes, size: int) -> bytes:
    """`base` with a custom section after the preamble, exactly `size` bytes in all."""
    name = b"mcpkg-bench-padding"
    header = leb128(len(name)) + name
    room = size - len(base) - 1  # section id byte
    payload_len = room - len(header)
    # the section size prefix takes a few bytes itself: shrink the payload to fit exactly
    for _ in range(3):
        payload_len = room - len(leb128(len(header) + payload_len)) - len(header)
    data = with_custom_section(base, name, b"\x5a" * payload_len)
    assert len(data) == size, (len(data), size)
    return data


def canon_payloads(component: Component) -> list[bytes]:
    """The raw canonical-function sections of `component` and its nested components."""
    found: list[bytes] = []
    for s in component.sections:
        if isinstance(s, Section) and s.id == CANON_SECTION:
            found.append(s.payload)
        elif isinstance(s, ComponentSection):
            found += canon_payloads(s.component)
    return found


# A component in WAT with the constructs of the canonical ABI a tool component uses
# (written by hand, assembled by `wasm-tools parse`): the reader/writer's round-trip input.
TOOL_WAT = """(component
  (type (func))
  (type (func (param "a" u32) (param "b" string) (result string)))
  (type (func async (param "a" u32)))
  (type (stream u8)) (type (stream)) (type (future)) (type (future u32))
  (type error-context) (type (list u8 4)) (type (map string u32))
  (type (variant (case "a") (case "b" u32)))
  (type (result)) (type (result u32 (error string))) (type (option 12))
  (type (flags "x" "y")) (type (enum "p" "q")) (type (tuple u8 s64 char f32 f64 bool))
  (type (instance
    (export "r" (type (sub resource)))
    (type (own 0)) (type (borrow 0))
    (core type (func (param i32 externref) (result i64)))
    (core type (module
      (type (func (param i32) (result i64)))
      (import "a" "f" (func (type 0)))
      (import "a" "t" (table 1 2 funcref))
      (import "a" "m" (memory i64 1 10))
      (import "a" "s" (memory 1 2 shared))
      (import "a" "g" (global (mut i32)))
      (import "a" "tag" (tag (type 0)))
      (alias outer 1 0 (type))
      (export "e" (func (type 0)))))))
  (type (component
    (alias outer 1 17 (type))
    (import "i" (instance (type 0)))
    (alias outer 1 1 (type))
    (export "f" (func (type 1)))))
  (import "v" (value string))
  (export "v2" (value 0))
)"""
