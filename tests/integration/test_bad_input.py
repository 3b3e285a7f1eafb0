"""Bad input of every kind gets a clear error, the right exit code, and leaves nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from testing import raw
from testing.registry import Registry
from tests.conftest import Mcpkg


def test_tampered_blob_in_registry_storage(
    mcpkg: Mcpkg, fixtures: Path, registry: Registry, repo: str, tmp_path: Path
) -> None:
    pushed = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:0.1.0", "--json").json()
    data_path = registry.blob_data_path(pushed["layer-digest"])
    original = data_path.read_bytes()
    try:
        data_path.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))  # same size, other bytes
        out = tmp_path / "out.wasm"
        failed = mcpkg("pull", f"{repo}:0.1.0", "-o", str(out), "--json")
        assert failed.exit_code == 1
        assert failed.json()["error"]["type"] == "integrity"
        assert pushed["layer-digest"].split(":")[1] not in mcpkg.cached_blobs()
        assert not out.exists() and list(tmp_path.iterdir()) == [mcpkg.home]
        assert list((mcpkg.cache / "tmp").iterdir()) == []

        data_path.write_bytes(original + b"extra")  # different size
        failed = mcpkg("pull", f"{repo}:0.1.0", "-o", str(out))
        assert failed.exit_code == 1 and "bytes" in failed.stderr
        assert not out.exists()
    finally:
        data_path.write_bytes(original)
    mcpkg.ok("pull", f"{repo}:0.1.0", "-o", str(out))
    assert out.read_bytes() == original


def test_wkg_layout_pulls(mcpkg: Mcpkg, fixtures: Path, registry: Registry, tmp_path: Path) -> None:
    wasm = (fixtures / "greeter.wasm").read_bytes()
    raw.publish_like_wkg(
        registry.host, "wkg/greeter", "0.3.0", wasm, ["fixtures:hello/log@0.1.0"], ["fixtures:hello/greet@0.1.0"]
    )
    got = mcpkg.ok("pull", f"{registry.host}/wkg/greeter:0.3.0", "-o", str(tmp_path / "g.wasm"), "--json").json()
    assert got["declared"] == {
        "exports": ["fixtures:hello/greet@0.1.0"],
        "imports": ["fixtures:hello/log@0.1.0"],
        "target": None,
    }
    assert (tmp_path / "g.wasm").read_bytes() == wasm


def _image(registry: Registry, repo: str, config_type: str, layers: list[tuple[str, bytes]]) -> None:
    config = b'{"architecture":"amd64","os":"linux"}'
    raw.push_blob(registry.host, repo, config)
    descs = []
    for media_type, data in layers:
        raw.push_blob(registry.host, repo, data)
        descs.append(raw.descriptor(media_type, data))
    raw.push_manifest(
        registry.host,
        repo,
        "1.0.0",
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": raw.descriptor(config_type, config),
            "layers": descs,
        },
    )


@pytest.mark.parametrize(
    ("name", "config_type", "layers", "message"),
    [
        (
            "container",
            "application/vnd.oci.image.config.v1+json",
            [("application/vnd.oci.image.layer.v1.tar+gzip", b"tarball")],
            "not a Wasm artifact",
        ),
        (
            "two-layers",
            "application/vnd.wasm.config.v0+json",
            [("application/wasm", b"\x00asm\x0d\x00\x01\x00a"), ("application/wasm", b"\x00asm\x0d\x00\x01\x00b")],
            "2 layers",
        ),
        (
            "not-component",
            "application/vnd.wasm.config.v0+json",
            [("application/wasm", b"#!/bin/sh\necho this is not wasm\n")],
            "not a WebAssembly component",
        ),
        (
            "core-module",
            "application/vnd.wasm.config.v0+json",
            [("application/wasm", b"\x00asm\x01\x00\x00\x00")],
            "core WebAssembly module",
        ),
    ],
)
def test_non_wasm_artifacts_are_rejected_leaving_nothing(
    mcpkg: Mcpkg,
    registry: Registry,
    tmp_path: Path,
    name: str,
    config_type: str,
    layers: list[tuple[str, bytes]],
    message: str,
) -> None:
    _image(registry, f"bad/{name}", config_type, layers)
    out = tmp_path / "out.wasm"
    failed = mcpkg("pull", f"{registry.host}/bad/{name}:1.0.0", "-o", str(out), "--json")
    assert failed.exit_code == 1, failed.stderr
    assert failed.json()["error"]["type"] == "invalid-artifact"
    assert message in failed.json()["error"]["message"]
    assert not out.exists()
    for _, data in layers:
        assert raw.digest_of(data).split(":")[1] not in mcpkg.cached_blobs()


def test_pushing_a_non_component(mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.wasm"
    text.write_text("hello, not wasm")
    failed = mcpkg("push", str(text), f"{repo}:0.1.0")
    assert failed.exit_code == 1 and "not a WebAssembly component" in failed.stderr
    core = mcpkg("push", str(fixtures / "core-module.wasm"), f"{repo}:0.1.0")
    assert core.exit_code == 1 and "core WebAssembly module" in core.stderr
    corrupt = tmp_path / "corrupt.wasm"
    corrupt.write_bytes((fixtures / "greeter.wasm").read_bytes()[:200])
    broken = mcpkg("push", str(corrupt), f"{repo}:0.1.0")
    assert broken.exit_code == 1 and "not a valid component" in broken.stderr
    missing = mcpkg("push", str(tmp_path / "absent.wasm"), f"{repo}:0.1.0")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert mcpkg("tags", repo).exit_code == 1  # nothing was pushed: repository unknown


@pytest.mark.parametrize(
    "args",
    [
        ["pull", "Bad/Upper:1.0"],
        ["pull", "reg.io/x@sha256:1234"],
        ["pull", "reg.io/x:"],
        ["pull", "ns:name@>>1"],
        ["push", "x.wasm", "reg.io/x"],
        ["tags", "reg.io/x:1.0"],
        ["pull"],
        ["pull", "reg.io/x", "--bogus"],
    ],
)
def test_usage_errors_exit_2(mcpkg: Mcpkg, args: list[str]) -> None:
    result = mcpkg(*args)
    assert result.exit_code == 2, result.stderr


def test_unknown_repository_and_tag(mcpkg: Mcpkg, registry: Registry, fixtures: Path, repo: str) -> None:
    missing = mcpkg("pull", f"{registry.host}/no/such-repo:1.0.0", "--json")
    assert missing.exit_code == 1 and missing.json()["error"]["type"] == "not-found"
    assert mcpkg("tags", f"{registry.host}/no/such-repo").exit_code == 1
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:1.0.0")
    no_tag = mcpkg("pull", f"{repo}:9.9.9")
    assert no_tag.exit_code == 1 and "not found" in no_tag.stderr
    no_match = mcpkg("pull", "x:y@^3", env={"MCPKG_CONFIG": None})
    assert no_match.exit_code in (1,)


def test_basic_auth(mcpkg: Mcpkg, fixtures: Path, auth_registry: Registry) -> None:
    ref = f"{auth_registry.host}/private/answer:1.0.0"
    anonymous = mcpkg("push", str(fixtures / "answer.wasm"), ref, "--json")
    assert anonymous.exit_code == 1 and anonymous.json()["error"]["type"] == "authentication"
    assert "mcpkg login" in anonymous.json()["error"]["hint"]

    wrong = mcpkg(
        "push",
        str(fixtures / "answer.wasm"),
        ref,
        env={"MCPKG_REGISTRY_USERNAME": "alice", "MCPKG_REGISTRY_PASSWORD": "wrong-password"},
    )
    assert wrong.exit_code == 1 and "rejected the credentials" in wrong.stderr
    assert "wrong-password" not in wrong.stderr + wrong.stdout

    env = {"MCPKG_REGISTRY_USERNAME": "alice", "MCPKG_REGISTRY_PASSWORD": "s3cret-pass"}
    mcpkg.ok("push", str(fixtures / "answer.wasm"), ref, env=env)

    # Docker's config.json `auths`, as `docker login` writes it
    token = base64.b64encode(b"alice:s3cret-pass").decode()
    (mcpkg.docker / "config.json").write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    got = mcpkg.ok("pull", ref, "--json").json()
    assert got["reference"] == ref
    out = mcpkg.ok("-v", "pull", ref)
    assert "s3cret" not in out.stdout + out.stderr


def test_broken_docker_config_is_a_clear_error(mcpkg: Mcpkg, auth_registry: Registry) -> None:
    (mcpkg.docker / "config.json").write_text("{not json")
    result = mcpkg("pull", f"{auth_registry.host}/private/answer:1.0.0")
    assert result.exit_code == 1 and "Docker config" in result.stderr


def test_json_error_shape(mcpkg: Mcpkg) -> None:
    result = mcpkg("pull", "127.0.0.1:9/x/y:1.0.0", "--json")
    assert result.exit_code == 1
    error = result.json()["error"]
    assert error["type"] == "registry" and "cannot reach registry" in error["message"]


def test_output_directory_missing(mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path) -> None:
    mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:1.0.0")
    result = mcpkg("pull", f"{repo}:1.0.0", "-o", str(tmp_path / "no" / "such" / "x.wasm"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    # a directory as -o gets <repo-name>.wasm inside it
    got = mcpkg.ok("pull", f"{repo}:1.0.0", "-o", str(tmp_path), "--json").json()
    assert got["output"] == str(tmp_path / (repo.rsplit("/", 1)[1] + ".wasm"))
