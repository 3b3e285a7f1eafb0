"""Wasm components: the only code that uses wasmtime (`introspect`: validation and type
models, cached; `extract`; `runner`: compile once, run), and what mcpkg knows of
component types (`model`, `compat`: the chain check, `roles`, `wit`, `preamble`).

May import: the shared basics; `wasmtime` only here, inside the functions that use it.
"""
