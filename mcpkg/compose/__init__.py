"""Composition of MCP server components, in pure Python (no wasmtime, no wasm-tools):
`encoder` emits the outer component that embeds each part byte for byte, imports the
merged host interfaces (`instancetypes`) and the world-level type imports (`typeimports`),
instantiates the parts in order with the wiring of `mcpkg.wasm.compat`, and re-exports
the transport's exports, written with the codec of `mcpkg.wasm.binary`. The use case
(lock, fetch, check, validate, write) is `mcpkg.ops.compose`; see docs/compose.md.

May import: the shared basics and `mcpkg.wasm` (type models, the binary codec)."""
