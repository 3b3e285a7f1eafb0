"""`mcpkg cache ls|verify|prune`."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import typer

from mcpkg.cli.options import JSON_OPTION, set_json
from mcpkg.cli.terminal import OUT, emit_json, human_size, note
from mcpkg.errors import IntegrityError, UsageError

if TYPE_CHECKING:
    from mcpkg.reference import Digest


def cache_ls(json_output: bool = JSON_OPTION) -> None:
    """List cached components: references, digests, sizes, last use."""
    from mcpkg.cache import Cache

    set_json(json_output)
    cache = Cache.default()
    entries = cache.entries()
    if json_output:
        emit_json({"root": str(cache.root), "entries": [e.to_json() for e in entries]})
        return
    note(f"cache: {cache.root}")
    for entry in sorted(entries, key=lambda e: (e.references, str(e.manifest))):
        used = datetime.datetime.fromtimestamp(entry.last_used).strftime("%Y-%m-%d %H:%M")
        names = ", ".join(entry.references) or "(pulled by digest)"
        digest, layer = short_digest(entry.manifest), short_digest(entry.layer)
        print(f"{names}\n  digest {digest}  layer {layer}  {human_size(entry.size)}  used {used}")


def short_digest(digest: Digest) -> str:
    """`sha256:0cb5fcf9d40f` (12 hex digits, as docker shows image ids); whole with -v."""
    return str(digest) if OUT.verbose else f"{digest.algorithm}:{digest.hex[:12]}"


def cache_verify(json_output: bool = JSON_OPTION) -> None:
    """Re-hash every cached blob; remove (and report) any that no longer match."""
    from mcpkg.cache import Cache

    set_json(json_output)
    checked, corrupt = Cache.default().verify()
    if json_output:
        emit_json({"checked": checked, "corrupt": [str(d) for d in corrupt]})
    else:
        print(f"checked {checked} blob(s), {len(corrupt)} corrupt")
        for digest in corrupt:
            print(f"removed corrupt blob {digest}")
    if corrupt and not json_output:
        raise IntegrityError(
            f"{len(corrupt)} cached blob(s) were corrupt and have been removed",
            "pull again to download them afresh",
        )


def cache_prune(
    older_than: float | None = typer.Option(None, "--older-than", help="Also drop entries unused for DAYS."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Remove blobs no cache entry uses, stray temp files, and (with --older-than) old entries."""
    from mcpkg.cache import Cache

    set_json(json_output)
    if older_than is not None and older_than < 0:
        raise UsageError(f"--older-than {older_than:g}: a number of days must be >= 0", "e.g. --older-than 30")
    entries, freed = Cache.default().prune(older_than)
    if json_output:
        emit_json({"entries-removed": entries, "bytes-freed": freed})
        return
    print(f"removed {entries} entr{'y' if entries == 1 else 'ies'}, freed {human_size(freed)}")


EXAMPLES = """\b
Examples:
  mcpkg cache ls
  mcpkg cache verify
  mcpkg cache prune --older-than 30
"""
LS_EXAMPLES = """\b
Examples:
  mcpkg cache ls                                  # short digests; -v for whole ones
  mcpkg cache ls --json
"""
VERIFY_EXAMPLES = """\b
Examples:
  mcpkg cache verify                              # exit 1 if a blob was corrupt (removed)
"""
PRUNE_EXAMPLES = """\b
Examples:
  mcpkg cache prune                               # blobs no entry uses, stray temp files
  mcpkg cache prune --older-than 30               # also entries unused for 30 days
"""
