"""The trust policy as the project commands apply it: the policy of a component (user
config + `mcpkg.toml` + `[sigstore] trusted-root`), the offline re-check of what a lock
recorded (`compose`, `check`), and whether a changed policy still accepts a lock
(`lock --check`, in `lockpolicy.py`, which imports no network code)."""

from __future__ import annotations

from mcpkg.config import TrustScope
from mcpkg.errors import ConfigError, SignatureError
from mcpkg.ops.context import Context
from mcpkg.ops.lockpolicy import component_policy
from mcpkg.project.lockfile import LockEntry
from mcpkg.reference import Digest, Reference
from mcpkg.signing.verify import TrustVerdict, fetch_material, recheck


def locked_reference(entry: LockEntry) -> Reference:
    return Reference.parse(str(entry.reference)).with_tag(entry.version).with_digest(Digest.parse(str(entry.digest)))


def recorded_material(ctx: Context, entry: LockEntry, ref: Reference, *, offline: bool) -> dict[str, bytes]:
    """The signature material `entry` records, from the cache; what the cache lacks is
    fetched (when not offline) and kept only if its digest is the recorded one."""
    legacy = not entry.bundles and bool(entry.signatures or entry.identities)  # lock format 1 or 2
    material: dict[str, bytes] = {}
    for text in entry.bundles:
        data = ctx.cache.read_blob(Digest.parse(text))
        if data is not None:
            material[text] = data
    missing = [text for text in entry.bundles if text not in material]
    if not legacy and not missing:
        return material
    if offline:
        what = "records no signature material (an older lock format)" if legacy else "names signatures not cached"
        raise ConfigError(
            f"--offline, but the lock {what} for {entry.name}",
            "run once with network access (`mcpkg lock`, `mcpkg check` or `mcpkg compose`)",
        )
    assert ref.digest is not None
    found = fetch_material(ctx.client(ref.registry), ref, ref.digest)
    if legacy:  # everything there, verified by `recheck` against the policy
        return found
    for text in missing:
        data = found.get(text)
        if data is not None:
            ctx.cache.store_bytes(Digest.parse(text), data)
            material[text] = data
    known = ctx.cache.entry(ref.digest)
    if known is not None:  # `cache prune` keeps them as long as the component's entry
        kept = tuple(Digest.parse(text) for text in material)
        ctx.cache.record(known.manifest, known.config, known.layer, known.size, None, kept)
    return material


def recheck_entry(
    ctx: Context, entry: LockEntry, project_scopes: tuple[TrustScope, ...], *, offline: bool
) -> TrustVerdict:
    """The trust decision on a locked registry component, from what its lock recorded
    (SignatureError when the policy requires a signature and none verifies)."""
    ref = locked_reference(entry)
    assert ref.digest is not None
    policy = component_policy(ctx.config, ref.location, project_scopes)
    if not policy.applies or not policy.names_signers:
        return recheck(ref, ref.digest, policy, {})
    material = recorded_material(ctx, entry, ref, offline=offline)
    try:
        return recheck(ref, ref.digest, policy, material)
    except SignatureError as exc:
        exc.message = f"{entry.name}: {exc.message}"
        if not entry.bundles:
            exc.hint = "the lock records no signatures for it: run `mcpkg lock` to verify and record them"
        raise
