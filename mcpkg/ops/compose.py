"""`mcpkg compose`: the locked server as one component.

1. The lock: without `--locked`, a missing or stale lock is first (re)written as
   `mcpkg lock` would; with `--locked`, it is an error. `--offline` uses only the cache.
2. Each locked component fetched by digest (cache first, digests verified) and the trust
   policy applied again; a local `path` component must still hash to its locked digest.
3. Types (cached by digest) and the chain check give the wiring; `encoder.py` builds the
   component; wasmtime validates it without a full compile (every core module validated,
   the structure and types checked on the reduced copy, `wasm/introspect.py`) and its
   type model is cached under its digest, so `run`, `inspect` and `check` of the output
   never compile to read types; then it is written atomically. The full compile happens
   once: on the first `mcpkg run`, or here with `--precompile`; `run` reuses its artifact.

A server that is one wasi:mcp backend (`[server] backend = "NAME"`) is not composed: its
output is the backend itself, checked against the wasi:mcp contract (docs/wasi-mcp.md).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from mcpkg.cache import hash_file
from mcpkg.compose.encoder import Part, compose
from mcpkg.compose.sharing import Sharing
from mcpkg.errors import ConfigError, IncompatibleError, IntegrityError, InvalidArtifactError
from mcpkg.host.grants import grants_needed
from mcpkg.host.runner import DEFAULT_COMPILER, Compiler, cached_artifact_ok, compile_and_store, new_engine
from mcpkg.ops.context import Context
from mcpkg.ops.lock import lock_project
from mcpkg.ops.lockpolicy import lock_trust_problems
from mcpkg.ops.pull import pull_reference
from mcpkg.ops.trust import recheck_entry
from mcpkg.outfile import (
    Destination,
    Kind,
    PendingFile,
    copy_file_contents,
    open_output,
    resolve_artifact_output,
)
from mcpkg.progress import step
from mcpkg.project.state import check_lock, load_project, read_lock
from mcpkg.reference import Digest, Reference
from mcpkg.wasm.backend import backend_problems
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.introspect import cached_model, component_model, record_model, validated_model
from mcpkg.wasm.model import semver_key, version_of


@dataclass(frozen=True)
class ComposeResult:
    output: str  # the path as given, or `stdout`
    digest: str
    size: int
    imports: list[str]  # what the host must provide (WASI...)
    exports: list[str]
    relocked: bool
    validated: bool  # False when this exact output had been validated before
    compiled: bool = False  # True when --precompile compiled it now
    sharing: Sharing | None = None  # the core modules defined once and aliased (None: a backend)
    # interfaces of types alone the server still imports: nothing provides them, the types
    # travel with the functions (`tree` leaves them out too)
    type_imports: list[str] = field(default_factory=list)

    @property
    def needs(self) -> list[str]:
        """The grants `mcpkg run` needs to run it (`--allow-http`: host/grants.py)."""
        serves_http = any(name.startswith("wasi:http/incoming-handler@") for name in self.exports)
        return grants_needed(self.imports, serves_http)

    def to_json(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "digest": self.digest,
            "size": self.size,
            "imports": self.imports,
            "type-imports": self.type_imports,
            "exports": self.exports,
            "needs": self.needs,
            "relocked": self.relocked,
            "shared-modules": self.sharing.to_json() if self.sharing is not None else None,
        }

    def sharing_line(self) -> str | None:
        """ "shared 11 core modules across 7 components: 40.4 MiB less", or None."""
        if self.sharing is None or not self.sharing.shared:
            return None
        sharing = self.sharing
        return (
            f"shared {len(sharing.shared)} core modules across {sharing.sharing_components} components: "
            f"{sharing.saved / (1024 * 1024):.1f} MiB less"
        )


def write_validated(
    ctx: Context,
    chunks: list[bytes],
    dest: Destination,
    *,
    precompile: Compiler | None = None,
    on_compile: Callable[[], None] | None = None,
    epochs: bool = False,
) -> tuple[str, int, bool, bool]:
    """Write the chunks to a temp file (hashing as they go), validate that file with
    wasmtime, then publish it. For a file: the temp file sits beside it, is fsynced and
    renamed into place, so the path holds the previous file or the complete new one,
    never part of one. For stdout, a device or a FIFO: the temp file is in the cache's
    `tmp/`, and its bytes go out only once it validated. Nothing is left behind on
    failure; a process killed outright can leave its `.NAME.<pid>.*.tmp` temp file
    (never at the path itself), which the next write removes. `epochs`: precompile with
    epoch interruption (a wasi:mcp backend, which `run` keeps to its `--timeout`)."""
    if dest.kind is Kind.FILE:
        pending = PendingFile(dest.path, 0o644)
        try:
            result = _write_and_validate(ctx, chunks, pending.file, pending.tmp, precompile, on_compile, epochs)
        except BaseException:
            pending.discard()
            raise
        pending.commit()
        return result
    ctx.cache.ensure()
    with tempfile.NamedTemporaryFile(dir=ctx.cache.tmp, prefix="compose.", suffix=".wasm") as handle:
        out = cast(BinaryIO, handle)
        result = _write_and_validate(ctx, chunks, out, Path(handle.name), precompile, on_compile, epochs)
        with open_output(dest) as stream:
            copy_file_contents(out, stream, result[1])
    return result


def _write_and_validate(
    ctx: Context,
    chunks: list[bytes],
    out: BinaryIO,
    temp: Path,
    precompile: Compiler | None,
    on_compile: Callable[[], None] | None,
    epochs: bool = False,
) -> tuple[str, int, bool, bool]:
    hasher = hashlib.sha256()
    size = 0
    for chunk in chunks:
        hasher.update(chunk)
        out.write(chunk)
        size += len(chunk)
    out.flush()
    digest = "sha256:" + hasher.hexdigest()
    validated = validate_with_wasmtime(ctx, temp, digest)
    compiled = precompile is not None and precompile_server(ctx, temp, digest, precompile, on_compile, epochs)
    return digest, size, validated, compiled


def precompile_server(
    ctx: Context,
    data: Path,
    digest: str,
    compiler: Compiler = DEFAULT_COMPILER,
    on_compile: Callable[[], None] | None = None,
    epochs: bool = False,
) -> bool:
    """The full compile `mcpkg run` would do first, ahead of time (`--precompile`); its
    artifact is cached for `run` (`epochs`: with epoch interruption, as `run` hosts a
    wasi:mcp backend with a timeout). Returns whether a compile happened (`on_compile` is
    called just before one)."""
    if cached_artifact_ok(ctx.cache, digest, compiler, epochs):
        return False
    if on_compile is not None:
        on_compile()
    with step(f"compiling the server with {compiler}"):
        engine = new_engine(compiler, epochs)
        compile_and_store(ctx.cache, engine, str(data), digest, "the composed component", compiler, epochs)
    return True


def validate_with_wasmtime(ctx: Context, data: Path, digest: str) -> bool:
    """Validate `data` with wasmtime without a full compile (every core module validated;
    structure and types through the reduced copy) and cache its type model under its
    digest, so `run`, `inspect` and `check` of it read types without compiling. Returns
    whether a validation happened (False when this exact output was validated before)."""

    key = Digest.parse(digest)
    if cached_model(ctx.cache, key) is not None:
        return False
    try:
        with step("validating the composed server with wasmtime"):
            model = validated_model(data.read_bytes(), "the composed component")
    except InvalidArtifactError as exc:
        complaint = str(exc.__cause__ or exc.message).strip()
        message = f"the composed component does not validate: {innermost_cause(complaint)}"
        second = second_opinion(data)
        if second:
            message += f"\n  wasm-tools validate: {second}"
        raise InvalidArtifactError(
            message,
            "this is a bug in mcpkg's composer: please report it with your mcpkg.lock and this message "
            "(`--verbose` shows wasmtime's whole complaint)",
            {"wasmtime": complaint, "wasm-tools validate": second},
        ) from exc
    record_model(ctx.cache, key, model)
    return True


def innermost_cause(complaint: str) -> str:
    """What wasmtime's complaint is about: it says "failed to parse WebAssembly module",
    then "Caused by:" and the reason with its item and offset ("instance 0 has no export
    named `x` (at offset 0x1e)"); the last reason, else the first line."""
    lines = [line.strip() for line in complaint.splitlines() if line.strip()]
    if "Caused by:" in lines:
        return lines[-1]
    return lines[0] if lines else "invalid"


def second_opinion(data: Path) -> str | None:
    """`wasm-tools validate`'s verdict on an output wasmtime refused (it names the item and
    the offset, where wasmtime often says only "failed to parse"); None when the tool is
    not on PATH (it is not a dependency of mcpkg)."""
    tool = shutil.which("wasm-tools")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, "validate", str(data)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return lines[0] if done.returncode != 0 and lines else None


def compose_project(
    ctx: Context,
    root: Path,
    output: Path,
    *,
    locked: bool = False,
    offline: bool = False,
    precompile: Compiler | None = None,
    on_compile: Callable[[str], None] | None = None,
) -> ComposeResult:
    """`on_compile(name)` is called before a `--precompile` compile (none when this
    server's compiled code is cached already)."""

    dest = resolve_artifact_output(output, "server.wasm", "server")  # a bad -o fails before any work
    project = load_project(root)
    if offline:
        ctx.offline = True  # the cache stands in for every registry (ops/offline.py)
    trust_problems = lock_trust_problems(ctx.config, project.manifest.trust, ctx.cache)
    reasons = check_lock(project, lambda path: ctx.cache.file_digest(path)[0], trust_problems)
    relocked = False
    if reasons:
        if locked:
            raise ConfigError(
                "--locked, but the lock is not fresh: " + "; ".join(reasons),
                "run `mcpkg lock` (or compose without --locked)",
            )
        lock_project(ctx, root, offline=offline)
        relocked = True
    existing = read_lock(project)
    assert existing is not None
    lock = existing[1]
    parts: dict[str, Part] = {}
    for entry in lock.entries:
        layer = Digest.parse(entry.layer_digest)
        if entry.source == "path":
            path = root / (entry.path or "")
            if not path.is_file() or hash_file(path)[0] != layer:
                raise IntegrityError(f"{entry.name}: {entry.path} no longer matches the lock", "run `mcpkg lock`")
            layer_path = path
        else:
            ref = (
                Reference.parse(str(entry.reference))
                .with_tag(entry.version)
                .with_digest(Digest.parse(str(entry.digest)))
            )
            if offline and not ctx.cache.has_blob(layer):
                raise ConfigError(f"--offline, but {entry.name} ({ref}) is not in the cache", "compose once online")
            pulled = pull_reference(ctx, ref, with_signature=False, project_scopes=project.manifest.trust)
            recheck_entry(ctx, entry, project.manifest.trust, offline=offline)  # offline, from what the lock recorded
            if pulled.manifest.layer.digest != layer:
                raise IntegrityError(f"{entry.name}: the locked manifest's layer is not the locked layer digest")
            layer_path = pulled.layer_path
        model = component_model(layer_path, layer, ctx.cache, entry.name)
        data = layer_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != layer.hex:
            raise IntegrityError(
                f"{entry.name}: the cached component does not match {layer}", "run `mcpkg cache verify`"
            )
        parts[entry.name] = Part(entry.name, data, model)
    if lock.backend is not None:
        return _compose_backend(ctx, parts[lock.backend], dest, relocked, precompile)
    services = lock.services
    report = check_chain(
        (lock.transport, parts[lock.transport].model),
        [(n, parts[n].model) for n in lock.chain],
        (lock.terminal, parts[lock.terminal].model),
        [(n, parts[n].model) for n in services],
        lock.wires,
    )
    if not report.ok:
        problems = [str(p) for p in report.problems]
        raise IncompatibleError(
            "the locked components do not compose:\n  " + "\n  ".join(problems),
            "fix mcpkg.toml and run `mcpkg lock`",
            {"problems": problems},
        )
    composition = compose(lock.transport, list(lock.chain), lock.terminal, services, parts, report.wiring.links)
    chunks = composition.chunks
    announce = None if on_compile is None else (lambda: on_compile("the server" if dest.is_stdout else dest.path.name))
    digest, size, validated, compiled = write_validated(ctx, chunks, dest, precompile=precompile, on_compile=announce)
    imports = unified_imports(list(report.wiring.host_imports))
    host_keys = {semver_key(name) for name in imports}
    type_imports = [n for n in unified_imports(list(report.wiring.type_only)) if semver_key(n) not in host_keys]
    exports = sorted(parts[lock.transport].model.exports)
    return ComposeResult(
        str(dest), digest, size, imports, exports, relocked, validated, compiled, composition.sharing, type_imports
    )


def _compose_backend(
    ctx: Context, part: Part, dest: Destination, relocked: bool, precompile: Compiler | None
) -> ComposeResult:
    """A server that is one wasi:mcp backend composes to the backend itself, once it is
    checked against the contract and the entry-point convention (docs/wasi-mcp.md)."""
    problems = backend_problems(part.model, part.name)
    if problems:
        raise IncompatibleError(
            "the locked backend cannot be served:\n  " + "\n  ".join(problems),
            "see docs/wasi-mcp.md; fix the backend and run `mcpkg lock`",
            {"problems": problems},
        )
    # precompiled as `run` hosts it by default: with epoch interruption, for its --timeout
    digest, size, validated, compiled = write_validated(ctx, [part.data], dest, precompile=precompile, epochs=True)
    imports = sorted(part.model.imports)
    exports = sorted(n for n, item in part.model.exports.items() if item["kind"] == "instance")
    return ComposeResult(str(dest), digest, size, imports, exports, relocked, validated, compiled)


def unified_imports(names: list[str]) -> list[str]:
    """The composed server's imports: semver-compatible names (`wasi:io/streams@0.2.3` and
    `@0.2.9`) are one import, under the highest version, as the encoder writes them."""
    highest: dict[str, str] = {}
    for name in names:
        known = highest.get(semver_key(name))
        if known is None or (version_of(name) or (0, 0, 0)) > (version_of(known) or (0, 0, 0)):
            highest[semver_key(name)] = name
    return sorted(highest.values())
