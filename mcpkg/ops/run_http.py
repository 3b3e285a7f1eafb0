"""`mcpkg run BACKEND.wasm --http [HOST:]PORT`: a wasi:mcp backend hosted by mcpkg over
MCP's streamable HTTP transport (host/http_host.py). Its own module, so that the HTTP
server is loaded only by a run that serves HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcpkg.errors import UsageError
from mcpkg.host.http_host import parse_address, serve_backend_http
from mcpkg.host.runner import DEFAULT_COMPILER, Compiler, is_http, parse_grants, serve_command_for
from mcpkg.ops.run import Bounds, RunOutcome, check_server
from mcpkg.wasm.backend import is_backend_candidate

__all__ = ["run_http"]


def run_http(
    server: Path,
    dirs: list[str],
    env: list[str],
    http: str,
    *,
    allow_network: bool = False,
    allow_http: bool = False,
    on_compile: Callable[[], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    on_ready: Callable[[str, bool], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    bounds: Bounds | None = None,
) -> RunOutcome:
    """Serve the backend at `http` ([HOST:]PORT) until interrupted; a composed HTTP server
    gets its `wasmtime serve` command (at that address), a composed stdio server a usage error."""
    address = parse_address(http)
    checked = check_server(server, bounds, allow_network, allow_http, on_note)
    model = checked.model
    if is_http(model):
        return RunOutcome(serve_command=serve_command_for(model, server, address.netloc))
    if not is_backend_candidate(model):
        raise UsageError(
            f"--http hosts a wasi:mcp backend; {server} is not one (a composed stdio server speaks stdio only)",
            "run it without --http (MCP over stdio), or compose it with `-t http` and serve it with wasmtime serve",
        )
    grants = parse_grants(dirs, env, allow_http)
    code, prepared = serve_backend_http(
        checked.cache, server, model, checked.digest, grants, address, on_compile, compiler, on_ready, bounds
    )
    return RunOutcome(code, None, prepared.compiled, prepared.artifact)
