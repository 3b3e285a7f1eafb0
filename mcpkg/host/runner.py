"""`mcpkg run`: a composed stdio server under wasmtime (WASI preview 2), compiled once.

The full compile happens on a server's first run (or at `compose --precompile`); reading
its types never compiles it (`introspect.py`).

Compile once: the native code wasmtime produces is kept under `<cache>/compiled/`, keyed
by the server's sha256, wasmtime's version, the compiler and whether epoch interruption
is compiled in (a hosted wasi:mcp backend with a `--timeout`: its code checks the epoch,
so it is another artifact than `compose --precompile` of a composed server). That artifact is
native code in a user-writable directory, so its own sha256 is recorded beside it when it
is written and checked before every load: an artifact that does not match is compiled
afresh, never loaded.

Compilers (`--compiler`): `cranelift` (the default: optimising; the fastest requests) or
`winch` (wasmtime's baseline compiler: a first run several times sooner, slower code;
see docs/compose.md for the measured trade-off). wasmtime-py's `Config.strategy` knows
only "auto" and "cranelift", so Winch is chosen through its C API binding, with
wasmtime's own value for it (`WASMTIME_STRATEGY_WINCH` = 2).

Host interfaces: wasmtime-py's linker provides WASI preview 2 (`wasi:cli`, `clocks`,
`filesystem`, `io`, `random`, `sockets`) and, granted, outgoing HTTP (`wasi:http/types`,
`wasi:http/outgoing-handler`). A server that imports anything else (wasmcp's real
`kv-store` imports `wasi:keyvalue/*@0.2.0-draft`) is refused before it is compiled, naming
those imports, with the equivalent wasmtime CLI command (`wasmtime run -S keyvalue ...` or
`wasmtime serve -O pooling-allocator=n -Scommon -S keyvalue ...`), which can provide them;
so is a server calling out over HTTP without `--allow-http`.

Sandbox: stdin, stdout and stderr are attached; no environment variable, directory or
network is granted beyond `--env K=V`, `--dir HOST::GUEST` and `--allow-http` (outgoing
HTTP through `wasi:http`, linked with wasmtime-py's `add_wasi_http`; grants.py says what
the grant covers). wasmtime's WASI denies sockets unless asked; wasmtime-py cannot grant
them, so `--allow-network` says so, with the wasmtime CLI command that can.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, get_args

from mcpkg.cache import Cache, hash_file
from mcpkg.errors import InvalidArtifactError, McpkgError, UsageError
from mcpkg.host.grants import (
    ALLOW_HTTP,
    ALLOW_NETWORK,
    Grants,
    calls_out_over_http,
    http_imports,
    is_provided_http,
    socket_imports,
)
from mcpkg.progress import step
from mcpkg.reference import Digest
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel, is_wasi

Compiler = Literal["cranelift", "winch"]
COMPILERS: tuple[str, ...] = get_args(Compiler)
DEFAULT_COMPILER: Compiler = "cranelift"
_WASMTIME_STRATEGY = {"cranelift": 1, "winch": 2}  # wasmtime.h's wasmtime_strategy_enum


@dataclass(frozen=True)
class Prepared:
    artifact: Path
    compiled: bool  # False when the cached artifact was loaded


def parse_compiler(text: str) -> Compiler:
    """`--compiler TEXT` checked."""
    for name in COMPILERS:
        if text == name:
            return name  # type: ignore[return-value]  # one of the Literal's values
    raise UsageError(f"unknown compiler {text!r}", f"use one of: {', '.join(COMPILERS)}")


def new_engine(compiler: Compiler = DEFAULT_COMPILER, epochs: bool = False) -> Any:
    """A wasmtime engine compiling with `compiler` (cranelift or winch); `epochs`: with
    epoch interruption (both compilers honour it)."""
    import wasmtime

    config = wasmtime.Config()
    config.epoch_interruption = epochs
    if compiler != DEFAULT_COMPILER:
        from wasmtime import _bindings

        _bindings.wasmtime_config_strategy_set(config.ptr(), _WASMTIME_STRATEGY[compiler])
    try:
        return wasmtime.Engine(config)
    except wasmtime.WasmtimeError as exc:  # a wasmtime build without that compiler
        raise UsageError(
            f"this wasmtime cannot compile with {compiler}: {str(exc).strip().splitlines()[0]}",
            f"use --compiler {DEFAULT_COMPILER}",
        ) from exc


def _wasmtime_version() -> str:
    """wasmtime-py's version (the module itself has no `__version__`)."""
    try:
        return version("wasmtime")
    except PackageNotFoundError:
        return "unknown"


def _key(digest: str, compiler: Compiler, epochs: bool = False) -> str:
    config = f"{compiler}-speed" + ("-epochs" if epochs else "")
    return hashlib.sha256(f"{digest}\0{_wasmtime_version()}\0{config}".encode()).hexdigest()


