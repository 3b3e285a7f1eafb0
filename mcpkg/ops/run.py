"""`mcpkg run`: a composed stdio server under wasmtime (compiled once, cached), a wasi:mcp
backend hosted by mcpkg itself (MCP over stdio, docs/wasi-mcp.md), or the
`wasmtime serve` command for an HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mcpkg.cache import Cache
from mcpkg.errors import UsageError
from mcpkg.host.backend_host import serve_backend
from mcpkg.host.bounds import Bounds, parse_bounds
from mcpkg.host.compiletime import code_size, estimate_seconds, rounded
from mcpkg.host.grants import ALLOW_HTTP, calls_out_over_http
from mcpkg.host.runner import (
    COMPILERS,
    DEFAULT_COMPILER,
    Compiler,
    cli_run_command,
    has_artifact,
    inspect_server,
    is_http,
    parse_compiler,
    parse_grants,
    refuse_network,
    run_server,
    serve_command_for,
)
from mcpkg.infile import readable_file
from mcpkg.reference import Digest
from mcpkg.wasm.backend import is_backend_candidate
from mcpkg.wasm.model import ComponentModel

__all__ = [
    "Bounds",
    "Checked",
    "RunOutcome",
    "check_server",
    "compile_estimate",
    "first_compile_ahead",
    "parse_bounds",
    "parse_compiler",
    "refuse_bounds",
    "refuse_grants",
    "run",
    "serve_note",
    "unused_grant",
]


def refuse_bounds(model: ComponentModel, server: Path, bounds: Bounds | None) -> None:
    """Bounds given for a server mcpkg does not host (a composed one): a usage error."""
    if bounds is not None and not is_backend_candidate(model):
        raise UsageError(
            "--timeout, --max-memory and --max-message bound a wasi:mcp backend mcpkg hosts; "
            f"{server} is a composed server, whose own transport answers MCP",
            'drop them (docs/wasi-mcp.md, "Bounds")',
        )


def compile_estimate(path: Path) -> dict[str, str]:
    """compiler -> "about N s" for the full compile of the server at `path` (empty when
    its code cannot be measured; host/compiletime.py)."""
    code = code_size(path)
    return {c: rounded(estimate_seconds(code, c)) for c in COMPILERS} if code else {}


def first_compile_ahead(path: Path, digest: str, compiler: Compiler = DEFAULT_COMPILER) -> dict[str, str]:
    """The estimate of the compile the first `mcpkg run` of a just-composed server will
    do; empty when its compiled code is kept already (it was composed and run before; a
    wasi:mcp backend's is compiled with epoch interruption, for its `--timeout`)."""
    cache = Cache.default()
    if has_artifact(cache, digest, compiler) or has_artifact(cache, digest, compiler, epochs=True):
        return {}
    return compile_estimate(path)


def refuse_grants(model: ComponentModel, server: Path, allow_network: bool) -> None:
    """`--allow-network`, which mcpkg cannot grant, refused with what can (host/grants.py)."""
    if allow_network:
        backend = is_backend_candidate(model)
        refuse_network(model, server, None if backend else cli_run_command(model, server, "inherit-network"))


def serve_note(model: ComponentModel, server: Path) -> str | None:
    """For an HTTP server that calls out: `wasmtime serve` grants outgoing HTTP unasked."""
    if calls_out_over_http(model.imports):
        return (
            f"{server.name} calls out over HTTP: `wasmtime serve` lets it reach any host, no grant asked "
            '(docs/wasi-mcp.md, "Outgoing HTTP")'
        )
    return None


def unused_grant(model: ComponentModel, server: Path, allow_http: bool) -> str | None:
    """A note when `--allow-http` grants nothing: the server does not call out over HTTP."""
    if allow_http and not calls_out_over_http(model.imports):
        return f"{ALLOW_HTTP}: {server.name} does not import wasi:http/outgoing-handler, so the grant is unused"
    return None


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int = 0
    serve_command: str | None = None  # an HTTP server is not run: this is how to serve it
    compiled: bool = False
    artifact: Path | None = None


@dataclass(frozen=True)
class Checked:
    """A server `run` may go on with: its types, read once, and where they are cached."""

    cache: Cache
    model: ComponentModel
    digest: Digest


def check_server(
    server: Path,
    bounds: Bounds | None,
    allow_network: bool,
    allow_http: bool,
    on_note: Callable[[str], None] | None,
) -> Checked:
    """What every `mcpkg run` (stdio or `--http`) checks before anything is compiled: the
    file, the bounds (a backend's only), `--allow-network` (never grantable), and the note
    about HTTP grants (`serve_note` for an HTTP server, else `unused_grant`)."""
    readable_file(server, "server", "compose it first: `mcpkg compose -o server.wasm`")
    cache = Cache.default()
    model, digest = inspect_server(cache, server)
    refuse_bounds(model, server, bounds)
    if is_http(model):  # `wasmtime serve` runs it, with the sockets it asks for
        note = serve_note(model, server)
    else:
        refuse_grants(model, server, allow_network)
        note = unused_grant(model, server, allow_http)
    if note is not None and on_note is not None:
        on_note(note)
    return Checked(cache, model, digest)


def run(
    server: Path,
    dirs: list[str],
    env: list[str],
    *,
    allow_network: bool = False,
    allow_http: bool = False,
    on_compile: Callable[[], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    bounds: Bounds | None = None,
) -> RunOutcome:
    """Run a stdio server; `on_compile` is called before a full compile (the first run of
    a server not compiled with `compose --precompile`), `on_note` with a note before it
    starts (about HTTP grants). `bounds`: the limits a hosted wasi:mcp backend is kept in
    (None: the defaults); a composed server is not hosted by mcpkg (its transport speaks
    MCP inside the component), so bounds for one are refused. `allow_http`: the server may
    call out over HTTP (host/grants.py)."""
    checked = check_server(server, bounds, allow_network, allow_http, on_note)
    cache, model, digest = checked.cache, checked.model, checked.digest
    if is_http(model):
        return RunOutcome(serve_command=serve_command_for(model, server))
    grants = parse_grants(dirs, env, allow_http)
    if is_backend_candidate(model):  # mcpkg is its wasi:mcp host: its own checks come first
        code, prepared = serve_backend(cache, server, model, digest, grants, on_compile, compiler, bounds)
        return RunOutcome(code, None, prepared.compiled, prepared.artifact)
    code, prepared = run_server(cache, server, model, digest, grants, on_compile, compiler)
    return RunOutcome(code, None, prepared.compiled, prepared.artifact)
