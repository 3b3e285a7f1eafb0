"""The first 8 bytes of a Wasm binary: what tells a component from a core module."""

from __future__ import annotations

from mcpkg.errors import InvalidArtifactError

COMPONENT_PREAMBLE = b"\x00asm\x0d\x00\x01\x00"  # magic, version 0x0d, layer 1 (component)
CORE_MODULE_PREAMBLE = b"\x00asm\x01\x00\x00\x00"  # magic, version 1, layer 0 (core module)


def check_preamble(head: bytes, what: str) -> None:
    """Reject anything whose first 8 bytes are not a component's preamble."""
    if head.startswith(COMPONENT_PREAMBLE):
        return
    if head.startswith(CORE_MODULE_PREAMBLE):
        raise InvalidArtifactError(
            f"{what} is a core WebAssembly module, not a component",
            "wrap it with `wasm-tools component new` first",
        )
    raise InvalidArtifactError(
        f"{what} is not a WebAssembly component (bad preamble)",
        "mcpkg handles Wasm components only; check that this is the file or artifact you meant",
    )
