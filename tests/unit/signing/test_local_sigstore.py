"""testing/sigstore_local.py: sigstore-python (and, where installed, sigstore-js) sign and verify
against a LocalSigstore on loopback, and refuse what they should."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from sigstore._internal.fulcio.client import FulcioClientError
from sigstore.dsse import DigestSet, StatementBuilder, Subject
from sigstore.errors import Error, VerificationError
from sigstore.hashes import Hashed
from sigstore.models import Bundle, TrustedRoot
from sigstore.oidc import IdentityToken
from sigstore.verify import Verifier, policy
from sigstore_models.common.v1 import HashAlgorithm

from testing.sigstore_local import (
    DEFAULT_EMAIL,
    EMAIL_ISSUER,
    GITHUB_ISSUER,
    LocalSigstore,
    github_claims,
    github_identity,
)

REPOSITORY = "acme/widget"
ARTIFACT = b"component bytes\n"
DIGEST = "3b0d9c4b5f0c5e0f3f0f5d6f6a3b2b6f0b8c9d7e8f9a0b1c2d3e4f5a6b7c8d9e"


@pytest.fixture(scope="module")
def no_proxy() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        mp.setenv("no_proxy", "127.0.0.1,localhost")
        yield


@pytest.fixture(scope="module")
def local(no_proxy: None) -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture(scope="module")
def foreign(no_proxy: None) -> Iterator[LocalSigstore]:
    with LocalSigstore(name="foreign") as instance:
        yield instance


def verifier(instance: LocalSigstore) -> Verifier:
    return Verifier(trusted_root=TrustedRoot.from_file(str(instance.trusted_root_path)))


def statement_bytes() -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "widget.wasm", "digest": {"sha256": DIGEST}}],
            "predicateType": "https://example.test/predicate/v1",
            "predicate": {},
        }
    ).encode()


def sign_github_dsse(instance: LocalSigstore) -> Bundle:
    statement = (
        StatementBuilder()
        .subjects([Subject(name="widget.wasm", digest=DigestSet({"sha256": DIGEST}))])
        .predicate_type("https://example.test/predicate/v1")
        .predicate({"built": True})
        .build()
    )
    token = IdentityToken(instance.token(github_claims(REPOSITORY)))
    with instance.signing_context().signer(token) as signer:
        return signer.sign_dsse(statement)


def test_signer_dsse_bundle_verifies_with_identity_and_source_repository(local: LocalSigstore) -> None:
    bundle = Bundle.from_json(sign_github_dsse(local).to_json())
    claims = github_claims(REPOSITORY)
    san = github_identity(claims)
    assert san == f"https://github.com/{REPOSITORY}/.github/workflows/release.yml@refs/heads/main"

    payload_type, payload = verifier(local).verify_dsse(bundle, policy.Identity(identity=san, issuer=GITHUB_ISSUER))
    assert payload_type == "application/vnd.in-toto+json"
    assert json.loads(payload)["subject"][0]["digest"]["sha256"] == DIGEST

    verifier(local).verify_dsse(
        bundle,
        policy.AllOf(
            [
                policy.OIDCIssuerV2(GITHUB_ISSUER),
                policy.OIDCSourceRepositoryURI(f"https://github.com/{REPOSITORY}"),
                policy.OIDCSourceRepositoryRef("refs/heads/main"),
                policy.OIDCBuildConfigURI(f"https://github.com/{claims['workflow_ref']}"),
                policy.OIDCBuildSignerURI(san),
                policy.OIDCRunnerEnvironment("github-hosted"),
                policy.OIDCBuildTrigger("push"),
            ]
        ),
    )
    with pytest.raises(VerificationError):
        verifier(local).verify_dsse(bundle, policy.OIDCSourceRepositoryURI("https://github.com/acme/other"))
    with pytest.raises(VerificationError):
        verifier(local).verify_dsse(bundle, policy.Identity(identity=san, issuer=EMAIL_ISSUER))


def test_certificate_has_fulcio_extensions_and_one_sct(local: LocalSigstore) -> None:
    cert = sign_github_dsse(local).signing_certificate

    def ext(suffix: int) -> bytes:
        value = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{suffix}")).value
        assert isinstance(value, x509.UnrecognizedExtension)
        return value.value

    def utf8(text: str) -> bytes:
        return bytes([0x0C, len(text)]) + text.encode()

    assert ext(1) == GITHUB_ISSUER.encode()  # legacy: raw bytes
    assert ext(8) == utf8(GITHUB_ISSUER)  # v2: DER UTF8String
    assert ext(12) == utf8(f"https://github.com/{REPOSITORY}")
    assert ext(14) == utf8("refs/heads/main")
    assert ext(18) == utf8(f"https://github.com/{REPOSITORY}/.github/workflows/release.yml@refs/heads/main")
    scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    assert len(list(scts)) == 1
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(minutes=10)


def test_sign_artifact_bundle_verifies_with_verify_artifact(local: LocalSigstore) -> None:
    with local.signing_context().signer(IdentityToken(local.token())) as signer:
        bundle = Bundle.from_json(signer.sign_artifact(ARTIFACT).to_json())
    identity = policy.Identity(identity=DEFAULT_EMAIL, issuer=EMAIL_ISSUER)
    verifier(local).verify_artifact(ARTIFACT, bundle, identity)
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=hashlib.sha256(ARTIFACT).digest())
    verifier(local).verify_artifact(hashed, bundle, identity)
    with pytest.raises(VerificationError):
        verifier(local).verify_artifact(ARTIFACT + b"x", bundle, identity)


def test_bundle_from_another_instance_is_refused(local: LocalSigstore, foreign: LocalSigstore) -> None:
    bundle = Bundle.from_json(sign_github_dsse(foreign).to_json())
    san = github_identity(github_claims(REPOSITORY))
    verifier(foreign).verify_dsse(bundle, policy.Identity(identity=san, issuer=GITHUB_ISSUER))
    with pytest.raises(VerificationError, match="certificate chain"):
        verifier(local).verify_dsse(bundle, policy.Identity(identity=san, issuer=GITHUB_ISSUER))


def test_fulcio_refuses_a_token_from_another_instance(local: LocalSigstore, foreign: LocalSigstore) -> None:
    # sigstore-python drops Fulcio's error message on 4xx (`if http_error.response:` is False for them).
    with (
        pytest.raises(FulcioClientError) as refused,
        local.signing_context().signer(IdentityToken(foreign.token())),
    ):
        pass
    cause = refused.value.__cause__
    assert isinstance(cause, requests.HTTPError)
    assert cause.response is not None
    assert cause.response.status_code == 401


def test_offline_bundles_verify(local: LocalSigstore) -> None:
    identity = policy.Identity(identity=DEFAULT_EMAIL, issuer=EMAIL_ISSUER)
    dsse = Bundle.from_json(local.issue_bundle_dsse(b"not a statement", "application/x-anything"))
    assert verifier(local).verify_dsse(dsse, identity) == ("application/x-anything", b"not a statement")
    message = Bundle.from_json(local.issue_bundle_message(ARTIFACT))
    verifier(local).verify_artifact(ARTIFACT, message, identity)


def test_certificate_expired_before_integrated_time_is_refused(local: LocalSigstore) -> None:
    text = local.issue_bundle_dsse(
        statement_bytes(),
        cert_not_before=datetime.timedelta(minutes=-20),
        cert_not_after=datetime.timedelta(minutes=-10),
    )
    bundle = Bundle.from_json(text)
    integrated = bundle.log_entry._inner.integrated_time
    assert integrated is not None
    assert bundle.signing_certificate.not_valid_after_utc.timestamp() < integrated
    with pytest.raises(VerificationError, match=r"expired|not valid|validity"):
        verifier(local).verify_dsse(bundle, policy.Identity(identity=DEFAULT_EMAIL, issuer=EMAIL_ISSUER))


def test_dsse_envelope_with_two_signatures_is_refused(local: LocalSigstore) -> None:
    bundle = Bundle.from_json(local.issue_bundle_dsse(statement_bytes(), extra_signature=True))
    assert len(json.loads(bundle.to_json())["dsseEnvelope"]["signatures"]) == 2
    # sigstore-python raises dsse.InvalidEnvelope (an Error, *not* a VerificationError) here.
    with pytest.raises(Error, match="exactly one signature"):
        verifier(local).verify_dsse(bundle, policy.Identity(identity=DEFAULT_EMAIL, issuer=EMAIL_ISSUER))


def test_signing_context_from_files_writes_nothing_of_sigstore_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy: None
) -> None:
    for variable in ("HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / "home" / variable))
    with LocalSigstore(tmp_path / "sigstore") as instance:
        assert sorted(p.name for p in (tmp_path / "sigstore").iterdir()) == [
            "client_trust_config.json",
            "signing_config.json",
            "trusted_root.json",
        ]
        with instance.signing_context().signer(IdentityToken(instance.token())) as signer:
            signer.sign_artifact(ARTIFACT)
    assert not (tmp_path / "home").exists()


# --- sigstore-js, when installed (npm install --prefix .venv/node ...) ------------------------------

NODE_PREFIX = Path(os.environ.get("MCPKG_NODE_PREFIX", Path(__file__).parents[3] / ".venv" / "node"))
SCRIPT = Path(__file__).parents[3] / "testing" / "sigstore_verify.mjs"
SIGSTORE_JS_MISSING = (
    f"node, or @sigstore/verify under {NODE_PREFIX}, is missing: ./scripts/setup installs it"
    if shutil.which("node") is None or not (NODE_PREFIX / "node_modules" / "@sigstore" / "verify").is_dir()
    else None
)


def sigstore_js(trusted_root: Path, bundle: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert SIGSTORE_JS_MISSING is None, SIGSTORE_JS_MISSING
    path = tmp_path / "bundle.json"
    path.write_text(bundle)
    return subprocess.run(
        ["node", str(SCRIPT), str(trusted_root), str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MCPKG_NODE_PREFIX": str(NODE_PREFIX)},
        check=False,
    )


def test_sigstore_js_agrees(local: LocalSigstore, foreign: LocalSigstore, tmp_path: Path) -> None:
    san = github_identity(github_claims(REPOSITORY))
    bundle = sign_github_dsse(local).to_json()
    ok = sigstore_js(local.trusted_root_path, bundle, tmp_path, "--identity", san, "--issuer", GITHUB_ISSUER)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "identity": san,
        "issuer": GITHUB_ISSUER,
        "payloadType": "application/vnd.in-toto+json",
    }

    artifact = tmp_path / "artifact"
    artifact.write_bytes(ARTIFACT)
    message = local.issue_bundle_message(ARTIFACT)
    assert sigstore_js(local.trusted_root_path, message, tmp_path, "--artifact", str(artifact)).returncode == 0

    wrong_identity = sigstore_js(local.trusted_root_path, bundle, tmp_path, "--identity", "https://github.com/x")
    assert wrong_identity.returncode == 1
    untrusted = sigstore_js(foreign.trusted_root_path, bundle, tmp_path)
    assert untrusted.returncode == 1
    assert "CERTIFICATE_ERROR" in untrusted.stderr
    expired = local.issue_bundle_dsse(
        statement_bytes(),
        cert_not_before=datetime.timedelta(minutes=-20),
        cert_not_after=datetime.timedelta(minutes=-10),
    )
    refused = sigstore_js(local.trusted_root_path, expired, tmp_path)
    assert refused.returncode == 1
    assert "CERTIFICATE_ERROR" in refused.stderr


def test_trusted_root_names_the_instance(local: LocalSigstore) -> None:
    root = json.loads(local.trusted_root_path.read_text())
    assert root["mediaType"] == "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    assert root["tlogs"][0]["baseUrl"] == local.url
    certificates = root["certificateAuthorities"][0]["certChain"]["certificates"]
    chain = [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"])) for c in certificates]
    assert chain == [local.intermediate_certificate, local.root_certificate]
    assert root["ctlogs"][0]["logId"]["keyId"] != root["tlogs"][0]["logId"]["keyId"]
    config = json.loads(local.signing_config_path.read_text())
    assert config["mediaType"] == "application/vnd.dev.sigstore.signingconfig.v0.2+json"
    assert config["caUrls"][0]["url"] == config["rekorTlogUrls"][0]["url"] == local.url
