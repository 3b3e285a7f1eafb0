"""What a server may reach beyond its sandbox, and what `mcpkg run` grants (pure).

A server reaches the outside world only through the WASI interfaces it imports:

- Outgoing HTTP (`wasi:http/outgoing-handler`, with `wasi:http/types`): mcpkg's wasmtime
  provides it (wasmtime-py's `Linker.add_wasi_http` and `Store.set_wasi_http`), only when the
  user grants it with `--allow-http`. The grant is whole: wasmtime's embedding API has no
  per-host allow-list or request hook, so a granted server may send HTTP and HTTPS requests
  to any host this machine can reach (docs/wasi-mcp.md, "Outgoing HTTP"). Without it, a
  server importing the outgoing handler is refused before it is compiled, naming the
  imports and the flag. `wasi:http/types` alone (no handler to send with) grants nothing
  and is provided without asking.
- Sockets (`wasi:sockets/*`): linked (every CPython component imports them), but
  wasmtime-py's `WasiConfig` has no socket grants, so every socket call is denied; mcpkg
  cannot grant `--allow-network` and says so, with the wasmtime CLI command that can
  (`wasmtime run -S inherit-network ...`).

`wasmtime serve` (an HTTP server's command) always provides `wasi:http`, outgoing requests
included: a composed HTTP server needs no grant from mcpkg.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ALLOW_HTTP = "--allow-http"
ALLOW_NETWORK = "--allow-network"
OUTGOING_HANDLER = "wasi:http/outgoing-handler"
HTTP_TYPES = "wasi:http/types"


@dataclass(frozen=True)
class Grants:
    """What the user granted a server beyond stdin, stdout and stderr: directories
    (`--dir`: host path, guest path), environment variables (`--env`) and outgoing HTTP
    (`--allow-http`)."""

    dirs: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    http: bool = False


PROVIDED_HTTP = "0.2."  # wasmtime's add_wasi_http: every wasi:http 0.2.x (not 0.3's async one)


def interface_of(name: str) -> str:
    """`wasi:http/types@0.2.8` -> `wasi:http/types`."""
    return name.split("@", 1)[0]


def is_provided_http(name: str) -> bool:
    """Whether `name` is one of the wasi:http imports mcpkg provides (granted or not)."""
    interface, _, version = name.partition("@")
    return interface in (OUTGOING_HANDLER, HTTP_TYPES) and version.startswith(PROVIDED_HTTP)


def http_imports(imports: Iterable[str]) -> list[str]:
    """The outgoing-HTTP imports mcpkg can provide (the handler and its types, wasi:http
    0.2.x), sorted; a wasi:http of another version is not provided at all."""
    return sorted(n for n in imports if is_provided_http(n))


def calls_out_over_http(imports: Iterable[str]) -> bool:
    """Whether the server can send HTTP requests through what mcpkg provides: it imports
    the outgoing handler (0.2.x)."""
    return any(interface_of(n) == OUTGOING_HANDLER for n in http_imports(imports))


def socket_imports(imports: Iterable[str]) -> list[str]:
    return sorted(n for n in imports if n.startswith("wasi:sockets/"))


def grants_needed(imports: Iterable[str], serves_http: bool = False) -> list[str]:
    """The `mcpkg run` flags a server needs to run (`["--allow-http"]` or none); a server
    exporting `wasi:http/incoming-handler` is run by `wasmtime serve`, which needs none."""
    return [ALLOW_HTTP] if calls_out_over_http(imports) and not serves_http else []
