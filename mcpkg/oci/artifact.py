"""The CNCF Wasm OCI artifact layout: build and validate manifests and configs (pure).

A component is published as an OCI image manifest with config media type
`application/vnd.wasm.config.v0+json` and exactly one `application/wasm` layer. The
config records `created`, `architecture: wasm`, `os: wasip2`, `layerDigests` and
`component: {exports, imports, target}` (docs/artifact.md). mcpkg writes exactly that
and reads what `wkg publish` writes (`author: null`, `target: null` included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mcpkg.errors import InvalidArtifactError, UsageError
from mcpkg.reference import Digest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
WASM_CONFIG = "application/vnd.wasm.config.v0+json"
WASM_LAYER = "application/wasm"
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST])

TITLE_ANNOTATION = "org.opencontainers.image.title"
VERSION_ANNOTATION = "org.opencontainers.image.version"
CREATED_ANNOTATION = "org.opencontainers.image.created"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    annotations: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.annotations:
            data["annotations"] = dict(sorted(self.annotations.items()))
        return data


@dataclass(frozen=True)
class WasmManifest:
    config: Descriptor
    layer: Descriptor
    annotations: dict[str, str]


@dataclass(frozen=True)
class ComponentInfo:
    """The `component` object of the config: what the publisher declared."""

    imports: tuple[str, ...]
    exports: tuple[str, ...]
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"exports": list(self.exports), "imports": list(self.imports), "target": self.target}


@dataclass(frozen=True)
class WasmConfig:
    created: str | None
    author: str | None
    os: str | None
    component: ComponentInfo | None
    layer_digests: tuple[str, ...]
    raw: dict[str, Any]


def build_config(info: ComponentInfo, layer_digest: Digest, created: str) -> bytes:
    """The config blob: compact JSON, keys in a fixed order, so the same inputs give the
    same digest."""
    body = {
        "created": created,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [str(layer_digest)],
        "component": info.to_json(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def build_manifest(config: Descriptor, layer: Descriptor, annotations: dict[str, str] | None = None) -> bytes:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_json(),
        "layers": [layer.to_json()],
    }
    if annotations:
        body["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(body, separators=(",", ":")).encode()


def _load_json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArtifactError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidArtifactError(f"{what} is not a JSON object")
    return value


def _annotations(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidArtifactError(f"{what}: annotations must map strings to strings")
    return dict(value)


def parse_descriptor(value: Any, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidArtifactError(f"{what} is not a descriptor object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str):
        raise InvalidArtifactError(f"{what} has no mediaType")
    if not isinstance(digest, str):
        raise InvalidArtifactError(f"{what} has no digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidArtifactError(f"{what} has no valid size")
    try:
        parsed = Digest.parse(digest)
    except UsageError as exc:
        raise InvalidArtifactError(f"{what}: {exc.message}") from exc
    return Descriptor(media_type, parsed, size, _annotations(value.get("annotations"), what))


def parse_image_manifest(data: bytes, what: str) -> WasmManifest:
    """Validate a manifest as a Wasm component artifact."""
    body = _load_json_object(data, f"manifest of {what}")
    media_type = body.get("mediaType")
    if media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST) or "manifests" in body:
        raise InvalidArtifactError(
            f"{what} is an image index, not a Wasm component artifact",
            "point mcpkg at a single component's manifest",
        )
    if media_type not in (None, OCI_MANIFEST, DOCKER_MANIFEST):
        raise InvalidArtifactError(f"{what} has unsupported manifest media type {media_type!r}")
    if body.get("schemaVersion") != 2:
        raise InvalidArtifactError(f"{what}: manifest schemaVersion must be 2")
    config = parse_descriptor(body.get("config"), f"config descriptor of {what}")
    if config.media_type != WASM_CONFIG:
        raise InvalidArtifactError(
            f"{what} is not a Wasm artifact (config media type {config.media_type!r})",
            f"mcpkg pulls artifacts whose config is {WASM_CONFIG}",
        )
    layers = body.get("layers")
    if not isinstance(layers, list) or len(layers) != 1:
        count = len(layers) if isinstance(layers, list) else 0
        raise InvalidArtifactError(f"{what} has {count} layers; a Wasm component artifact has exactly one")
    layer = parse_descriptor(layers[0], f"layer of {what}")
    if layer.media_type != WASM_LAYER:
        raise InvalidArtifactError(f"{what}: layer media type is {layer.media_type!r}, expected {WASM_LAYER!r}")
    return WasmManifest(config, layer, _annotations(body.get("annotations"), what))


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArtifactError(f"{what} must be a list of strings")
    return tuple(value)


def parse_wasm_config(data: bytes, what: str) -> WasmConfig:
    body = _load_json_object(data, f"config of {what}")
    component = body.get("component")
    info = None
    if component is not None:
        if not isinstance(component, dict):
            raise InvalidArtifactError(f"config of {what}: `component` must be an object")
        target = component.get("target")
        if target is not None and not isinstance(target, str):
            raise InvalidArtifactError(f"config of {what}: `component.target` must be a string")
        info = ComponentInfo(
            _string_list(component.get("imports"), f"config of {what}: component.imports"),
            _string_list(component.get("exports"), f"config of {what}: component.exports"),
            target,
        )

    def opt_str(key: str) -> str | None:
        value = body.get(key)
        return value if isinstance(value, str) else None

    return WasmConfig(
        opt_str("created"),
        opt_str("author"),
        opt_str("os"),
        info,
        _string_list(body.get("layerDigests"), f"config of {what}: layerDigests"),
        body,
    )