def _paths(cache: Cache, digest: str, compiler: Compiler, epochs: bool = False) -> tuple[Path, Path]:
    compiled, key = cache.area("compiled"), _key(digest, compiler, epochs)
    return compiled.path(f"{key}.cwasm"), compiled.path(f"{key}.sha256")


def compile_and_store(
    cache: Cache,
    engine: Any,
    data: bytes | str,
    digest: str,
    what: str,
    compiler: Compiler = DEFAULT_COMPILER,
    epochs: bool = False,
) -> tuple[Any, Path]:
    """Compile a component (bytes or a file path) with `engine` (made by
    `new_engine(compiler, epochs)`) and keep the artifact with its checksum."""

    import wasmtime
    import wasmtime.component as wc

    try:
        component = wc.Component.from_file(engine, data) if isinstance(data, str) else wc.Component(engine, data)
    except wasmtime.WasmtimeError as exc:
        raise InvalidArtifactError(f"{what} is not a valid component: {str(exc).strip().splitlines()[0]}") from exc
    compiled = bytes(component.serialize())
    artifact, checksum = _paths(cache, digest, compiler, epochs)
    # artifact and checksum are two files: one writer at a time keeps them a pair (a
    # process killed between the two leaves a mismatch, which means "compile again")
    area = cache.area("compiled")
    with area.lock(artifact.stem):
        area.write(artifact.name, compiled, 0o600)
        area.write(checksum.name, ("sha256:" + hashlib.sha256(compiled).hexdigest() + "\n").encode(), 0o600)
    return component, artifact


def has_artifact(cache: Cache, digest: str, compiler: Compiler = DEFAULT_COMPILER, epochs: bool = False) -> bool:
    """Whether a compiled artifact is kept for this server (not checked: see below)."""
    return _paths(cache, digest, compiler, epochs)[0].is_file()


def cached_artifact_ok(cache: Cache, digest: str, compiler: Compiler = DEFAULT_COMPILER, epochs: bool = False) -> bool:
    artifact, checksum = _paths(cache, digest, compiler, epochs)
    if not (artifact.is_file() and checksum.is_file()):
        return False
    return str(hash_file(artifact)[0]) == checksum.read_text().strip()


