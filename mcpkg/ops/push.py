"""`mcpkg push`: validate a component, derive its config, upload blobs and the manifest.

- The file must be a component wasmtime accepts; `component.imports/exports` come from
  the binary itself, never from the user; `component.target` is `--target`, else the
  most specific role world of `wit/` the component fits (`mcpkg:mcp/tools-handler@0.1.0`;
  a wasi:mcp backend: `wasi:mcp/mcp-backend-preview2@0.1.0-preview2`). A component using
  wasi:mcp that `mcpkg run` could not host (another version, no entry point) is refused
  unless `--target` says what it is.
- `created` is `SOURCE_DATE_EPOCH` when set (reproducible pushes), else now.
- Blobs that already exist are skipped (HEAD); then the manifest is PUT as exact bytes.
- If the tag already names a manifest with the same layer and the same `component`
  config, nothing is pushed ("already published"). A semver tag naming different
  content is never moved without `--force`; other tags (`latest`, `dev`) move freely.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.cache import hash_file
from mcpkg.config import Config
from mcpkg.errors import ConflictError, IncompatibleError, McpkgError, NotFoundError, UsageError
from mcpkg.infile import readable_file, written_as_path
from mcpkg.oci.artifact import (
    CREATED_ANNOTATION,
    OCI_MANIFEST,
    TITLE_ANNOTATION,
    VERSION_ANNOTATION,
    WASM_CONFIG,
    WASM_LAYER,
    ComponentInfo,
    Descriptor,
    build_config,
    build_manifest,
    parse_image_manifest,
    parse_wasm_config,
)
from mcpkg.oci.blobs import blob_exists, download_blob, upload_blob
from mcpkg.ops.context import Context
from mcpkg.reference import Digest, PackageName, Reference
from mcpkg.semver import Version
from mcpkg.wasm.backend import backend_problems, is_backend_candidate
from mcpkg.wasm.contracts import push_role
from mcpkg.wasm.introspect import component_model


@dataclass(frozen=True)
class PushResult:
    reference: Reference
    digest: Digest
    layer_digest: Digest
    size: int
    status: str  # "pushed" | "already published"
    uploaded: int
    skipped: int
    mounted: int
    target: str | None = None  # the config's `target`
    role: str | None = None  # what that target is: "wasi:mcp backend", "tools-handler"

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference),
            "digest": str(self.digest),
            "layer-digest": str(self.layer_digest),
            "size": self.size,
            "status": self.status,
            "blobs-uploaded": self.uploaded,
            "blobs-skipped": self.skipped,
            "blobs-mounted": self.mounted,
            "target": self.target,
        }


def created_timestamp() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.strip().isdigit():
            raise UsageError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
                "set it to a Unix timestamp such as 1700000000",
            )
        seconds = int(epoch)
    else:
        seconds = int(time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_annotations(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(
                f"annotation {pair!r} is not KEY=VALUE",
                "e.g. --annotation org.opencontainers.image.description=Echo tools",
            )
        result[key] = value
    return result


def _existing_component(ctx: Context, ref: Reference) -> tuple[Digest, Digest, ComponentInfo | None] | None:
    """(manifest digest, layer digest, component config) currently at `ref`'s tag."""
    assert ref.tag is not None
    client = ctx.client(ref.registry)
    try:
        fetched = client.get_manifest(ref.repository, ref.tag)
    except NotFoundError:
        return None
    try:
        manifest = parse_image_manifest(fetched.data, str(ref))
    except McpkgError:
        # Something that is not a component sits at this tag: treat as different content.
        return fetched.digest, Digest("sha256", "0" * 64), None
    info = None
    try:
        buffer = io.BytesIO()
        download_blob(client, ref.repository, manifest.config.digest, manifest.config.size, buffer)
        info = parse_wasm_config(buffer.getvalue(), str(ref)).component
    except McpkgError:
        info = None
    return fetched.digest, manifest.layer.digest, info


