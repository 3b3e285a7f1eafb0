"""Composition of MCP server components, in pure Python (no wasmtime, no wasm-tools):
`leb` and `binary`, a reader and writer of the Component Model binary format (sections
composition needs are decoded, every other section is copied verbatim, so a round trip
gives back the same bytes); `encoder`, which emits the outer component that embeds each
part, instantiates them in order and re-exports the transport's exports. The use case
(lock, fetch, check, validate, write) is `mcpkg.ops.compose`; see docs/compose.md.

May import: the shared basics and `mcpkg.wasm` (type models)."""
