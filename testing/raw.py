"""Publish arbitrary (possibly malformed) artifacts straight through the registry API,
bypassing mcpkg, to test what mcpkg does with content other tools wrote."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(registry: str, repo: str, data: bytes, auth: tuple[str, str] | None = None) -> str:
    digest = digest_of(data)
    response = requests.post(f"http://{registry}/v2/{repo}/blobs/uploads/", auth=auth, timeout=30)
    response.raise_for_status()
    location = response.headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    sep = "&" if "?" in location else "?"
    put = requests.put(
        f"{location}{sep}digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        auth=auth,
        timeout=30,
    )
    put.raise_for_status()
    return digest


def push_manifest(
    registry: str,
    repo: str,
    tag: str,
    manifest: dict[str, Any] | bytes,
    media_type: str = "application/vnd.oci.image.manifest.v1+json",
    auth: tuple[str, str] | None = None,
) -> str:
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    response = requests.put(
        f"http://{registry}/v2/{repo}/manifests/{tag}",
        data=data,
        headers={"Content-Type": media_type},
        auth=auth,
        timeout=30,
    )
    response.raise_for_status()
    return digest_of(data)


def descriptor(media_type: str, data: bytes, **annotations: str) -> dict[str, Any]:
    desc: dict[str, Any] = {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}
    if annotations:
        desc["annotations"] = annotations
    return desc


def publish_like_wkg(registry: str, repo: str, tag: str, wasm: bytes, imports: list[str], exports: list[str]) -> str:
    """Lay an artifact out exactly as `wkg publish` does: `created` now-ish, `author: null`,
    `target: null`, one `application/wasm` layer with a title annotation."""
    layer_digest = push_blob(registry, repo, wasm)
    config = {
        "created": "2025-06-01T12:00:00.123456789Z",
        "author": None,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer_digest],
        "component": {"exports": exports, "imports": imports, "target": None},
    }
    config_bytes = json.dumps(config).encode()
    push_blob(registry, repo, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.wasm.config.v0+json", config_bytes),
        "layers": [
            descriptor(
                "application/wasm", wasm, **{"org.opencontainers.image.title": f"{repo.rsplit('/', 1)[-1]}.wasm"}
            )
        ],
        "annotations": {"org.opencontainers.image.version": tag},
    }
    return push_manifest(registry, repo, tag, manifest)
