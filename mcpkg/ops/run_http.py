"""`mcpkg run BACKEND.wasm --http [HOST:]PORT`: a wasi:mcp backend hosted by mcpkg over
MCP's streamable HTTP transport (host/http_host.py). Its own module, so that the HTTP
server is loaded only by a run that serves HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcpkg.cache import Cache
from mcpkg.errors import UsageError
from mcpkg.host.http_host import parse_address, serve_backend_http
from mcpkg.host.runner import (
    DEFAULT_COMPILER,
    Compiler,
    cli_options,
    inspect_server,
    is_http,
    parse_dirs,
    parse_env,
    serve_command,
    unprovided_imports,
)
from mcpkg.infile import readable_file
from mcpkg.ops.run import Bounds, RunOutcome, refuse_bounds, refuse_grants, serve_note, unused_grant
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
    readable_file(server, "server", "compose it first: `mcpkg compose -o server.wasm`")
    cache = Cache.default()
    model, digest = inspect_server(cache, server)
    refuse_bounds(model, server, bounds)
    if is_http(model):
        said = serve_note(model, server)
        if said is not None and on_note is not None:
            on_note(said)
        options = cli_options(unprovided_imports(model), serve=True)
        return RunOutcome(serve_command=serve_command(server, options, address.netloc))
    refuse_grants(model, server, allow_network)
    if not is_backend_candidate(model):
        raise UsageError(
            f"--http hosts a wasi:mcp backend; {server} is not one (a composed stdio server speaks stdio only)",
            "run it without --http (MCP over stdio), or compose it with `-t http` and serve it with wasmtime serve",
        )
    unused = unused_grant(model, server, allow_http)
    if unused is not None and on_note is not None:
        on_note(unused)
    code, prepared = serve_backend_http(
        cache, server, model, digest, parse_dirs(dirs), parse_env(env), address, on_compile, compiler, on_ready, bounds,
        allow_http=allow_http,
    )  # fmt: skip
    return RunOutcome(code, None, prepared.compiled, prepared.artifact)
