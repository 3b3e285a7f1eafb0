"""Composition of MCP server components, in pure Python (no wasmtime, no wasm-tools).

The plan, in layers:

- `mcpkg.compose.leb` and `mcpkg.compose.binary` (here now): a reader and a writer for the
  Component Model binary format. Sections that composition needs (imports, exports,
  aliases, component instances, types, nested components) are decoded into frozen
  dataclasses; every other section is kept as raw bytes and copied verbatim, so that
  decoding then encoding a component gives back the same bytes.
- A planner (later): from the components of a chain and their role worlds, decide which
  instance satisfies which import, and which imports remain imports of the whole.
- An encoder (later): emit the outer component that embeds each part as a nested
  component, instantiates them in order with `with` arguments, and re-exports the chain's
  entry point; the result is checked with wasmtime like any other artifact.
"""
