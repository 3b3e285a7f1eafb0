from __future__ import annotations

import json

import pytest

from mcpkg.errors import InvalidArtifactError
from mcpkg.oci.artifact import (
    WASM_CONFIG,
    WASM_LAYER,
    ComponentInfo,
    Descriptor,
    build_config,
    build_manifest,
    parse_image_manifest,
    parse_wasm_config,
)
from mcpkg.reference import Digest
from mcpkg.wasm.preamble import check_preamble

D1 = Digest("sha256", "1" * 64)
D2 = Digest("sha256", "2" * 64)


def manifest(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": WASM_CONFIG, "digest": str(D1), "size": 10},
        "layers": [{"mediaType": WASM_LAYER, "digest": str(D2), "size": 20}],
    }
    body.update(overrides)
    return json.dumps(body).encode()


def test_round_trip_of_our_layout() -> None:
    info = ComponentInfo(("wasi:io/streams@0.2.3",), ("wasi:cli/run@0.2.3",), None)
    config = build_config(info, D2, "2024-01-01T00:00:00Z")
    parsed = parse_wasm_config(config, "x")
    assert parsed.component == info and parsed.os == "wasip2" and parsed.layer_digests == (str(D2),)
    data = build_manifest(Descriptor(WASM_CONFIG, D1, len(config)), Descriptor(WASM_LAYER, D2, 20), {"a": "b"})
    m = parse_image_manifest(data, "x")
    assert m.layer.digest == D2 and m.annotations == {"a": "b"}
    # deterministic bytes
    assert build_config(info, D2, "2024-01-01T00:00:00Z") == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": str(D1), "size": 1}},
            "not a Wasm artifact",
        ),
        ({"layers": []}, "0 layers"),
        ({"layers": [{"mediaType": WASM_LAYER, "digest": str(D2), "size": 1}] * 2}, "2 layers"),
        ({"layers": [{"mediaType": "application/octet-stream", "digest": str(D2), "size": 1}]}, "layer media type"),
        ({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}, "image index"),
        ({"schemaVersion": 1}, "schemaVersion"),
        ({"layers": [{"mediaType": WASM_LAYER, "digest": "sha256:zz", "size": 1}]}, "valid sha256"),
        ({"layers": [{"mediaType": WASM_LAYER, "digest": str(D2), "size": -1}]}, "size"),
    ],
)
def test_manifest_rejections(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArtifactError, match=message):
        parse_image_manifest(manifest(**overrides), "x")


def test_garbage_manifest() -> None:
    with pytest.raises(InvalidArtifactError):
        parse_image_manifest(b"\xff\x00not json", "x")
    with pytest.raises(InvalidArtifactError):
        parse_image_manifest(b"[1,2]", "x")


def test_wkg_config_with_nulls() -> None:
    body = {
        "created": "2025-01-01T00:00:00.1Z",
        "author": None,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [str(D2)],
        "component": {"exports": ["a"], "imports": [], "target": None},
    }
    parsed = parse_wasm_config(json.dumps(body).encode(), "x")
    assert parsed.author is None and parsed.component == ComponentInfo((), ("a",), None)


def test_preamble() -> None:
    check_preamble(b"\x00asm\x0d\x00\x01\x00", "x")
    with pytest.raises(InvalidArtifactError, match="core WebAssembly module"):
        check_preamble(b"\x00asm\x01\x00\x00\x00", "x")
    with pytest.raises(InvalidArtifactError, match="not a WebAssembly component"):
        check_preamble(b"hello wo", "x")
