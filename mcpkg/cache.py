"""The content-addressed cache (docs/config.md, docs/design.md).

Layout under the cache root (platformdirs user cache dir, `MCPKG_CACHE_DIR` overrides):

    blobs/sha256/<hex>    manifests, configs and layers, by digest (read-only files)
    entries/<hex>.json    one per pulled manifest: references, layer, size, last use
    tmp/                  every write in progress (same filesystem, so rename is atomic)
    locks/<hex>.lock      per-digest file locks: concurrent processes download once

A blob appears under `blobs/` only after its size and sha256 were verified: a download
goes to `tmp/`, and is renamed into place by `os.replace` once it checks out. Every other
cache file (entries, `types/`, `compiled/`, `locations/`) is written the same way, through
`Cache.write_file`: a temp file in `tmp/`, then a rename. Nothing partial is ever visible,
and a crash (even SIGKILL) leaves at most a stray file in `tmp/`, which `cache verify`
ignores and `cache prune` removes once it is an hour old (a younger one may belong to a
write still in flight). Cache files are renamed without an fsync: SIGKILL cannot tear
them (the kernel keeps the written pages), and after a power loss a torn file fails its
check on use: a blob its sha256 (whenever a layer is handed out by `copy_out` or compose,
or a small blob is read), a compiled artifact its recorded hash, an entry or type model
its JSON parse. File locks are `flock`s: the kernel releases them when their
process dies, so a killed process never blocks the next one (the lock files themselves
stay, empty, and are reused).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mcpkg.errors import ConfigError, IntegrityError
from mcpkg.outfile import atomic_write_bytes, remove_dead_temps, temp_path_for
from mcpkg.reference import Digest, is_sha256_hex

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CacheEntry:
    manifest: Digest
    config: Digest
    layer: Digest
    size: int
    references: tuple[str, ...]
    last_used: float

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest": str(self.manifest),
            "config": str(self.config),
            "layer": str(self.layer),
            "size": self.size,
            "references": list(self.references),
            "last-used": self.last_used,
        }


def default_cache_root() -> Path:
    override = os.environ.get("MCPKG_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mcpkg"))


def hash_file(path: Path) -> tuple[Digest, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(COPY_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return Digest("sha256", hasher.hexdigest()), size


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.entries_dir = root / "entries"
        self.tmp = root / "tmp"
        self.locks = root / "locks"

    @classmethod
    def default(cls) -> Cache:
        return cls(default_cache_root())

    def _ensure(self) -> None:
        for path in (self.blobs, self.entries_dir, self.tmp, self.locks):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the cache directory {path}: {exc.strerror}",
                    "set MCPKG_CACHE_DIR to a writable directory",
                ) from exc

    def write_file(self, dest: Path, data: bytes, mode: int = 0o644) -> None:
        """Atomically write a file under the cache root; its temp file lives in `tmp/`, so a
        killed writer leaves nothing anywhere else (and nothing `prune` misses). No fsync:
        every cache file is checked when read (see the module docstring); four fsyncs
        cost a pull 170 ms."""
        self._ensure()
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dest, data, mode, tmp_dir=self.tmp, durable=False)

    def blob_path(self, digest: Digest) -> Path:
        return self.blobs / digest.hex

    def has_blob(self, digest: Digest) -> bool:
        return self.blob_path(digest).is_file()

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        from filelock import FileLock

        self._ensure()
        with FileLock(str(self.locks / f"{name}.lock")):
            yield

    def read_blob(self, digest: Digest) -> bytes | None:
        """A small cached blob (manifest, config), verified; None when absent or corrupt
        (a corrupt entry is evicted)."""
        path = self.blob_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != digest.hex:
            self.evict(digest)
            return None
        return data

    def store_bytes(self, digest: Digest, data: bytes) -> Path:
        if hashlib.sha256(data).hexdigest() != digest.hex:
            raise IntegrityError(f"refusing to cache content that does not hash to {digest}")
        self._ensure()
        path = self.blob_path(digest)
        if not path.exists():
            self.write_file(path, data, 0o444)
        return path

    def store_stream(self, digest: Digest, fill: Callable[[IO[bytes]], None]) -> Path:
        """Create the blob `digest` by letting `fill` write (and verify) it into a temp
        file; only if `fill` returns normally is the file renamed into place. Several
        processes asking for the same digest download it once."""
        self._ensure()
        path = self.blob_path(digest)
        with self.lock(digest.hex):
            if path.is_file():
                return path
            fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix=f"{digest.hex[:16]}.")
            try:
                with os.fdopen(fd, "wb") as f:
                    fill(f)  # no fsync: see the module docstring
                os.chmod(tmp, 0o444)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        return path

    def evict(self, digest: Digest) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.blob_path(digest).unlink()

    def copy_out(self, digest: Digest, size: int, dest: Path, *, verify: bool = True) -> None:
        """Put the cached blob at `dest` atomically (temp name beside it, then rename).

        With `verify` (the default) the cached file is re-hashed first; a cache entry that
        no longer matches its digest is evicted and reported. The file is hard-linked when
        the cache and `dest` share a filesystem (as uv links from its cache: no second
        write of a large component; the result is read-only, like the cache entry), and
        copied otherwise."""
        source = self.blob_path(digest)
        if verify:
            actual, actual_size = hash_file(source)
            if actual != digest or actual_size != size:
                self.evict(digest)
                raise IntegrityError(
                    f"the cached copy of {digest} is corrupt; it was removed from the cache",
                    "run the command again to download it afresh",
                )
        remove_dead_temps(dest)
        with contextlib.suppress(OSError):
            if os.path.samefile(source, dest):
                return  # `dest` is already a hard link to this very blob
        tmp = temp_path_for(dest)
        try:
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
                os.chmod(tmp, 0o644)
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.replace(tmp, dest)
        finally:
            # also after success: rename() of two links to one inode does nothing (POSIX)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    # -- where blobs live in registries (for cross-repository mounts) --------------

    def remember_location(self, digest: Digest, location: str) -> None:
        """Record that `digest` exists at `registry/repository` (best effort)."""
        self._ensure()
        path = self.root / "locations" / f"{digest.hex}.json"
        with self.lock(f"loc-{digest.hex}"):
            known = self.locations(digest)
            if location in known:
                return
            self.write_file(path, json.dumps(sorted({*known, location})).encode())

    def locations(self, digest: Digest) -> list[str]:
        try:
            data = json.loads((self.root / "locations" / f"{digest.hex}.json").read_text())
        except (OSError, ValueError):
            return []
        return [str(x) for x in data] if isinstance(data, list) else []

    # -- entries ------------------------------------------------------------------

    def record(self, manifest: Digest, config: Digest, layer: Digest, size: int, reference: str | None) -> None:
        """Remember that `manifest` was used now (and under which reference)."""
        self._ensure()
        path = self.entries_dir / f"{manifest.hex}.json"
        with self.lock(f"entry-{manifest.hex}"):
            references: list[str] = []
            existing = self._load_entry(path)
            if existing:
                references = list(existing.references)
            if reference and reference not in references:
                references.append(reference)
            entry = CacheEntry(manifest, config, layer, size, tuple(sorted(references)), time.time())
            self.write_file(path, json.dumps(entry.to_json(), indent=1).encode())

    @staticmethod
    def _load_entry(path: Path) -> CacheEntry | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return CacheEntry(
                Digest.parse(data["manifest"]),
                Digest.parse(data["config"]),
                Digest.parse(data["layer"]),
                int(data["size"]),
                tuple(str(r) for r in data.get("references", [])),
                float(data["last-used"]),
            )
        except (OSError, ValueError, KeyError, TypeError, Exception):
            return None

    def entries(self) -> list[CacheEntry]:
        if not self.entries_dir.is_dir():
            return []
        found = [self._load_entry(p) for p in sorted(self.entries_dir.glob("*.json"))]
        return [e for e in found if e is not None]

    def verify(self) -> tuple[int, list[Digest]]:
        """Re-hash every blob; evict and return the corrupt ones. Files in `blobs/` whose
        name is not a digest (temp files an older mcpkg left there when killed) are not
        blobs: they are skipped here and removed by `prune`."""
        corrupt: list[Digest] = []
        checked = 0
        if not self.blobs.is_dir():
            return 0, corrupt
        for path in sorted(self.blobs.iterdir()):
            if not is_sha256_hex(path.name):
                continue
            checked += 1
            try:
                digest = Digest("sha256", path.name)
                actual, _ = hash_file(path)
            except OSError:
                continue
            if actual != digest:
                corrupt.append(digest)
                self.evict(digest)
        return checked, corrupt

    def prune(self, older_than_days: float | None, keep: set[Digest] | None = None) -> tuple[int, int]:
        """Remove entries unused for `older_than_days` (unless in `keep`), then every blob
        no entry refers to, and stray temp files. Returns (entries, bytes) removed."""
        keep = keep or set()
        now = time.time()
        removed_entries = 0
        live: set[str] = set()
        for entry in self.entries():
            stale = older_than_days is not None and now - entry.last_used > older_than_days * 86400
            if stale and entry.manifest not in keep:
                with contextlib.suppress(FileNotFoundError):
                    (self.entries_dir / f"{entry.manifest.hex}.json").unlink()
                removed_entries += 1
                continue
            live.update({entry.manifest.hex, entry.config.hex, entry.layer.hex})
        live.update(d.hex for d in keep)
        freed = 0
        if self.blobs.is_dir():
            for path in self.blobs.iterdir():
                # A blob written in the last hour may belong to a pull still in flight.
                if path.name not in live and now - path.stat().st_mtime > 3600:
                    freed += path.stat().st_size
                    path.unlink()
        # temp files of killed writers: in tmp/, or (older mcpkg) beside the file written
        strays = list(self.tmp.iterdir()) if self.tmp.is_dir() else []
        for sub in ("entries", "types", "compiled", "locations"):
            if (self.root / sub).is_dir():
                strays += (self.root / sub).glob(".*.tmp")
        for path in strays:
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                if now - stat.st_mtime > 3600:
                    path.unlink()
                    freed += stat.st_size
        return removed_entries, freed