def push_reference(config: Config, file: Path, text: str) -> Reference:
    """Where `mcpkg push FILE REF` publishes: `[registry/]repo:tag`, or a package name with
    an exact version (`ns:name@1.0.1`, mapped through `[namespaces]` as pull maps it; the
    version is the tag). Arguments in the wrong order get a hint."""
    if written_as_path(text):
        if not written_as_path(str(file)):
            raise UsageError(f"{text} is a file and {file} is not: the file comes first", f"mcpkg push {text} {file}")
        raise UsageError(f"{text} is a file path, not where to publish", f"mcpkg push {file} [registry/]repo:tag")
    base, at, version = text.partition("@")
    package = PackageName.try_parse(base)
    if package is None:
        ref = config.parse_reference(text)
        if ref.digest is not None or ref.tag is None:
            raise UsageError(
                f"push needs a tag, not {'a digest' if ref.digest else 'a bare repository'}: {text}",
                f"e.g. mcpkg push {file} {ref.location}:0.1.0",
            )
        return ref
    exact = version[1:] if version.startswith("=") else version
    if not at or Version.try_parse(exact) is None:
        raise UsageError(
            f"push needs an exact version for a package name, not {text}",
            f"e.g. mcpkg push {file} {base}@0.1.0",
        )
    return config.parse_reference(f"{config.package_reference(package).location}:{exact}")  # the tag checked


def push(
    ctx: Context,
    file: Path,
    text: str,
    *,
    annotations: dict[str, str] | None = None,
    target: str | None = None,
    force: bool = False,
) -> PushResult:
    ref = push_reference(ctx.config, file, text)
    tag = ref.tag
    assert tag is not None  # push_reference gives a tag
    readable_file(file, "component")
    layer_digest, size = hash_file(file)
    model = component_model(file, layer_digest, ctx.cache, str(file))
    if target is None:
        problems = backend_problems(model, str(file)) if is_backend_candidate(model) else []
        if problems:
            raise IncompatibleError(
                "not pushed: " + "; ".join(problems),
                "fix the backend (docs/wasi-mcp.md), or pass --target to publish it as something else",
                {"problems": problems},
            )
        derived = push_role(model)
        target, role = (derived.target, derived.name) if derived else (None, None)
    else:
        role = None
    info = ComponentInfo(model.import_names, model.export_names, target)
    client = ctx.client(ref.registry)

    existing = _existing_component(ctx, ref)
    if existing is not None:
        digest, existing_layer, existing_info = existing
        if existing_layer == layer_digest and existing_info == info:
            return PushResult(
                ref.with_digest(digest), digest, layer_digest, size, "already published", 0, 2, 0, target, role
            )
        if Version.try_parse(tag) is not None and not force:
            raise ConflictError(
                f"{ref} already names different content ({digest})",
                "release tags are immutable: publish a new version, or pass --force to move the tag",
            )

    config_bytes = build_config(info, layer_digest, created_timestamp())
    config_desc = Descriptor(WASM_CONFIG, Digest("sha256", hashlib.sha256(config_bytes).hexdigest()), len(config_bytes))
    layer_desc = Descriptor(WASM_LAYER, layer_digest, size, {TITLE_ANNOTATION: file.name})
    manifest_annotations = {CREATED_ANNOTATION: json.loads(config_bytes)["created"]}
    if Version.try_parse(tag) is not None:
        manifest_annotations[VERSION_ANNOTATION] = tag
    manifest_annotations.update(annotations or {})
    manifest_bytes = build_manifest(config_desc, layer_desc, manifest_annotations)

    counts = {"uploaded": 0, "mounted": 0, "skipped": 0}
    source: bytes | Path
    for desc, source in ((layer_desc, file), (config_desc, config_bytes)):
        if blob_exists(client, ref.repository, desc.digest):
            counts["skipped"] += 1
            continue
        mount_from = [
            loc.split("/", 1)[1]
            for loc in ctx.cache.locations(desc.digest)
            if loc.split("/", 1)[0] == ref.registry and loc != ref.location
        ]
        progress = ctx.progress(f"pushing {ref.repository}", desc.size)
        try:
            how = upload_blob(
                client, ref.repository, desc.digest, desc.size, source, mount_from=mount_from, progress=progress
            )
        finally:
            progress.finish()
        counts[how] += 1
    for desc in (layer_desc, config_desc):
        ctx.cache.remember_location(desc.digest, ref.location)
    digest = client.put_manifest(ref.repository, tag, manifest_bytes, OCI_MANIFEST)
    return PushResult(
        ref.with_digest(digest),
        digest,
        layer_digest,
        size,
        "pushed",
        counts["uploaded"],
        counts["skipped"],
        counts["mounted"],
        target,
        role,
    )
