"""cosign-format signing and verification, and the trust policy, against a real registry."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mcpkg.config import TrustScope
from mcpkg.signing.policy import policy_for
from testing import raw
from tests.conftest import Mcpkg

COSIGN_DIR = Path(__file__).resolve().parents[1] / "data" / "cosign"  # keys cosign wrote; see its README.md
PASSWORD = {"COSIGN_PASSWORD": "correct horse"}


@pytest.fixture
def keypair(mcpkg: Mcpkg, tmp_path: Path) -> tuple[Path, Path]:
    prefix = tmp_path / "keys" / "signer"
    mcpkg.ok("keygen", "--output-prefix", str(prefix), env=PASSWORD)
    return prefix.with_suffix(".key"), prefix.with_suffix(".pub")


def _second_keypair(mcpkg: Mcpkg, tmp_path: Path, name: str) -> tuple[Path, Path]:
    prefix = tmp_path / "keys" / name
    mcpkg.ok("keygen", "--output-prefix", str(prefix), env=PASSWORD)
    return prefix.with_suffix(".key"), prefix.with_suffix(".pub")


def _push(mcpkg: Mcpkg, fixtures: Path, ref: str) -> str:
    return str(mcpkg.ok("push", str(fixtures / "greeter.wasm"), ref, "--json").json()["digest"])


def test_sign_verify_round_trip(mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path]) -> None:
    key, pub = keypair
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert "ENCRYPTED SIGSTORE PRIVATE KEY" in key.read_text()
    digest = _push(mcpkg, fixtures, f"{repo}:1.0.0")
    unsigned = mcpkg("verify", f"{repo}:1.0.0", "--key", str(pub), "--json")
    assert unsigned.exit_code == 1 and unsigned.json()["error"]["type"] == "signature"
    signed = mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key), "--json", env=PASSWORD).json()
    assert signed["digest"] == digest and signed["signatures"] == 1
    result = mcpkg.ok("verify", f"{repo}:1.0.0", "--key", str(pub), "--json").json()
    assert result["verified"] is True and result["digest"] == digest
    assert result["signatures"][0]["version"] == "1.0.0" and result["key-ids"] == [signed["key-id"]]
    # by digest (no version claim check) too
    assert mcpkg.ok("verify", f"{repo}@{digest}", "--key", str(pub), "--json").json()["verified"]
    # `sha256-<hex>.sig` shows up only with --all
    assert f"sha256-{digest.split(':')[1]}.sig" in mcpkg.ok("tags", repo, "--all").stdout
    assert ".sig" not in mcpkg.ok("tags", repo).stdout


def test_cosign_made_keys_sign(mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path) -> None:
    digest = _push(mcpkg, fixtures, f"{repo}:2.0.0")
    for name in ("sigstore_test.key", "cosign_ec_test.key"):
        key_path = COSIGN_DIR / name
        mcpkg.ok("sign", f"{repo}:2.0.0", "--key", str(key_path), env={"COSIGN_PASSWORD": "hello"})
    # derive the public keys independently of mcpkg and verify with each
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    from nacl.secret import SecretBox

    for name in ("sigstore_test.key", "cosign_ec_test.key"):
        pem = (COSIGN_DIR / name).read_text()
        body = json.loads(base64.b64decode("".join(pem.strip().splitlines()[1:-1])))
        params = body["kdf"]["params"]
        secret = Scrypt(base64.b64decode(body["kdf"]["salt"]), 32, params["N"], params["r"], params["p"]).derive(
            b"hello"
        )
        der = SecretBox(secret).decrypt(base64.b64decode(body["ciphertext"]), base64.b64decode(body["cipher"]["nonce"]))
        private = serialization.load_der_private_key(der, None)
        pub = tmp_path / f"{name}.pub"
        pub.write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        assert mcpkg.ok("verify", f"{repo}:2.0.0", "--key", str(pub), "--json").json()["verified"]
    wrong = mcpkg(
        "sign", f"{repo}:2.0.0", "--key", str(COSIGN_DIR / "sigstore_test.key"), env={"COSIGN_PASSWORD": "nope"}
    )
    assert wrong.exit_code == 1 and "wrong password" in wrong.stderr
    assert "PRIVATE KEY" not in wrong.stdout + wrong.stderr and "hello" not in wrong.stderr
    assert digest


def test_two_signers_and_a_wrong_key(
    mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path], tmp_path: Path
) -> None:
    key_a, pub_a = keypair
    key_b, pub_b = _second_keypair(mcpkg, tmp_path, "second")
    _, pub_c = _second_keypair(mcpkg, tmp_path, "stranger")
    _push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key_a), env=PASSWORD)
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key_b), env=PASSWORD)
    both = mcpkg.ok("verify", f"{repo}:1.0.0", "--key", str(pub_a), "--key", str(pub_b), "--json").json()
    assert len(both["signatures"]) == 2 and len(both["key-ids"]) == 2
    only_b = mcpkg.ok("verify", f"{repo}:1.0.0", "--key", str(pub_b), "--json").json()
    assert [s["valid"] for s in only_b["signatures"]] == [False, True]
    stranger = mcpkg("verify", f"{repo}:1.0.0", "--key", str(pub_c))
    assert stranger.exit_code == 1 and stranger.stdout.count("not signed by any trusted key") == 2


def _sig_manifest(registry_host: str, repository: str, digest: str) -> dict[str, object]:
    url = f"http://{registry_host}/v2/{repository}/manifests/sha256-{digest.split(':')[1]}.sig"
    response = requests.get(url, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10)
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


def test_signature_moved_to_another_digest_or_repository(
    mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path]
) -> None:
    key, pub = keypair
    host, repository = repo.split("/", 1)
    env = {**PASSWORD, "SOURCE_DATE_EPOCH": "1700000000"}
    signed_digest = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0", "--json", env=env).json()[
        "digest"
    ]
    other_digest = mcpkg.ok("push", str(fixtures / "logger.wasm"), f"{repo}:1.1.0", "--json", env=env).json()["digest"]
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key), env=PASSWORD)
    manifest = json.dumps(_sig_manifest(host, repository, signed_digest)).encode()
    # the .sig manifest copied onto the other digest's signature tag
    raw.push_manifest(host, repository, f"sha256-{other_digest.split(':')[1]}.sig", manifest)
    moved = mcpkg("verify", f"{repo}:1.1.0", "--key", str(pub))
    assert moved.exit_code == 1 and f"signs another digest ({signed_digest})" in moved.stdout

    # the same content in another repository, with the signature copied along
    other_repo = f"{repository}-copy"
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{host}/{other_repo}:1.0.0", "--json", env=env)
    for layer in json.loads(manifest)["layers"]:
        payload = requests.get(f"http://{host}/v2/{repository}/blobs/{layer['digest']}", timeout=10).content
        raw.push_blob(host, other_repo, payload)
    config = json.loads(manifest)["config"]
    raw.push_blob(
        host, other_repo, requests.get(f"http://{host}/v2/{repository}/blobs/{config['digest']}", timeout=10).content
    )
    raw.push_manifest(host, other_repo, f"sha256-{signed_digest.split(':')[1]}.sig", manifest)
    copied = mcpkg("verify", f"{host}/{other_repo}:1.0.0", "--key", str(pub))
    assert copied.exit_code == 1 and f"signs another repository ({repo}, not {host}/{other_repo})" in copied.stdout


def test_tag_moved_after_signing(mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path]) -> None:
    key, pub = keypair
    host, repository = repo.split("/", 1)
    digest = _push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key), env=PASSWORD)
    manifest = requests.get(
        f"http://{host}/v2/{repository}/manifests/{digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=10,
    ).content  # fmt: skip
    raw.push_manifest(host, repository, "2.0.0", manifest)  # tag 2.0.0 now names the signed digest
    moved = mcpkg("verify", f"{repo}:2.0.0", "--key", str(pub))
    assert moved.exit_code == 1 and "version claim '1.0.0' does not match tag '2.0.0'" in moved.stdout


@pytest.mark.parametrize(
    ("annotation", "reason"), [("!!!not base64", "not valid base64"), ("AAAA", "not signed by any trusted key")]
)
def test_garbage_signature_annotation(
    mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path], annotation: str, reason: str
) -> None:
    key, pub = keypair
    host, repository = repo.split("/", 1)
    digest = _push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key), env=PASSWORD)
    manifest = _sig_manifest(host, repository, digest)
    layers = manifest["layers"]
    assert isinstance(layers, list)
    layers[0]["annotations"]["dev.cosignproject.cosign/signature"] = annotation
    raw.push_manifest(host, repository, f"sha256-{digest.split(':')[1]}.sig", json.dumps(manifest).encode())
    result = mcpkg("verify", f"{repo}:1.0.0", "--key", str(pub))
    assert result.exit_code == 1 and reason in result.stdout


def test_requiring_policy_on_pull(
    mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path], tmp_path: Path
) -> None:
    key, pub = keypair
    host, repository = repo.split("/", 1)
    digest = _push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(f'[trust."{host}/{repository.split("/")[0]}/*"]\nkeys = ["{pub}"]\nrequire = true\n')
    out = tmp_path / "out.wasm"
    refused = mcpkg("pull", f"{repo}:1.0.0", "-o", str(out), "--json")
    assert refused.exit_code == 1 and refused.json()["error"]["type"] == "signature"
    assert "unsigned" in refused.json()["error"]["message"]
    assert not out.exists() and mcpkg.cached_blobs() == []
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(key), env=PASSWORD)
    pulled = mcpkg.ok("pull", f"{repo}:1.0.0", "-o", str(out), "--json").json()
    assert pulled["signature"].startswith("verified (SHA256:") and pulled["digest"] == digest
    assert out.exists()


def test_project_cannot_weaken_user_require(tmp_path: Path) -> None:
    user = (TrustScope("reg.io/team/*", (tmp_path / "user.pub",), True),)
    project = (TrustScope("reg.io/team/*", (tmp_path / "project.pub",), False), TrustScope("reg.io/*", (), False))
    policy = policy_for("reg.io/team/tools", user, project)
    assert policy.require is True
    assert policy.keys == (tmp_path / "user.pub", tmp_path / "project.pub")
    assert policy_for("reg.io/other/x", user, project).require is False
    assert policy_for("other.io/team/tools", user, project).applies is False


def test_independent_verification_of_mcpkg_signatures(
    mcpkg: Mcpkg, fixtures: Path, repo: str, keypair: tuple[Path, Path]
) -> None:
    """Checks mcpkg's signature bytes and payload with code written here from the format
    description (docs/signing.md), using only `cryptography` and HTTP."""
    key, pub = keypair
    host, repository = repo.split("/", 1)
    digest = _push(mcpkg, fixtures, f"{repo}:3.1.0")
    mcpkg.ok("sign", f"{repo}:3.1.0", "--key", str(key), env=PASSWORD)
    manifest = _sig_manifest(host, repository, digest)
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = manifest["config"]
    assert isinstance(config, dict) and config["mediaType"] == "application/vnd.oci.image.config.v1+json"
    layers = manifest["layers"]
    assert isinstance(layers, list) and len(layers) == 1
    layer = layers[0]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    payload = requests.get(f"http://{host}/v2/{repository}/blobs/{layer['digest']}", timeout=10).content
    assert "sha256:" + hashlib.sha256(payload).hexdigest() == layer["digest"] and len(payload) == layer["size"]
    expected = (
        (
            '{"critical":{"identity":{"docker-reference":"REPO"},"image":{"docker-manifest-digest":"DIGEST"},'
            '"type":"cosign container image signature"},"optional":{"org.opencontainers.image.version":"3.1.0"}}'
        )
        .replace("REPO", repo)
        .replace("DIGEST", digest)
    )
    assert payload.decode() == expected
    signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    public = serialization.load_pem_public_key(pub.read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, payload, ec.ECDSA(hashes.SHA256()))  # raises if invalid
