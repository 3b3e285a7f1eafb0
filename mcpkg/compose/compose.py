"""`mcpkg compose`: the locked server as one component.

1. The lock: without `--locked`, a missing or stale lock is first (re)written as
   `mcpkg lock` would; with `--locked`, it is an error. `--offline` uses only the cache.
2. Each locked component fetched by digest (cache first, digests verified) and the trust
   policy applied again; a local `path` component must still hash to its locked digest.
3. Types (cached by digest) and the chain check give the wiring; `encoder.py` builds the
   component; wasmtime validates it (a full compile, whose artifact `mcpkg run` reuses:
   a server is compiled once); then it is written atomically.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.cache import hash_file
from mcpkg.compose.encoder import Part, encode_composition
from mcpkg.context import Context
from mcpkg.errors import ConfigError, IncompatibleError, IntegrityError, InvalidArtifactError
from mcpkg.project.lock import check_lock, load_project, lock_project, read_lock
from mcpkg.reference import Digest, Reference
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.inspect import component_model


@dataclass(frozen=True)
class ComposeResult:
    output: Path
    digest: str
    size: int
    imports: list[str]
    exports: list[str]
    relocked: bool
    validated: bool  # False when this exact output had been validated before

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "digest": self.digest,
            "size": self.size,
            "imports": self.imports,
            "exports": self.exports,
            "relocked": self.relocked,
        }


def write_validated(ctx: Context, chunks: list[bytes], output: Path) -> tuple[str, int, bool]:
    """Write the chunks to a temp file beside `output` (hashing as they go), fsync and
    validate that file with wasmtime, then rename it into place: `output` is the previous
    file or the complete new one, never part of one. Nothing is left behind on failure;
    a process killed outright (SIGKILL, power loss) can leave its `.NAME.<pid>.*.tmp` temp
    file beside `output` (never at `output` itself), which the next write removes."""
    import contextlib
    import os

    from mcpkg.outfile import remove_dead_temps, temp_path_for

    remove_dead_temps(output)
    tmp = temp_path_for(output)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        hasher = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        digest = "sha256:" + hasher.hexdigest()
        validated = validate_with_wasmtime(ctx, Path(tmp), digest)
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return digest, size, validated


def validate_with_wasmtime(ctx: Context, data: Path, digest: str) -> bool:
    """Compile `data` with wasmtime (the only way it validates a component). The compiled
    artifact is kept for `mcpkg run`, so a server is compiled once: composing the same lock
    again, or running it, does not compile. Returns whether a compile happened.

    A component mcpkg composed that does not validate is mcpkg's bug: the error names what
    wasmtime complained about (the item and its offset); `--verbose` prints wasmtime's whole
    message and, when `wasm-tools` is on PATH, what `wasm-tools validate` says of the file."""
    from mcpkg.wasm.runner import cached_artifact_ok, compile_and_store, new_engine

    if cached_artifact_ok(ctx.cache, digest):
        return False
    try:
        compile_and_store(ctx.cache, new_engine(), str(data), digest, "the composed component")
    except InvalidArtifactError as exc:
        raise _composer_bug(exc, data) from exc
    return True


def _composer_bug(exc: InvalidArtifactError, data: Path) -> InvalidArtifactError:
    import shutil
    import subprocess

    from mcpkg.ui import detail

    complaint = str(exc.__cause__ or exc.message).strip()
    # wasmtime says "failed to parse WebAssembly module", then "Caused by:" and the real
    # reason with its offset ("instance 0 has no export named `x` (at offset 0x97)")
    reasons = [line.strip() for line in complaint.split("Caused by:", 1)[-1].splitlines() if line.strip()]
    reason = reasons[-1] if reasons and "Caused by:" in complaint else complaint.splitlines()[0]
    details = {"wasmtime": complaint}
    detail(f"wasmtime's complaint about {data}:\n{complaint}")
    tool = shutil.which("wasm-tools")
    if tool is not None:
        checked = subprocess.run([tool, "validate", str(data)], capture_output=True, text=True)
        details["wasm-tools validate"] = (checked.stdout + checked.stderr).strip() or "valid"
        detail(f"`wasm-tools validate` says: {details['wasm-tools validate']}")
    return InvalidArtifactError(
        f"the composed component does not validate: {reason}",
        "this is a bug in mcpkg's composer: please report it with your mcpkg.lock and the output of "
        "`mcpkg --verbose compose`",
        details,
    )


def compose_project(
    ctx: Context, root: Path, output: Path, *, locked: bool = False, offline: bool = False
) -> ComposeResult:
    from mcpkg.pull import pull_reference

    project = load_project(root)
    reasons = check_lock(project)
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
            pulled = pull_reference(ctx, ref, with_signature=not offline, project_scopes=project.manifest.trust)
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
    services = sorted(e.name for e in lock.entries if e.position == "service")
    report = check_chain(
        (lock.transport, parts[lock.transport].model),
        [(n, parts[n].model) for n in lock.chain],
        (lock.terminal, parts[lock.terminal].model),
        [(n, parts[n].model) for n in services],
    )
    if not report.ok:
        problems = [str(p) for p in report.problems]
        raise IncompatibleError(
            "the locked components do not compose:\n  " + "\n  ".join(problems),
            "fix mcpkg.toml and run `mcpkg lock`",
            {"problems": problems},
        )
    chunks = encode_composition(lock.transport, list(lock.chain), lock.terminal, services, parts, report.wiring.links)
    output.parent.mkdir(parents=True, exist_ok=True)
    digest, size, validated = write_validated(ctx, chunks, output)
    imports = sorted({name for name in report.wiring.host_imports} | set(report.wiring.type_only))
    exports = sorted(parts[lock.transport].model.exports)
    return ComposeResult(output, digest, size, imports, exports, relocked, validated)
