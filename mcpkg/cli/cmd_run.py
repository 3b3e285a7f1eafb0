"""`mcpkg run [server.wasm] [--dir HOST::GUEST]... [--env K=V]... [--allow-http] [--allow-network] [--compiler C]
[--http [HOST:]PORT] [--timeout S] [--max-memory SIZE] [--max-message SIZE]`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mcpkg.cli.options import COMPILER_OPTION
from mcpkg.cli.terminal import OUT, compiling_note, detail, note
from mcpkg.errors import UsageError


def run_command(
    server: Path = typer.Argument(
        Path("server.wasm"), metavar="[SERVER]", help="A composed server (server.wasm) or a wasi:mcp backend."
    ),
    dirs: list[str] = typer.Option([], "--dir", help="Grant a directory: HOST::GUEST (repeatable)."),
    env: list[str] = typer.Option([], "--env", help="Set an environment variable: K=V (repeatable)."),
    allow_http: bool = typer.Option(
        False,
        "--allow-http",
        help="Grant outgoing HTTP (wasi:http/outgoing-handler): requests to any host this machine reaches.",
    ),
    allow_network: bool = typer.Option(
        False, "--allow-network", help="Grant sockets (wasi:sockets): mcpkg cannot; it names the command that can."
    ),
    compiler: str = COMPILER_OPTION,
    http: str | None = typer.Option(
        None,
        "--http",
        metavar="[HOST:]PORT",
        help="Host a wasi:mcp backend over MCP's streamable HTTP at http://HOST:PORT/mcp "
        "(HOST: 127.0.0.1 unless given; see docs/wasi-mcp.md).",
    ),
    timeout: str | None = typer.Option(
        None,
        "--timeout",
        metavar="SECONDS",
        help="A wasi:mcp backend: seconds a request may run (default 30; 0: none).",
    ),
    max_memory: str | None = typer.Option(
        None,
        "--max-memory",
        metavar="SIZE",
        help="A wasi:mcp backend: its memory cap, e.g. 256M (default 1G; 0: none).",
    ),
    max_message: str | None = typer.Option(
        None, "--max-message", metavar="SIZE", help="A wasi:mcp backend: the longest message in or out (default 8M)."
    ),
) -> None:
    """Run a composed stdio server under wasmtime (stdin/stdout attached; nothing else
    granted unless asked: --dir, --env, --allow-http), or host a wasi:mcp backend (MCP over stdio, or streamable HTTP
    with --http; kept in bounds: --timeout, --max-memory, --max-message; docs/wasi-mcp.md).
    For an HTTP server, print the `wasmtime serve` command."""
    from mcpkg.ops.run import compile_estimate, parse_bounds, parse_compiler, run

    if OUT.json:
        raise UsageError(
            "run gives the server stdin and stdout, so it prints no JSON document",
            "drop --json (an MCP client talks JSON-RPC to the server on stdout)",
        )
    chosen = parse_compiler(compiler)
    given = (timeout, max_memory, max_message) != (None, None, None)
    bounds = parse_bounds(timeout, max_memory, max_message) if given else None

    def compiling() -> None:
        estimate = compile_estimate(server)
        compiling_note(server.name, chosen, "first run only", "later runs load the compiled code", estimate)

    if http is not None:
        from mcpkg.ops.run_http import run_http

        def ready(url: str, loopback: bool) -> None:
            if not loopback:  # said even with -q: it is about who can call the backend
                print(
                    f"warning: {url} is not a loopback address: anyone who can reach it can call this backend's "
                    "tools (no authentication, no TLS; docs/wasi-mcp.md)",
                    file=sys.stderr,
                    flush=True,
                )
            note(f"serving MCP (streamable HTTP) at {url}; Ctrl-C stops")

        outcome = run_http(
            server, dirs, env, http, allow_network=allow_network, allow_http=allow_http, on_compile=compiling,
            on_note=note, on_ready=ready, compiler=chosen, bounds=bounds,
        )  # fmt: skip
    else:
        outcome = run(
            server, dirs, env, allow_network=allow_network, allow_http=allow_http, on_compile=compiling, on_note=note,
            compiler=chosen, bounds=bounds,
        )  # fmt: skip
    if outcome.serve_command is not None:
        print(outcome.serve_command)
        note("an HTTP server: run it with the command above (always keep --addr on 127.0.0.1 unless you mean it)")
        return
    detail(f"{'compiled' if outcome.compiled else 'loaded the cached compiled'} artifact {outcome.artifact}")
    sys.stdout.flush()
    raise typer.Exit(outcome.exit_code)


EXAMPLES = """\b
Examples:
  mcpkg run server.wasm                           # an MCP client's server command
  mcpkg run server.wasm --dir ./data::/data --env LOG=debug
  mcpkg run server.wasm --allow-http              # a server whose tools call an API over HTTP
  mcpkg run backend.wasm --http 8080              # a wasi:mcp backend at http://127.0.0.1:8080/mcp
  mcpkg run backend.wasm --timeout 10 --max-memory 256M   # a wasi:mcp backend, kept in bounds
"""
