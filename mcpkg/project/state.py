"""A project's files as they are on disk: `mcpkg.toml` read and parsed, `mcpkg.lock` read,
whether the lock is fresh (`mcpkg lock --check`: offline, writes nothing), and the lock
that serialises the project's writers. No network, no wasmtime: `lock --check` imports
only this."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mcpkg.cache import hash_file
from mcpkg.errors import ConfigError
from mcpkg.project.lockfile import Lockfile, parse, render
from mcpkg.project.manifest import LOCK_NAME, MANIFEST_NAME, ServerManifest, parse_server_manifest
from mcpkg.reference import Digest
from mcpkg.tomlfile import decode_toml_text, read_toml_bytes


@dataclass(frozen=True)
class Project:
    root: Path
    manifest_bytes: bytes
    manifest: ServerManifest

    @property
    def manifest_hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.manifest_bytes).hexdigest()

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME


def load_project(root: Path) -> Project:
    path = root / MANIFEST_NAME
    try:
        data = read_toml_bytes(path)
    except FileNotFoundError:
        raise ConfigError(f"no {MANIFEST_NAME} in {root}", "run `mcpkg init` to create one") from None
    return Project(root, data, parse_server_manifest(decode_toml_text(data, path), path))


def read_lock(project: Project) -> tuple[bytes, Lockfile] | None:
    try:
        data = read_toml_bytes(project.lock_path)
    except FileNotFoundError:
        return None
    return data, parse(data, project.lock_path)


def check_lock(
    project: Project,
    digest_of: Callable[[Path], Digest] | None = None,
    trust_problems: Callable[[Lockfile], list[str]] | None = None,
) -> list[str]:
    """Why the lock is not fresh (empty: it is). Offline; writes nothing. `digest_of`
    gives a path component's digest (default: hash the file; the callers pass the
    cache's digest records, `Cache.file_digest`); `trust_problems` says which recorded
    signers the trust policy no longer accepts (`ops.trust.lock_trust_problems`)."""
    digest_of = digest_of or (lambda path: hash_file(path)[0])
    existing = read_lock(project)
    if existing is None:
        return [f"{LOCK_NAME} is missing"]
    data, lock = existing
    reasons = []
    if lock.manifest_hash != project.manifest_hash:
        reasons.append(f"{LOCK_NAME} was made from a different {MANIFEST_NAME}")
    if render(lock) != data:
        reasons.append(f"{LOCK_NAME} is not in the form mcpkg writes (edited by hand, or an older format)")
    if lock.wires != project.manifest.wires:
        reasons.append(f"{LOCK_NAME} records other wires than {MANIFEST_NAME}")
    names = set(project.manifest.components)
    if {e.name for e in lock.entries} != names:
        reasons.append(f"{LOCK_NAME} does not list exactly the components of {MANIFEST_NAME}")
    for spec in project.manifest.components.values():
        entry = lock.entry(spec.name)
        if spec.path is not None and entry is not None:
            path = project.root / spec.path
            if not path.is_file():
                reasons.append(f"{spec.name}: {spec.path} does not exist")
            elif str(digest_of(path)) != entry.layer_digest:
                reasons.append(f"{spec.name}: {spec.path} changed since it was locked")
    if trust_problems is not None:
        reasons.extend(trust_problems(lock))
    return reasons


_local = threading.local()
LEGACY_LOCK_FILE = ".mcpkg.lock.lock"  # what mcpkg 0.1 left in every project


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Serialise writers of one project (`lock`, `add`, `remove`, `compose`'s re-lock):
    an exclusive `flock` on the project directory itself, so nothing is left in the
    user's directory and two processes with different caches still wait for each other.
    Re-entrant within a thread (`add` holds it across its edit and its re-lock)."""
    held: set[str] = _local.__dict__.setdefault("held", set())
    key = os.path.realpath(root)
    if key in held:
        yield
        return
    fd = _open_directory(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(key)
        try:
            with contextlib.suppress(OSError):
                legacy = root / LEGACY_LOCK_FILE
                if legacy.is_file() and legacy.stat().st_size == 0:
                    legacy.unlink()
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _open_directory(root: Path) -> int:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfigError(f"cannot open the project directory {root}: {exc.strerror}") from None
