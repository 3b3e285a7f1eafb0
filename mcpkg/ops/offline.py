"""`--offline`: what the cache knows stands in for the registry.

A cache entry records the references a manifest was pulled under (`registry/repo:tag`),
so the cache knows, per repository, which tags it has seen and the manifest each named
when last used. Offline, that is the tag list: `lock --offline` and `compose --offline
COMPONENT...` resolve requirements against it, and a tag resolves to its cached manifest
digest. Signatures are judged from the material the cache kept when they verified
(`recheck`), never fetched. Anything else a command would need from a registry is an
error naming it (`Context.client` refuses), so `--offline` never touches the network.
"""

from __future__ import annotations

from mcpkg.cache import Cache
from mcpkg.errors import ConfigError, UsageError
from mcpkg.reference import Digest, Reference


def cached_tags(cache: Cache, ref: Reference) -> dict[str, Digest]:
    """tag -> manifest digest of `ref`'s repository, as the cache last saw them (a tag
    seen naming several manifests: the one used most recently)."""
    found: dict[str, tuple[float, Digest]] = {}
    for entry in cache.entries():
        for text in entry.references:
            try:
                seen = Reference.parse(text)
            except UsageError:
                continue
            if seen.registry != ref.registry or seen.repository != ref.repository or seen.tag is None:
                continue
            known = found.get(seen.tag)
            if known is None or entry.last_used > known[0]:
                found[seen.tag] = (entry.last_used, entry.manifest)
    return {tag: digest for tag, (_, digest) in found.items()}


def cached_digest(cache: Cache, ref: Reference) -> Digest:
    """The manifest digest `ref` (with a tag) names in the cache."""
    assert ref.tag is not None
    digest = cached_tags(cache, ref).get(ref.tag)
    if digest is None or not cache.has_blob(digest):
        raise ConfigError(
            f"--offline, but {ref.location}:{ref.tag} is not in the cache",
            "run once with network access (e.g. `mcpkg pull` of it), or drop --offline",
        )
    return digest
