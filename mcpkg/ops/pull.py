"""`mcpkg pull`: resolve, fetch manifest + config + layer, verify, cache, copy out.

Order of work (each step verified before the next; nothing partial becomes visible):
1. resolve the reference to a tag or digest (tags over every page for a bare reference);
2. the manifest: from the cache when the reference is a digest we hold, else from the
   registry, digest-checked; validated as a Wasm component artifact;
3. the config and the layer: from the cache by digest, else streamed from the registry
   into `tmp/` with size, sha256 and component preamble checked, then renamed into place;
4. optionally the user's copy (`-o`), always from the verified cache file: a file of the
   user's own (reflink or kernel copy, then a rename), or the bytes to stdout, a device
   or a FIFO (docs/limits.md, "What -o does").
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.config import TrustScope
from mcpkg.errors import ConfigError, InvalidArtifactError
from mcpkg.oci.artifact import (
    ComponentInfo,
    WasmConfig,
    WasmManifest,
    parse_image_manifest,
    parse_wasm_config,
)
from mcpkg.oci.blobs import download_blob
from mcpkg.ops.context import Context
from mcpkg.ops.lockpolicy import component_policy
from mcpkg.ops.offline import cached_digest
from mcpkg.ops.resolve import parse_target, resolve_reference
from mcpkg.outfile import Destination, resolve_artifact_output
from mcpkg.reference import Digest, Reference
from mcpkg.signing.verify import check, recheck
from mcpkg.wasm.preamble import check_preamble

MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PulledComponent:
    reference: Reference  # with the tag it resolved to (if any) and the manifest digest
    manifest: WasmManifest
    config: WasmConfig
    layer_path: Path  # the verified layer in the cache
    signature: str
    from_cache: bool
    output: str | None = None  # where the user's copy went (`stdout` for -o -)
    signed_by: tuple[str, ...] = ()  # key ids that verified under the trust policy
    identities: tuple[str, ...] = ()  # keyless signers that verified ("issuer identity")
    material: tuple[str, ...] = ()  # digests of the signature material that verified (cached)

    @property
    def declared(self) -> ComponentInfo | None:
        return self.config.component

    def to_json(self) -> dict[str, Any]:
        declared = self.declared
        return {
            "reference": str(self.reference.with_digest(None)),
            "digest": str(self.reference.digest),
            "layer-digest": str(self.manifest.layer.digest),
            "size": self.manifest.layer.size,
            "signature": self.signature,
            "from-cache": self.from_cache,
            "output": self.output,
            "cache-path": str(self.layer_path),
            "declared": declared.to_json() if declared else None,
            "annotations": self.manifest.annotations,
        }


def _kept_material(ctx: Context, digest: Digest) -> dict[str, bytes]:
    """The signature material the cache kept for a manifest when it verified."""
    entry = ctx.cache.entry(digest)
    material: dict[str, bytes] = {}
    for kept in entry.signatures if entry is not None else ():
        data = ctx.cache.read_blob(kept)
        if data is not None:
            material[str(kept)] = data
    return material


def _manifest_bytes(ctx: Context, ref: Reference) -> tuple[bytes, Digest, bool]:
    if ref.digest is not None:
        cached = ctx.cache.read_blob(ref.digest)
        if cached is not None:
            return cached, ref.digest, True
    reference = str(ref.digest) if ref.digest else ref.tag
    assert reference is not None
    fetched = ctx.client(ref.registry).get_manifest(ref.repository, reference)
    return fetched.data, fetched.digest, False


def _config(ctx: Context, ref: Reference, manifest: WasmManifest) -> tuple[WasmConfig, bytes | None]:
    """The parsed config, and its bytes when they still have to be cached: they are
    stored only once the layer checked out too, so a failed pull changes nothing."""
    desc = manifest.config
    what = str(ref)
    if desc.size > MAX_CONFIG_BYTES:
        raise InvalidArtifactError(
            f"{what}: config of {desc.size} bytes exceeds mcpkg's limit of {MAX_CONFIG_BYTES}",
            "a Wasm component's config is a few hundred bytes; this artifact is not one (docs/limits.md)",
        )
    data = ctx.cache.read_blob(desc.digest)
    if data is not None:
        return parse_wasm_config(data, what), None
    buffer = io.BytesIO()
    download_blob(ctx.client(ref.registry), ref.repository, desc.digest, desc.size, buffer)
    fetched = buffer.getvalue()
    return parse_wasm_config(fetched, what), fetched


def _layer(ctx: Context, ref: Reference, manifest: WasmManifest) -> tuple[Path, bool]:
    layer = manifest.layer
    path = ctx.cache.blob_path(layer.digest)
    if path.is_file() and path.stat().st_size == layer.size:
        return path, True
    if path.exists():
        ctx.cache.evict(layer.digest)
    client = ctx.client(ref.registry)
    progress = ctx.progress(f"pulling {ref.repository}", layer.size)
    try:
        stored = ctx.cache.store_stream(
            layer.digest,
            lambda out: download_blob(
                client,
                ref.repository,
                layer.digest,
                layer.size,
                out,
                check_head=lambda head: check_preamble(head, f"layer of {ref}"),
                progress=progress,
            ),
        )
    finally:
        progress.finish()
    return stored, False


def pull_reference(
    ctx: Context,
    ref: Reference,
    dest: Destination | None = None,
    *,
    with_signature: bool = True,
    project_scopes: tuple[TrustScope, ...] = (),
) -> PulledComponent:
    if ctx.offline and ref.digest is None:
        ref = ref.with_digest(cached_digest(ctx.cache, ref))
    manifest_data, manifest_digest, manifest_cached = _manifest_bytes(ctx, ref)
    what = str(ref)
    manifest = parse_image_manifest(manifest_data, what)
    # the trust policy decides before anything is written
    signature: str = "not checked (served from cache)"
    signed_by: tuple[str, ...] = ()
    identities: tuple[str, ...] = ()
    material: dict[str, bytes] = {}
    policy = component_policy(ctx.config, ref.location, project_scopes)
    if with_signature and ctx.offline:  # judged from the material kept when it verified
        kept = _kept_material(ctx, manifest_digest)
        if not kept and policy.require and policy.names_signers:
            raise ConfigError(
                f"--offline, but no verified signature of {ref.location}@{manifest_digest} is cached",
                "run once with network access, so that its signature is verified and kept",
            )
        verdict = recheck(ref, manifest_digest, policy, kept)
        signature, signed_by, identities = verdict.status, verdict.key_ids, verdict.identities
        material = verdict.material
    elif with_signature and (not manifest_cached or policy.applies):
        verdict = check(ctx.client(ref.registry), ref, manifest_digest, policy)
        signature, signed_by, identities = verdict.status, verdict.key_ids, verdict.identities
        material = verdict.material
    config, config_to_store = _config(ctx, ref, manifest)
    if config.layer_digests and config.layer_digests != (str(manifest.layer.digest),):
        raise InvalidArtifactError(
            f"{what}: config layerDigests {list(config.layer_digests)} disagree with the manifest layer"
        )
    layer = manifest.layer
    layer_path, layer_cached = _layer(ctx, ref, manifest)
    if config_to_store is not None:
        ctx.cache.store_bytes(manifest.config.digest, config_to_store)
    if not manifest_cached:
        ctx.cache.store_bytes(manifest_digest, manifest_data)
    for text, data in material.items():  # what verified, for offline re-checks (compose, check)
        ctx.cache.store_bytes(Digest.parse(text), data)
    if dest is not None:
        # a layer downloaded (and verified) moments ago needs no second hash
        ctx.cache.export(layer.digest, layer.size, dest, verify=layer_cached)
    resolved = ref.with_digest(manifest_digest)
    from_cache = manifest_cached and layer_cached
    ctx.cache.remember_location(layer.digest, ref.location)
    ctx.cache.record(
        manifest_digest,
        manifest.config.digest,
        layer.digest,
        layer.size,
        str(resolved.with_digest(None)) if resolved.tag else None,
        tuple(Digest.parse(text) for text in material),
    )
    output = None if dest is None else str(dest)
    return PulledComponent(
        resolved, manifest, config, layer_path, signature, from_cache, output, signed_by, identities, tuple(material)
    )


def pull(ctx: Context, text: str, output: Path | None = None) -> PulledComponent:
    ref, requirement = parse_target(text, ctx.config)
    # the output is checked before any transfer: a bad -o fails at once
    name = f"{ref.repository.rsplit('/', 1)[-1]}.wasm"
    dest = resolve_artifact_output(output, name, "component") if output is not None else None
    if ref.digest is None or not ctx.cache.has_blob(ref.digest):
        ref = resolve_reference(ctx, ref, requirement)
    return pull_reference(ctx, ref, dest)
