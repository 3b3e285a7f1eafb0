"""Interoperability with an independent OCI client, oras-py, against a real docker-registry.

oras-py shares no code with mcpkg (its own manifests, uploads and downloads), so an
artifact one of them pushes and the other pulls byte for byte shows that mcpkg speaks the
Wasm OCI artifact layout (docs/artifact.md) and the distribution API as others do. The
media types below are written out here, not imported from mcpkg, so the test states
the layout independently of mcpkg's own constants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oras.client
import oras.provider
import pytest

from testing.registry import Registry
from tests.conftest import Mcpkg

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
WASM_CONFIG = "application/vnd.wasm.config.v0+json"
WASM_LAYER = "application/wasm"
TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"
# what the greeter fixture (registry-fixtures/src/greeter.wat) imports and exports
GREETER_IMPORTS = ["fixtures:hello/log@0.1.0"]
GREETER_EXPORTS = ["fixtures:hello/greet@0.1.0"]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def peer(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[oras.provider.Registry]:
    """An oras-py client for the session registry: plain HTTP to loopback, no proxies
    or Docker credentials from the environment."""
    docker = tmp_path / "oras-docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    client = oras.client.OrasClient(hostname=registry.host, insecure=True)
    client.session.trust_env = False
    yield client
    client.session.close()


def raw_manifest(peer: oras.provider.Registry, registry: Registry, repo: str, reference: str) -> bytes:
    """The manifest bytes exactly as the registry stores them (oras-py's `get_manifest`
    returns parsed JSON, whose digest cannot be checked)."""
    path = repo.split("/", 1)[1]
    response = peer.do_request(
        f"http://{registry.host}/v2/{path}/manifests/{reference}", "GET", headers={"Accept": OCI_MANIFEST}
    )
    assert response.status_code == 200, response.text
    return bytes(response.content)


def test_component_pushed_by_oras_pulls_with_mcpkg(
    mcpkg: Mcpkg, fixtures: Path, registry: Registry, repo: str, peer: oras.provider.Registry, tmp_path: Path
) -> None:
    wasm = fixtures / "greeter.wasm"
    layer = sha(wasm.read_bytes())
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "created": "2025-01-01T00:00:00Z",
                "architecture": "wasm",
                "os": "wasip2",
                "layerDigests": [layer],
                "component": {"exports": GREETER_EXPORTS, "imports": GREETER_IMPORTS, "target": None},
            }
        )
    )
    response = peer.push(
        target=f"{repo}:1.0.0",
        files=[f"{wasm}:{WASM_LAYER}"],
        manifest_config=f"{config}:{WASM_CONFIG}",
        manifest_annotations={VERSION: "1.0.0"},
        disable_path_validation=True,
        quiet=True,
    )
    assert response.status_code == 201
    stored = raw_manifest(peer, registry, repo, "1.0.0")
    manifest_digest = sha(stored)
    assert response.headers["Docker-Content-Digest"] == manifest_digest
    manifest: dict[str, Any] = json.loads(stored)
    assert manifest["config"]["mediaType"] == WASM_CONFIG
    assert [(d["mediaType"], d["digest"]) for d in manifest["layers"]] == [(WASM_LAYER, layer)]

    out = tmp_path / "pulled.wasm"
    pulled = mcpkg.ok("pull", f"{repo}:1.0.0", "-o", str(out), "--json").json()
    assert pulled["reference"] == f"{repo}:1.0.0"
    assert pulled["digest"] == manifest_digest
    assert pulled["layer-digest"] == layer and pulled["size"] == wasm.stat().st_size
    assert pulled["declared"] == {"exports": GREETER_EXPORTS, "imports": GREETER_IMPORTS, "target": None}
    assert pulled["annotations"] == {VERSION: "1.0.0"}
    assert pulled["signature"] == "unsigned" and pulled["from-cache"] is False
    assert out.read_bytes() == wasm.read_bytes()
    # what mcpkg cached is what oras-py stored, each blob under its own digest, and re-hashes clean
    config_digest = manifest["config"]["digest"]
    assert set(mcpkg.cached_blobs()) >= {d.split(":")[1] for d in (manifest_digest, config_digest, layer)}
    assert mcpkg.ok("cache", "verify", "--json").json()["corrupt"] == []

    # by digest, into a fresh cache; and the binary's real types agree with the declared ones
    fresh = Mcpkg(tmp_path / "fresh")
    again = tmp_path / "again.wasm"
    by_digest = fresh.ok("pull", f"{repo}@{manifest_digest}", "-o", str(again), "--json").json()
    assert by_digest["digest"] == manifest_digest and by_digest["from-cache"] is False
    assert again.read_bytes() == wasm.read_bytes()
    inspected = fresh.ok("inspect", f"{repo}@{manifest_digest}", "--json").json()
    assert inspected["imports"] == GREETER_IMPORTS and inspected["exports"] == GREETER_EXPORTS
    assert inspected["config"]["layerDigests"] == [layer]
    assert not inspected.get("warnings")


def test_oras_default_layout_is_refused_cleanly(
    mcpkg: Mcpkg, fixtures: Path, repo: str, peer: oras.provider.Registry, tmp_path: Path
) -> None:
    """oras-py's defaults (unknown config type, tar layer) are not a Wasm component
    artifact: mcpkg says so and leaves nothing behind."""
    wasm = fixtures / "greeter.wasm"
    response = peer.push(target=f"{repo}:1.0.0", files=[str(wasm)], disable_path_validation=True, quiet=True)
    assert response.status_code == 201
    out = tmp_path / "refused.wasm"
    failed = mcpkg("pull", f"{repo}:1.0.0", "-o", str(out), "--json")
    assert failed.exit_code == 1
    error = failed.json()["error"]
    assert error["type"] == "invalid-artifact"
    assert "not a Wasm artifact" in error["message"] and "application/vnd.unknown.config.v1+json" in error["message"]
    assert not out.exists() and mcpkg.cached_blobs() == []


@pytest.mark.parametrize("name", ["greeter.wasm", "large.wasm"])  # one PUT; PATCH chunks of 4 MiB
def test_component_pushed_by_mcpkg_pulls_with_oras(
    name: str,
    mcpkg: Mcpkg,
    fixtures: Path,
    registry: Registry,
    repo: str,
    peer: oras.provider.Registry,
    tmp_path: Path,
) -> None:
    wasm = fixtures / name
    data = wasm.read_bytes()
    pushed = mcpkg.ok("push", str(wasm), f"{repo}:2.0.0", "--json").json()
    digest, layer = pushed["digest"], pushed["layer-digest"]
    assert layer == sha(data)

    files = peer.pull(target=f"{repo}:2.0.0", outdir=str(tmp_path / "by-tag"))
    assert [Path(f).name for f in files] == [name]  # named by the layer's title annotation
    assert Path(files[0]).read_bytes() == data

    # the manifest the peer reads is the exact bytes mcpkg computed its digest over
    stored = raw_manifest(peer, registry, repo, "2.0.0")
    assert sha(stored) == digest
    manifest = peer.get_manifest(f"{repo}@{digest}")
    assert manifest["mediaType"] == OCI_MANIFEST and manifest["schemaVersion"] == 2
    assert manifest["config"]["mediaType"] == WASM_CONFIG
    assert len(manifest["layers"]) == 1
    (descriptor,) = manifest["layers"]
    assert descriptor["mediaType"] == WASM_LAYER
    assert descriptor["digest"] == layer and descriptor["size"] == len(data)
    assert descriptor["annotations"] == {TITLE: name}
    assert manifest["annotations"][VERSION] == "2.0.0"

    config_blob = peer.get_blob(f"{repo}@{digest}", manifest["config"]["digest"]).content
    assert sha(config_blob) == manifest["config"]["digest"] and len(config_blob) == manifest["config"]["size"]
    config = json.loads(config_blob)
    assert config["architecture"] == "wasm" and config["os"] == "wasip2"
    assert config["layerDigests"] == [layer]
    inspected = mcpkg.ok("inspect", str(wasm), "--json").json()
    assert config["component"]["imports"] == inspected["imports"]
    assert config["component"]["exports"] == inspected["exports"]

    files = peer.pull(target=f"{repo}@{digest}", outdir=str(tmp_path / "by-digest"))
    assert [Path(f).read_bytes() == data for f in files] == [True]
