"""Composition of MCP server components, in pure Python (no wasmtime, no wasm-tools).

In layers:

- `leb` and `binary`: a reader and a writer for the Component Model binary format.
  Sections that composition needs (imports, exports, aliases, component instances, types,
  nested components) are decoded into frozen dataclasses; every other section is kept as
  raw bytes and copied verbatim, so decoding then encoding gives back the same bytes.
- The wiring (`mcpkg.wasm.compat`): from the components of a chain and their type models,
  which instance, function or type satisfies which import, and which imports remain
  imports of the whole.
- `encoder` (with `instancetypes` and `typeimports`): the outer component that embeds
  each part as a nested component, instantiates them in order with `with` arguments, and
  re-exports the transport's exports; `compose` checks the result with wasmtime.
"""
