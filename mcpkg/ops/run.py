"""`mcpkg run`: a composed stdio server under wasmtime (compiled once, cached), a wasi:mcp
backend hosted by mcpkg itself (MCP over stdio, docs/wasi-mcp.md), or the
`wasmtime serve` command for an HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mcpkg.cache import Cache
from mcpkg.errors import UsageError
from mcpkg.infile import readable_file
from mcpkg.wasm.backend import is_backend_candidate
from mcpkg.wasm.backend_host import serve_backend
from mcpkg.wasm.runner import (
    DEFAULT_COMPILER,
    Compiler,
    inspect_server,
    is_http,
    parse_compiler,
    parse_dirs,
    parse_env,
    run_server,
    serve_command,
)

__all__ = ["RunOutcome", "parse_compiler", "run"]


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int = 0
    serve_command: str | None = None  # an HTTP server is not run: this is how to serve it
    compiled: bool = False
    artifact: Path | None = None


def run(
    server: Path,
    dirs: list[str],
    env: list[str],
    *,
    allow_network: bool = False,
    on_compile: Callable[[], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
) -> RunOutcome:
    """Run a stdio server; `on_compile` is called before a full compile (the first run of
    a server not compiled with `compose --precompile`)."""
    readable_file(server, "server", "compose it first: `mcpkg compose -o server.wasm`")
    cache = Cache.default()
    model, digest = inspect_server(cache, server)
    if is_http(model):
        return RunOutcome(serve_command=serve_command(server))
    if allow_network:
        raise UsageError(
            "--allow-network cannot be granted by the wasmtime Python embedding mcpkg uses",
            f"run it with the wasmtime CLI instead: wasmtime run -S inherit-network {server}",
        )
    if is_backend_candidate(model):
        code, prepared = serve_backend(
            cache, server, model, digest, parse_dirs(dirs), parse_env(env), on_compile, compiler
        )
        return RunOutcome(code, None, prepared.compiled, prepared.artifact)
    code, prepared = run_server(cache, server, model, digest, parse_dirs(dirs), parse_env(env), on_compile, compiler)
    return RunOutcome(code, None, prepared.compiled, prepared.artifact)