def load_component(
    cache: Cache,
    server: Path,
    digest: str,
    on_compile: Callable[[], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
    epochs: bool = False,
) -> tuple[Any, Any, Prepared]:
    """(engine, component, prepared): from the verified cached artifact, else compiled
    (`on_compile` called first); `epochs`: with epoch interruption."""

    import wasmtime
    import wasmtime.component as wc

    engine = new_engine(compiler, epochs)
    artifact, _ = _paths(cache, digest, compiler, epochs)
    if cached_artifact_ok(cache, digest, compiler, epochs):
        try:
            return engine, wc.Component.deserialize_file(engine, str(artifact)), Prepared(artifact, False)
        except wasmtime.WasmtimeError:
            pass  # from another wasmtime build: compile afresh
    if on_compile is not None:
        on_compile()
    with step(f"compiling {server.name} with {compiler}"):
        component, artifact = compile_and_store(cache, engine, str(server), digest, str(server), compiler, epochs)
    return engine, component, Prepared(artifact, True)


def parse_grants(dirs: list[str], env: list[str], allow_http: bool = False) -> Grants:
    """`--dir`, `--env` and `--allow-http` checked (each bad value a usage error)."""
    return Grants(tuple(parse_dirs(dirs)), tuple(parse_env(env)), allow_http)


def parse_dirs(values: list[str]) -> list[tuple[str, str]]:
    dirs = []
    for value in values:
        host, sep, guest = value.partition("::")
        if not sep or not host or not guest:
            raise UsageError(f"--dir {value!r} is not HOST::GUEST", "e.g. --dir ./data::/data")
        if not Path(host).is_dir():
            raise UsageError(f"--dir {value!r}: {host} is not a directory")
        dirs.append((str(Path(host).resolve()), guest))
    return dirs


def parse_env(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {value!r} is not K=V", "e.g. --env LOG_LEVEL=debug")
        pairs.append((key, val))
    return pairs


# the WASI packages wasmtime-py's `Linker.add_wasip2` provides
WASI_P2 = frozenset({"wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:io", "wasi:random", "wasi:sockets"})
# other WASI packages -> the wasmtime CLI `-S` option that provides them
CLI_OPTIONS = {
    "wasi:keyvalue": "keyvalue",
    "wasi:http": "http",
    "wasi:config": "config",
    "wasi:nn": "nn",
    "wasi:tls": "tls",
}


def _package(name: str) -> str:
    """`wasi:keyvalue/store@0.2.0-draft` -> `wasi:keyvalue`."""
    return name.split("/", 1)[0].split("@", 1)[0]


def unprovided_imports(model: ComponentModel, hosted: frozenset[str] = frozenset()) -> list[str]:
    """The server's imports mcpkg's wasmtime cannot provide: WASI interfaces beyond preview
    2 and outgoing HTTP (`wasi:keyvalue/store@0.2.0-draft`...) and any other import with
    functions or resources (a part left out of the composition), except those of the
    `hosted` packages (wasi:mcp, for a backend mcpkg hosts). Type-only interfaces need no
    provider. Outgoing HTTP is provided, but only when granted (`refuse_ungranted`)."""
    missing = []
    for name, item in model.imports.items():
        if _package(name) in hosted or is_provided_http(name):
            continue
        if is_wasi(name):
            if _package(name) not in WASI_P2:
                missing.append(name)
        elif item.get("kind") != "instance" or item.get("functions") or item.get("resources"):
            missing.append(name)
    return sorted(missing)


def cli_options(imports: list[str], serve: bool = False) -> list[str]:
    """The wasmtime CLI `-S` options providing `imports` (`wasmtime serve` always provides
    wasi:http)."""
    found = {CLI_OPTIONS[_package(name)] for name in imports if _package(name) in CLI_OPTIONS}
    if serve:
        found.discard("http")
    return sorted(found)


def serve_command(server: Path, options: list[str] | None = None, addr: str = "127.0.0.1:8080") -> str:
    """The `wasmtime serve` command of an HTTP server. `-O pooling-allocator=n`: `serve`'s
    pooling allocator caps an instance's runtime data at 1 MiB, which a server of several
    CPython components exceeds (wasmtime refuses to load it); on-demand allocation serves
    every server."""
    extra = "".join(f" -S {option}" for option in options or [])
    return f"wasmtime serve -O pooling-allocator=n -Scommon{extra} --addr {addr} {server}"


def serve_command_for(model: ComponentModel, server: Path, addr: str = "127.0.0.1:8080") -> str:
    """The `wasmtime serve` command of the HTTP server `model`, with the `-S` options of
    what it imports beyond what `serve` provides."""
    return serve_command(server, cli_options(unprovided_imports(model), serve=True), addr)


def run_command(server: Path, options: list[str]) -> str:
    extra = "".join(f" -S {option}" for option in options)
    return f"wasmtime run{extra} {server}"


def cli_run_command(model: ComponentModel, server: Path, *extra: str) -> str:
    """The `wasmtime run` command that provides everything the stdio server imports (with
    the `extra` options, e.g. inherit-network)."""
    options = cli_options([*unprovided_imports(model), *http_imports(model.imports)])
    return run_command(server, [*extra, *options])


def refuse_unprovided(model: ComponentModel, server: Path) -> None:
    """Refuse a stdio server importing what mcpkg's wasmtime does not provide, naming the
    imports and the wasmtime CLI command that can run it."""
    missing = unprovided_imports(model)
    if not missing:
        return
    options = cli_options(missing)
    command = cli_run_command(model, server)
    if len(options) < len({_package(n) for n in missing}):
        hint = f"the wasmtime CLI provides some of them: {command} (the rest must be composed in)"
    else:
        hint = f"run it with the wasmtime CLI instead: {command}"
    raise McpkgError(
        f"cannot run {server}: it imports {', '.join(missing)}, which mcpkg's wasmtime (WASI preview 2 only)"
        " does not provide",
        hint,
        {"unprovided": missing, "command": command},
    )


def refuse_ungranted(model: ComponentModel, server: Path, allow_http: bool, cli_command: str | None = None) -> None:
    """Refuse a server that calls out over HTTP when `--allow-http` was not given, naming
    its HTTP imports, the flag and what it grants (and `cli_command`, the wasmtime CLI's
    equivalent, for a composed server)."""
    if allow_http or not calls_out_over_http(model.imports):
        return
    imports = http_imports(model.imports)
    hint = (
        f"grant it: mcpkg run {ALLOW_HTTP} {server} (requests to any host this machine reaches: "
        'docs/wasi-mcp.md, "Outgoing HTTP")'
    )
    if cli_command is not None:
        hint += f"; or with the wasmtime CLI: {cli_command}"
    raise McpkgError(
        f"{server} calls out over HTTP (it imports {', '.join(imports)}): mcpkg grants that only with {ALLOW_HTTP}",
        hint,
        {"ungranted": imports, "grant": ALLOW_HTTP},
    )


def refuse_network(model: ComponentModel, server: Path, cli_command: str | None = None) -> None:
    """`--allow-network`: sockets cannot be granted by wasmtime-py (its `WasiConfig` has no
    socket grants). Say so, and say what can: `--allow-http` for a server that calls out
    over HTTP, the wasmtime CLI (`cli_command`, given for a composed server) for one that
    opens sockets; a server importing no sockets is told the flag grants it nothing."""
    http = calls_out_over_http(model.imports)
    by_http = f"it calls out over HTTP, which {ALLOW_HTTP} grants: mcpkg run {ALLOW_HTTP} {server}"
    if not socket_imports(model.imports):
        raise UsageError(
            f"{ALLOW_NETWORK}: {server} imports no wasi:sockets interface, so it grants nothing",
            by_http if http else f"drop {ALLOW_NETWORK}",
        )
    hints = [by_http] if http else []
    if cli_command is not None:
        hints.append(f"for its sockets, run it with the wasmtime CLI instead: {cli_command}")
    else:
        hints.append("a wasi:mcp backend's sockets stay closed under mcpkg (docs/wasi-mcp.md)")
    raise UsageError(
        f"{ALLOW_NETWORK} cannot be granted by the wasmtime Python embedding mcpkg uses"
        " (its WASI has no socket grants)",
        "; ".join(hints),
    )


def link_wasi(linker: Any, model: ComponentModel) -> bool:
    """WASI preview 2 into `linker`, and wasi:http when the server imports it (the caller
    has refused an ungranted outgoing handler); returns whether wasi:http was linked."""
    linker.add_wasip2()
    if not http_imports(model.imports):
        return False
    linker.add_wasi_http()
    return True


def inspect_server(cache: Cache, server: Path) -> tuple[ComponentModel, Digest]:
    digest, _ = hash_file(server)
    return component_model(server, digest, cache, str(server)), digest


def is_http(model: ComponentModel) -> bool:
    return any(name.startswith("wasi:http/incoming-handler@") for name in model.exports)


def run_export(model: ComponentModel, server: Path) -> str:
    names = [name for name in model.exports if name.startswith("wasi:cli/run@")]
    if not names:
        raise UsageError(
            f"{server} exports neither wasi:cli/run nor wasi:http/incoming-handler",
            "mcpkg run takes a composed server (`mcpkg compose`)",
        )
    return names[0]


def sandbox_wasi(name: str, grants: Grants) -> Any:
    """The WASI a guest gets: its argv[0], stderr attached, and only the `--env` and `--dir`
    grants asked for (the caller attaches stdin and stdout as its protocol needs, and
    wasi:http: `link_wasi`)."""
    import wasmtime

    wasi = wasmtime.WasiConfig()
    wasi.inherit_stderr()
    wasi.argv = [name]
    if grants.env:
        wasi.env = list(grants.env)
    for host, guest in grants.dirs:
        wasi.preopen_dir(host, guest)
    return wasi


def exported_func(component: Any, instance: Any, store: Any, interface: str, name: str, what: Path) -> Any:
    """The function `name` of the exported instance `interface`, else an error naming both."""
    index = component.get_export_index(interface)
    func_index = component.get_export_index(name, index) if index is not None else None
    func = instance.get_func(store, func_index) if func_index is not None else None
    if func is None:
        raise McpkgError(f"{what} does not export {name} in {interface}")
    return func


def run_server(
    cache: Cache,
    server: Path,
    model: ComponentModel,
    digest: Digest,
    grants: Grants,
    on_compile: Callable[[], None] | None = None,
    compiler: Compiler = DEFAULT_COMPILER,
) -> tuple[int, Prepared]:
    """Run the stdio server to completion; returns (exit code, how it was prepared).
    Before anything is compiled, imports mcpkg does not provide and an ungranted outgoing
    handler are refused, each with the wasmtime CLI command that runs the server."""
    refuse_unprovided(model, server)
    refuse_ungranted(model, server, grants.http, cli_run_command(model, server))
    import wasmtime
    import wasmtime.component as wc

    run_name = run_export(model, server)
    engine, component, prepared = load_component(cache, server, str(digest), on_compile, compiler)
    linker = wc.Linker(engine)
    http = link_wasi(linker, model)
    store = wasmtime.Store(engine)
    wasi = sandbox_wasi(server.name, grants)
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    store.set_wasi(wasi)
    if http:
        store.set_wasi_http()
    try:
        instance = linker.instantiate(store, component)
    except wasmtime.WasmtimeError as exc:
        raise McpkgError(
            f"cannot start {server}: {str(exc).strip().splitlines()[0]}",
            "the server imports something mcpkg's wasmtime does not provide",
        ) from exc
    func = exported_func(component, instance, store, run_name, "run", server)
    try:
        result = func(store)
    except wasmtime.ExitTrap as exit_trap:
        return exit_trap.code, prepared
    except wasmtime.Trap as trap:
        raise McpkgError(f"{server} trapped: {str(trap).strip().splitlines()[0]}") from trap
    ok = result is None or getattr(result, "tag", None) == "ok"
    return (0 if ok else 1), prepared
