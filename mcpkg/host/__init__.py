"""Running and hosting: compile a server once and run it (`runner`: the compiled-artifact
cache, the sandboxed WASI, `mcpkg run`'s refusals and hints; `compiletime`: the first
compile's estimate), and the wasi:mcp host (`mcp_json`: JSON <-> WIT values, pure;
`mcp_session`: JSON-RPC and MCP, pure; `backend_host`: wasmtime host functions and stdio).

May import: the shared basics and `wasm` (the type models, the contracts); `wasmtime`
only inside the functions that use it. Nothing outside `ops` imports this package.
"""
