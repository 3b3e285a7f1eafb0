"""Everything that uses wasmtime lives here (validation, type inspection)."""
