"""Wasm components: what mcpkg knows of them (`introspect`: validation and type models,
cached; `extract`; `model`, `compat`: the chain check, `contracts`, `backend`: the wasi:mcp
contract, `reduce`, `wit`, `preamble`; `binary/`, the component-binary codec). Compiling
and running them is `mcpkg.host`, above this package.

May import: the shared basics; `wasmtime` only inside the functions that use it (here and
in `host`).
"""
