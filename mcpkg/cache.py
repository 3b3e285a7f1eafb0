"""The content-addressed cache (docs/config.md, docs/design.md).

Layout under the cache root (platformdirs user cache dir, `MCPKG_CACHE_DIR` overrides):

    blobs/sha256/<hex>    manifests, configs and layers, by digest (read-only files), and
                          the signature material that verified (bundles, key signature
                          records), which `compose` and `check` re-verify offline
    verified/<hex>        the inode state (device, inode, size, mtime, ctime) of a layer
                          when it last hashed to its digest: handing it out again skips
                          the hash only while the file is exactly that inode, unchanged
    entries/<hex>.json    one per pulled manifest: references, layer, size, last use, and
                          the signature material kept with it
    files/<dev>-<inode>   the digest of a user's file (a component given by path) with the
                          inode state it was hashed in: `inspect FILE`, `check FILE` and
                          path components hash an unchanged file once, not on every run
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
check on use: a blob its sha256 (whenever a layer is handed out by `export` or compose,
or a small blob is read), a compiled artifact its recorded hash, an entry or type model
its JSON parse. File locks are `flock`s: the kernel releases them when their
process dies, so a killed process never blocks the next one (the lock files themselves
stay, empty, and are reused).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from mcpkg.errors import ConfigError, IntegrityError, UsageError
from mcpkg.outfile import (
    Destination,
    Kind,
    PendingFile,
    copy_file_contents,
    open_output,
)
from mcpkg.reference import Digest, is_sha256_hex

COPY_CHUNK = 1024 * 1024
# a file changed less than this long ago may change again within the same timestamp
# granule, its stat unchanged ("racily clean", as git calls it): its digest is neither
# recorded nor taken from a record
RACY_SECONDS = 2.0
# a pulled -o file is not fsynced: a copy of a verified blob, made again by pulling again
# (docs/limits.md, "What -o does")
DURABLE_OUTPUTS = False


@dataclass(frozen=True)
class CacheEntry:
    manifest: Digest
    config: Digest
    layer: Digest
    size: int
    references: tuple[str, ...]
    last_used: float
    signatures: tuple[Digest, ...] = ()  # signature material that verified (kept as long as the entry)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "manifest": str(self.manifest),
            "config": str(self.config),
            "layer": str(self.layer),
            "size": self.size,
            "references": list(self.references),
            "last-used": self.last_used,
        }
        if self.signatures:
            data["signatures"] = [str(d) for d in self.signatures]
        return data


def default_cache_root() -> Path:
    override = os.environ.get("MCPKG_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs  # only when needed: ~10 ms

    return Path(platformdirs.user_cache_dir("mcpkg"))


def hash_file(path: Path) -> tuple[Digest, int]:
    with path.open("rb") as f:
        return _hash_stream(f)


def _hash_stream(f: IO[bytes]) -> tuple[Digest, int]:
    hasher = hashlib.sha256()
    size = 0
    while chunk := f.read(COPY_CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return Digest("sha256", hasher.hexdigest()), size


def stat_key(st: os.stat_result) -> str:
    """The inode state a file's contents are trusted by: device, inode, size, mtime and
    ctime (ctime cannot be set from user space: any write, chmod or new link changes it)."""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def is_racy(st: os.stat_result, now: float | None = None) -> bool:
    """Whether the file changed (or claims to have changed) within `RACY_SECONDS` of now,
    or in the future: a write in the same timestamp granule would leave its stat as is."""
    changed = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
    return changed > (time.time() if now is None else now) - RACY_SECONDS


def _read_file_digest(record: Path, key: str, size: int) -> tuple[Digest, int] | None:
    """The digest a `files/` record holds for the inode state `key` (None: no record, a
    record of another state, or one that does not parse)."""
    try:
        data = json.loads(record.read_bytes())
        if data["stat"] != key or data["size"] != size:
            return None
        return Digest.parse(data["digest"]), size
    except (OSError, ValueError, LookupError, TypeError, AttributeError, UsageError):
        return None  # no record, or garbage: hash the file


class CacheArea:
    """One named area of the cache (`types/`, `compiled/`): files by name, written
    atomically through the cache's `tmp/`, read back by the area's owner, who checks
    them (a JSON parse, a recorded hash). The wasm package keeps its type models and
    compiled artifacts here without knowing the cache's layout."""

    def __init__(self, cache: Cache, name: str) -> None:
        self.cache = cache
        self.directory = cache.root / name

    def path(self, name: str) -> Path:
        return self.directory / name

    def read_bytes(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes, mode: int = 0o644) -> Path:
        path = self.path(name)
        self.cache.write_file(path, data, mode)
        return path

    def lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        return self.cache.lock(f"{self.directory.name}-{name}")


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.entries_dir = root / "entries"
        self.tmp = root / "tmp"
        self.locks = root / "locks"
        self._ensured = False  # the directories were made (or found) by this object

    @classmethod
    def default(cls) -> Cache:
        return cls(default_cache_root())

    def area(self, name: str) -> CacheArea:
        """A named area for derived files (`types`, `compiled`)."""
        return CacheArea(self, name)

    def ensure(self) -> None:
        """Create the cache's directories, once per `Cache` object (a directory removed
        behind its back is made again when a write finds it missing)."""
        if self._ensured:
            return
        for path in (self.blobs, self.entries_dir, self.tmp, self.locks):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the cache directory {path}: {exc.strerror}",
                    "set MCPKG_CACHE_DIR to a writable directory",
                ) from exc
        self._ensured = True

    def _make_again(self) -> None:
        """The cache was removed while this process used it: make its directories again."""
        self._ensured = False
        self.ensure()

    def write_file(self, dest: Path, data: bytes, mode: int = 0o644) -> None:
        """Atomically write a file under the cache root; its temp file lives in `tmp/`, so a
        killed writer leaves nothing anywhere else (and nothing `prune` misses). No fsync:
        every cache file is checked when read (see the module docstring); four fsyncs
        cost a pull 170 ms."""
        self.ensure()
        dest.parent.mkdir(parents=True, exist_ok=True)

        def fill(f: BinaryIO) -> None:
            f.write(data)

        self._publish(dest, fill, mode)

    def _publish(self, dest: Path, fill: Callable[[BinaryIO], None], mode: int) -> None:
        """Let `fill` write a temp file in `tmp/`; rename it to `dest` only if it returns
        normally (no fsync: see the module docstring)."""
        try:
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f".{dest.name}.", suffix=".tmp")
        except FileNotFoundError:
            self._make_again()
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                fill(cast(BinaryIO, f))
            os.chmod(name, mode)
            os.replace(name, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise

    def blob_path(self, digest: Digest) -> Path:
        return self.blobs / digest.hex

    def has_blob(self, digest: Digest) -> bool:
        return self.blob_path(digest).is_file()

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive `flock` on `locks/<name>.lock` (between processes and between
        threads: each holder opens its own descriptor). Not re-entrant."""
        self.ensure()
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(self.locks / f"{name}.lock", flags, 0o600)
        except FileNotFoundError:
            self._make_again()
            fd = os.open(self.locks / f"{name}.lock", flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

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
        self.ensure()
        path = self.blob_path(digest)
        if not path.exists():
            self.write_file(path, data, 0o444)
        return path

    def store_stream(self, digest: Digest, fill: Callable[[BinaryIO], None]) -> Path:
        """Create the blob `digest` by letting `fill` write (and verify) it into a temp
        file; only if `fill` returns normally is the file renamed into place. Several
        processes asking for the same digest download it once."""
        self.ensure()
        path = self.blob_path(digest)
        with self.lock(digest.hex):
            if path.is_file():
                return path
            self._publish(path, fill, 0o444)
            self._remember_verified(path)
        return path

    def evict(self, digest: Digest) -> None:
        for path in (self.blob_path(digest), self._verified_record(digest)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def export(self, digest: Digest, size: int, dest: Destination, *, verify: bool = True) -> str:
        """Write the cached blob to the user's `dest` as a file of their own (never a hard
        link into the cache: writing into the output can never change the cache); returns
        how it was copied (`outfile.copy_file_contents`).

        With `verify` (the default) the bytes are checked against the digest, and a cache
        entry that no longer matches is evicted and reported: for a file, the copy itself
        is hashed before it is renamed into place (one read: the user gets exactly what
        was checked); for stdout, a device or a FIFO, the cached file is hashed first, so
        no byte goes out before the whole blob checked out."""
        try:
            source = self.blob_path(digest).open("rb")
        except FileNotFoundError:
            raise IntegrityError(
                f"{digest} is no longer in the cache", "run the command again to download it afresh"
            ) from None
        with source:
            if verify and not self._still_verified(source, digest):
                self._check_stream(source, digest, size)
                self._remember_verified(self.blob_path(digest))
            if dest.kind is not Kind.FILE:
                with open_output(dest) as out:
                    return copy_file_contents(source, out, size)
            pending = PendingFile(dest.path, 0o644, durable=DURABLE_OUTPUTS)
            try:
                how = copy_file_contents(source, pending.file, size)
            except BaseException:
                pending.discard()
                raise
            pending.commit()
            return how

    # -- what was verified: a blob re-hashed only when its inode changed ---------------

    def _verified_record(self, digest: Digest) -> Path:
        return self.root / "verified" / digest.hex

    def _remember_verified(self, path: Path) -> None:
        """Record the inode state of a blob that just checked out (best effort)."""
        with contextlib.suppress(OSError):
            key = stat_key(path.stat())
            self.write_file(self.root / "verified" / path.name, key.encode())

    def _still_verified(self, source: IO[bytes], digest: Digest) -> bool:
        """Whether the open blob is exactly the inode that was verified (same device,
        inode, size, mtime and ctime), so its hash need not be computed again."""
        try:
            recorded = self._verified_record(digest).read_text()
        except (OSError, UnicodeDecodeError):
            return False
        return recorded == stat_key(os.fstat(source.fileno()))

    def _check_stream(self, stream: IO[bytes], digest: Digest, size: int) -> None:
        actual, actual_size = _hash_stream(stream)
        stream.seek(0)
        if actual != digest or actual_size != size:
            self.evict(digest)
            raise IntegrityError(
                f"the cached copy of {digest} is corrupt; it was removed from the cache",
                "run the command again to download it afresh",
            )

    # -- the digests of the user's files: hashed again only when the inode changed ----

    def file_digest(self, path: Path, *, record: bool = True) -> tuple[Digest, int]:
        """`hash_file(path)`, remembered by the file's inode state (`files/`): an
        unchanged file is not read again. A record is used and written only when the file
        is not racy (`is_racy`) and its stat was the same before and after the hash; a
        record that does not parse is ignored (and replaced). `record=False` only reads
        records (`lock --check` writes nothing)."""
        with path.open("rb") as f:
            before = os.fstat(f.fileno())
            memo = self.root / "files" / f"{before.st_dev}-{before.st_ino}"
            key = stat_key(before)
            trusted = before.st_ino != 0 and not is_racy(before)  # 0: a file system without inodes
            if trusted:
                remembered = _read_file_digest(memo, key, before.st_size)
                if remembered is not None:
                    return remembered
            digest, size = _hash_stream(f)
            after = os.fstat(f.fileno())
        if record and trusted and stat_key(after) == key and size == after.st_size and not is_racy(after):
            with contextlib.suppress(OSError, ConfigError):  # best effort: a read-only cache still works
                data = {"stat": key, "digest": str(digest), "size": size}
                self.write_file(memo, json.dumps(data).encode())
        return digest, size

    # -- where blobs live in registries (for cross-repository mounts) --------------

    def remember_location(self, digest: Digest, location: str) -> None:
        """Record that `digest` exists at `registry/repository` (best effort)."""
        self.ensure()
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

    def record(
        self,
        manifest: Digest,
        config: Digest,
        layer: Digest,
        size: int,
        reference: str | None,
        signatures: tuple[Digest, ...] = (),
    ) -> None:
        """Remember that `manifest` was used now (and under which reference, and which
        signature material verified for it: `prune` keeps those blobs with the entry)."""
        self.ensure()
        path = self.entries_dir / f"{manifest.hex}.json"
        with self.lock(f"entry-{manifest.hex}"):
            references: list[str] = []
            kept: set[Digest] = set(signatures)
            existing = self._load_entry(path)
            if existing:
                references = list(existing.references)
                kept.update(existing.signatures)
            if reference and reference not in references:
                references.append(reference)
            material = tuple(sorted(kept, key=str))
            entry = CacheEntry(manifest, config, layer, size, tuple(sorted(references)), time.time(), material)
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
                tuple(Digest.parse(str(d)) for d in data.get("signatures", [])),
            )
        except (OSError, ValueError, KeyError, TypeError, Exception):
            return None

    def entry(self, manifest: Digest) -> CacheEntry | None:
        return self._load_entry(self.entries_dir / f"{manifest.hex}.json")

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
            else:
                self._remember_verified(path)
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
            live.update(d.hex for d in entry.signatures)
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
        if (self.root / "verified").is_dir():
            for record in (self.root / "verified").iterdir():
                if not (self.blobs / record.name).exists():
                    with contextlib.suppress(FileNotFoundError):
                        record.unlink()
        if (self.root / "files").is_dir():  # digests of user files, made 30 days ago or more
            for record in (self.root / "files").iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if now - record.stat().st_mtime > 30 * 86400:
                        record.unlink()
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
