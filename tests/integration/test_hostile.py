"""A first set of hostile inputs and misbehaving registries (more in the hardening issue):
each ends quickly with a clear error and leaves the cache and the output path untouched."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mcpkg.errors import McpkgError
from mcpkg.signing.keys import load_private_key
from testing import raw
from testing.proxy import PagingProxy
from testing.registry import Registry
from tests.conftest import Mcpkg


def test_hostile_layer_title_is_never_a_path(mcpkg: Mcpkg, fixtures: Path, registry: Registry, tmp_path: Path) -> None:
    wasm = (fixtures / "answer.wasm").read_bytes()
    layer = raw.push_blob(registry.host, "hostile/title", wasm)
    config = json.dumps({"architecture": "wasm", "os": "wasip2", "layerDigests": [layer]}).encode()
    raw.push_blob(registry.host, "hostile/title", config)
    for tag, title in (("1.0.0", "../../escaped.wasm"), ("1.0.1", "/etc/passwd"), ("1.0.2", "nul\x00byte.wasm")):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": raw.descriptor("application/vnd.wasm.config.v0+json", config),
            "layers": [raw.descriptor("application/wasm", wasm, **{"org.opencontainers.image.title": title})],
        }
        raw.push_manifest(registry.host, "hostile/title", tag, manifest)
        out_dir = tmp_path / f"out-{tag}"
        out_dir.mkdir()
        got = mcpkg.ok("pull", f"{registry.host}/hostile/title:{tag}", "-o", str(out_dir), "--json").json()
        assert got["output"] == str(out_dir / "title.wasm")
        assert [p.name for p in out_dir.iterdir()] == ["title.wasm"]
    assert not (tmp_path.parent / "escaped.wasm").exists()


def test_enormous_manifest_is_refused(mcpkg: Mcpkg, paging: PagingProxy) -> None:
    paging.inject("GET", r"/manifests/9\.9\.9$", 200, body=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})  # fmt: skip
    result = mcpkg("pull", f"{paging.host}/hostile/huge:9.9.9", "--json")
    paging.clear()
    assert result.exit_code == 1 and "limit" in result.json()["error"]["message"]
    assert mcpkg.cached_blobs() == []


def test_endless_tag_list_is_cut(mcpkg: Mcpkg, paging: PagingProxy) -> None:
    body = json.dumps({"name": "hostile/endless", "tags": ["1.0.0"]}).encode()
    link = '</v2/hostile/endless/tags/list?last=1.0.0>; rel="next"'
    paging.inject("GET", r"/tags/list", 200, body=body, headers={"Link": link, "Content-Type": "application/json"},
                  times=5000)  # fmt: skip
    result = mcpkg("tags", f"{paging.host}/hostile/endless")
    paging.clear()
    assert result.exit_code == 1 and "does not end" in result.stderr


def test_link_to_another_host_is_refused(mcpkg: Mcpkg, paging: PagingProxy) -> None:
    body = json.dumps({"name": "hostile/away", "tags": ["1.0.0"]}).encode()
    link = '<http://127.0.0.2:9/v2/hostile/away/tags/list?last=1.0.0>; rel="next"'
    paging.inject("GET", r"/tags/list", 200, body=body, headers={"Link": link, "Content-Type": "application/json"})
    result = mcpkg("tags", f"{paging.host}/hostile/away")
    paging.clear()
    assert result.exit_code == 1 and "another host" in result.stderr


def test_manifest_whose_bytes_do_not_match_the_digest(mcpkg: Mcpkg, fixtures: Path, paging: PagingProxy) -> None:
    digest = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{paging.host}/hostile/swap:1.0.0", "--json").json()[
        "digest"
    ]
    other = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
    paging.inject("GET", r"/manifests/sha256:", 200, body=other,
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})  # fmt: skip
    fresh = Mcpkg(mcpkg.home.parent / "fresh")
    result = fresh("pull", f"{paging.host}/hostile/swap@{digest}", "--json")
    paging.clear()
    assert result.exit_code == 1 and result.json()["error"]["type"] == "integrity"
    assert fresh.cached_blobs() == []


def test_signature_layer_digest_differing_from_its_payload(
    mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path
) -> None:
    password = {"COSIGN_PASSWORD": "pw"}
    mcpkg.ok("keygen", "--output-prefix", str(tmp_path / "k"), env=password)
    host, repository = repo.split("/", 1)
    digest = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:1.0.0", "--json").json()["digest"]
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(tmp_path / "k.key"), env=password)
    import requests

    url = f"http://{host}/v2/{repository}/manifests/sha256-{digest.split(':')[1]}.sig"
    manifest = requests.get(url, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10).json()
    # the descriptor now names another blob (a forged payload) but keeps the signature
    forged = json.dumps({"critical": {"identity": {"docker-reference": repo}}}).encode()
    raw.push_blob(host, repository, forged)
    manifest["layers"][0]["digest"] = raw.digest_of(forged)
    manifest["layers"][0]["size"] = len(forged)
    raw.push_manifest(host, repository, f"sha256-{digest.split(':')[1]}.sig", json.dumps(manifest).encode())
    result = mcpkg("verify", f"{repo}:1.0.0", "--key", str(tmp_path / "k.pub"))
    assert result.exit_code == 1 and "not signed by any trusted key" in result.stdout


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"N": 1024, "r": 8, "p": 1}, "unsupported scrypt parameters"),
        ({"N": 65536, "r": 16, "p": 1}, "unsupported scrypt parameters"),
    ],
)
def test_key_files_with_unsupported_parameters(tmp_path: Path, params: dict[str, int], message: str) -> None:
    body = {
        "kdf": {"name": "scrypt", "params": params, "salt": base64.b64encode(b"s" * 32).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(b"n" * 24).decode()},
        "ciphertext": base64.b64encode(b"c" * 64).decode(),
    }
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    key = tmp_path / "bad.key"
    key.write_text(
        f"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{encoded}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    )
    with pytest.raises(McpkgError, match=message):
        load_private_key(key, b"pw")


def test_unsupported_cipher_and_garbage_key(tmp_path: Path) -> None:
    body = {"kdf": {"name": "argon2", "params": {}}, "cipher": {"name": "aes"}, "ciphertext": ""}
    encoded = base64.b64encode(json.dumps(body).encode()).decode()
    key = tmp_path / "bad.key"
    key.write_text(
        f"-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n{encoded}\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n"
    )
    with pytest.raises(McpkgError, match="unsupported key derivation"):
        load_private_key(key, b"pw")
    key.write_text("not a key at all")
    with pytest.raises(McpkgError, match="not a private key"):
        load_private_key(key, b"pw")


def test_endless_or_huge_key_files(tmp_path: Path) -> None:
    from mcpkg.signing.keys import load_public_key

    endless = tmp_path / "endless.pub"
    endless.symlink_to("/dev/zero")  # st_size is 0: only a bounded read stops
    with pytest.raises(McpkgError, match="too large"):
        load_public_key(endless)
    huge = tmp_path / "huge.key"
    huge.write_text("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "A" * (1 << 20))
    with pytest.raises(McpkgError, match="too large"):
        load_private_key(huge, b"pw")
