"""The HTTP host's pure parts: `--http [HOST:]PORT`, and that only a run serving HTTP loads
the HTTP server (stdio `mcpkg run` and every other command do not)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcpkg.errors import UsageError
from mcpkg.host.http_host import Address, is_loopback, parse_address
from mcpkg.host.runner import serve_command


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("8080", Address("127.0.0.1", 8080)),
        ("127.0.0.1:8080", Address("127.0.0.1", 8080)),
        ("localhost:9000", Address("127.0.0.1", 9000)),
        ("[::1]:8080", Address("::1", 8080)),
        ("0.0.0.0:80", Address("0.0.0.0", 80)),
        ("0", Address("127.0.0.1", 0)),
    ],
)
def test_the_address(text: str, address: Address) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["", "http", "127.0.0.1:", ":8080", "::1:8080", "127.0.0.1:65536", "1.2.3.4:-1"])
def test_not_an_address(text: str) -> None:
    with pytest.raises(UsageError, match=r"is not \[HOST:\]PORT"):
        parse_address(text)


def test_loopback() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com"))
    assert Address("::1", 8080).netloc == "[::1]:8080" and Address("127.0.0.1", 80).netloc == "127.0.0.1:80"


def test_only_a_run_serving_http_loads_the_http_server() -> None:
    probe = (
        "import sys\nimport mcpkg.ops.run\n"
        "print(sorted(m for m in sys.modules if m in ('http.server', 'mcpkg.host.http_host', 'mcpkg.ops.run_http')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_a_composed_http_server_is_served_at_the_address_given() -> None:
    """`run http-server.wasm --http ADDR` prints its `wasmtime serve` command with that address."""
    command = serve_command(Path("s.wasm"), ["keyvalue"], parse_address("[::1]:9000").netloc)
    assert command == "wasmtime serve -O pooling-allocator=n -Scommon -S keyvalue --addr [::1]:9000 s.wasm"
