"""Keyless verification (mcpkg/signing/keyless.py) of real public-good bundles, offline.

The bundles and their provenance are described in tests/data/sigstore/README.md. The
trusted root is the public-good one the sigstore wheel ships (`None`) unless a test
names another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mcpkg.config import IdentityRule
from mcpkg.errors import ConfigError
from mcpkg.signing import keyless
from mcpkg.signing.keyless import MAX_BUNDLE, BundleVerdict, load_trusted_root, verify_bundle
from mcpkg.signing.statement import SLSA_PROVENANCE

DATA = Path(__file__).resolve().parents[2] / "data" / "sigstore"
GITHUB = "https://token.actions.githubusercontent.com"

WHEEL = DATA / "sigstore-python" / "bundle_v3_github.whl"
WHEEL_BUNDLE = DATA / "sigstore-python" / "bundle_v3_github.whl.sigstore"
WHEEL_SAN = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
WHEEL_RULE = IdentityRule(
    issuer=GITHUB,
    repository="trailofbits/rfc8785.py",
    workflow=".github/workflows/release.yml",
    ref="refs/tags/v*",
)

ARTIFACT = DATA / "gh-cli" / "reusable-workflow-artifact"
ATTESTATION = DATA / "gh-cli" / "reusable-workflow-attestation.sigstore.json"
GH_ROOT = DATA / "gh-cli" / "trusted_root.json"
CALLER = "malancas/attest-demo"
REUSABLE_SAN = (
    "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml"
    "@09b495c3f12c7881b3cc17209a327792065c1a1d"
)

OCI_ATTESTATION = DATA / "cosign" / "oci-attestation.sigstore.json"
PGI_ROOT = DATA / "cosign" / "trusted_root_pgi.json"
COSIGN_PREDICATE = "https://cosign.sigstore.dev/attestation/v1"
COSIGN_RULE = IdentityRule(issuer="https://github.com/login/oauth", identity="cody@soyland.com")

TIMESTAMP_ONLY = DATA / "gh-cli" / "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"

OTHER_DIGEST = "sha256:" + "0" * 64


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


WHEEL_DIGEST = sha256_of(WHEEL)
ARTIFACT_DIGEST = sha256_of(ARTIFACT)


def check(bundle: bytes | Path, digest: str, *rules: IdentityRule, root: Path | None = None) -> BundleVerdict:
    data = bundle.read_bytes() if isinstance(bundle, Path) else bundle
    return verify_bundle(data, digest, rules, root, source="test")


@pytest.fixture
def staging_root() -> Iterator[Path]:
    """The sigstage trusted root the sigstore wheel ships, read in place (nothing copied)."""
    shipped = resources.files("sigstore._store").joinpath(
        "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev", "trusted_root.json"
    )
    with resources.as_file(shipped) as path:
        assert path.is_file()
        yield path


# --- sigstore-python: a message signature over a wheel ----------------------------------------


def test_wheel_bundle_verifies_and_reports_who_and_when() -> None:
    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST, WHEEL_RULE)
    assert verdict.valid, verdict.reason
    assert verdict.reason.startswith("matches ")
    assert verdict.kind == "message-signature"
    assert verdict.predicate_type is None
    assert verdict.digest == "sha256:" + hashlib.sha256(WHEEL_BUNDLE.read_bytes()).hexdigest()
    who = verdict.identity
    assert who is not None
    assert who.issuer == GITHUB
    assert who.san == WHEEL_SAN
    assert who.repository == "https://github.com/trailofbits/rfc8785.py"
    assert who.ref == "refs/tags/v0.1.2"
    assert who.workflow == WHEEL_SAN
    assert who.lock_form == f"{GITHUB} {WHEEL_SAN}"
    assert verdict.log_index == 79605083
    assert verdict.integrated_time == 1710888076
    assert verdict.time_text == "2024-03-19T22:41:16Z"
    described = verdict.to_json()
    assert described["valid"] is True and described["content"] == "message-signature"
    assert described["identity"]["repository"] == "https://github.com/trailofbits/rfc8785.py"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (IdentityRule(GITHUB, repository="trailofbits/other"), "source repository"),
        (
            IdentityRule(GITHUB, repository="trailofbits/rfc8785.py", workflow=".github/workflows/ci.yml"),
            "built by",
        ),
        (IdentityRule(GITHUB, repository="trailofbits/rfc8785.py", ref="refs/heads/*"), "does not match refs/heads/*"),
        (IdentityRule("https://accounts.google.com", repository="trailofbits/rfc8785.py"), "issuer"),
        (IdentityRule(GITHUB, identity=WHEEL_SAN.replace("v0.1.2", "v0.1.3")), "identity"),
    ],
)
def test_wheel_bundle_is_refused_for_a_signer_the_policy_does_not_name(rule: IdentityRule, reason: str) -> None:
    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST, rule)
    assert not verdict.valid
    assert verdict.reason.startswith("signer not in the trust policy")
    assert reason in verdict.reason
    assert verdict.identity is not None and verdict.identity.san == WHEEL_SAN  # who signed is still said


def test_wheel_bundle_with_no_rules_says_the_policy_names_nobody() -> None:
    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST)
    assert not verdict.valid
    assert "names no keyless identities" in verdict.reason


def test_any_matching_rule_is_enough() -> None:
    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST, IdentityRule(GITHUB, repository="someone/else"), WHEEL_RULE)
    assert verdict.valid, verdict.reason


def test_wheel_bundle_is_refused_for_another_digest() -> None:
    verdict = check(WHEEL_BUNDLE, OTHER_DIGEST, WHEEL_RULE)
    assert not verdict.valid
    assert verdict.reason.startswith("signs another digest")
    assert WHEEL_DIGEST in verdict.reason


def test_wheel_bundle_is_refused_with_the_staging_root(staging_root: Path) -> None:
    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST, WHEEL_RULE, root=staging_root)
    assert not verdict.valid
    assert "does not verify against the trusted root" in verdict.reason


# --- gh-cli: a GitHub artifact attestation made by a reusable workflow --------------------------


def test_reusable_workflow_attestation_verifies_for_the_caller() -> None:
    verdict = check(ATTESTATION, ARTIFACT_DIGEST, IdentityRule(GITHUB, repository=CALLER))
    assert verdict.valid, verdict.reason
    assert verdict.kind == "dsse"
    assert verdict.predicate_type == SLSA_PROVENANCE
    who = verdict.identity
    assert who is not None
    assert who.san == REUSABLE_SAN
    assert who.repository == f"https://github.com/{CALLER}"
    assert who.workflow == f"https://github.com/{CALLER}/.github/workflows/shared.yml@refs/heads/main"
    assert verdict.log_index is not None and verdict.integrated_time is not None


@pytest.mark.parametrize(
    "rule",
    [
        IdentityRule(GITHUB, repository=CALLER, workflow=".github/workflows/shared.yml"),
        IdentityRule(GITHUB, repository=CALLER, workflow="/.github/workflows/shared.yml", ref="refs/heads/*"),
        IdentityRule(GITHUB, repository="MALANCAS/Attest-Demo"),
        IdentityRule(GITHUB, identity=REUSABLE_SAN),
    ],
)
def test_reusable_workflow_attestation_matches_build_config_and_san(rule: IdentityRule) -> None:
    verdict = check(ATTESTATION, ARTIFACT_DIGEST, rule)
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize(
    "rule",
    [
        # the reusable workflow's repository is not the source repository
        IdentityRule(GITHUB, repository="github/artifact-attestations-workflows"),
        # the SAN names attest.yml, but the build config URI (what `workflow` checks) is shared.yml
        IdentityRule(GITHUB, repository=CALLER, workflow=".github/workflows/attest.yml"),
        IdentityRule(GITHUB, repository=CALLER, ref="refs/tags/*"),
    ],
)
def test_reusable_workflow_attestation_refused_for_other_rules(rule: IdentityRule) -> None:
    verdict = check(ATTESTATION, ARTIFACT_DIGEST, rule)
    assert not verdict.valid
    assert verdict.reason.startswith("signer not in the trust policy")


def test_reusable_workflow_attestation_verifies_with_its_own_trusted_root() -> None:
    verdict = check(ATTESTATION, ARTIFACT_DIGEST, IdentityRule(GITHUB, repository=CALLER), root=GH_ROOT)
    assert verdict.valid, verdict.reason
    assert verdict.predicate_type == SLSA_PROVENANCE


def test_reusable_workflow_attestation_refused_for_another_digest() -> None:
    verdict = check(ATTESTATION, OTHER_DIGEST, IdentityRule(GITHUB, repository=CALLER))
    assert not verdict.valid
    assert verdict.reason.startswith("signs another digest")
    assert ARTIFACT_DIGEST in verdict.reason


# --- cosign: an attestation that verifies but is not a signature -------------------------------


def oci_subject_digest() -> str:
    envelope = json.loads(OCI_ATTESTATION.read_bytes())["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["predicateType"] == COSIGN_PREDICATE
    (subject,) = statement["subject"]
    return "sha256:" + str(subject["digest"]["sha256"])


@pytest.mark.parametrize("which", ["subject", "other"])
@pytest.mark.parametrize("root", [None, PGI_ROOT])
def test_oci_attestation_is_refused_for_its_predicate_type(which: str, root: Path | None) -> None:
    digest = oci_subject_digest() if which == "subject" else OTHER_DIGEST
    verdict = check(OCI_ATTESTATION, digest, COSIGN_RULE, root=root)
    assert not verdict.valid
    assert "predicate type" in verdict.reason and COSIGN_PREDICATE in verdict.reason
    assert verdict.predicate_type == COSIGN_PREDICATE
    assert verdict.kind == "dsse"
    assert verdict.identity is not None and verdict.identity.san == "cody@soyland.com"


# --- bundles that cannot be verified offline, or are not bundles -------------------------------


def test_timestamp_only_bundle_cannot_be_verified_offline() -> None:
    verdict = check(TIMESTAMP_ONLY, ARTIFACT_DIGEST, IdentityRule(GITHUB, repository=CALLER))
    assert not verdict.valid
    assert "cannot be verified offline" in verdict.reason
    assert "no transparency-log entry" in verdict.reason


def _flip_signature_byte(body: dict[str, Any]) -> None:
    if "messageSignature" in body:
        holder, key = body["messageSignature"], "signature"
    else:
        holder, key = body["dsseEnvelope"]["signatures"][0], "sig"
    raw = bytearray(base64.b64decode(holder[key]))
    raw[len(raw) // 2] ^= 0x01
    holder[key] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("bundle", "digest", "rule"),
    [
        (WHEEL_BUNDLE, WHEEL_DIGEST, WHEEL_RULE),
        (ATTESTATION, ARTIFACT_DIGEST, IdentityRule(GITHUB, repository=CALLER)),
    ],
    ids=["message-signature", "dsse"],
)
def test_a_flipped_signature_byte_is_refused(bundle: Path, digest: str, rule: IdentityRule) -> None:
    assert check(bundle, digest, rule).valid  # the untouched bundle verifies
    body = json.loads(bundle.read_bytes())
    _flip_signature_byte(body)
    verdict = check(json.dumps(body).encode(), digest, rule)
    assert not verdict.valid
    assert "does not verify" in verdict.reason


def test_an_oversized_bundle_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from sigstore.models import Bundle

    def never(*args: object) -> None:
        raise AssertionError("an oversized bundle must not be parsed")

    monkeypatch.setattr(Bundle, "from_json", never)
    body = json.loads(WHEEL_BUNDLE.read_bytes())
    body["padding"] = "x" * (2 * 1024 * 1024)
    data = json.dumps(body).encode()
    assert len(data) > MAX_BUNDLE
    verdict = check(data, WHEEL_DIGEST, WHEEL_RULE)
    assert not verdict.valid
    assert "more than mcpkg reads" in verdict.reason and str(MAX_BUNDLE) in verdict.reason


@pytest.mark.parametrize(
    "data",
    [b"garbage", b"\xff\xfe\x00not text", b"[1, 2, 3]", b'"a string"', b'{"mediaType": "application/json"}', b"{}"],
)
def test_what_is_not_a_bundle_is_refused(data: bytes) -> None:
    verdict = check(data, WHEEL_DIGEST, WHEEL_RULE)
    assert not verdict.valid
    assert verdict.reason.startswith("not a Sigstore bundle")
    assert verdict.identity is None


# --- the trusted root ------------------------------------------------------------------------


def test_load_trusted_root_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_trusted_root(tmp_path / "nowhere.json")
    assert "does not exist" in caught.value.message
    assert str(tmp_path / "nowhere.json") in caught.value.message
    assert caught.value.hint is not None and "trusted-root" in caught.value.hint


def test_load_trusted_root_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "root.json"
    path.write_text("this is { not json")
    with pytest.raises(ConfigError) as caught:
        load_trusted_root(path)
    assert "is not a valid Sigstore trusted root" in caught.value.message
    assert str(path) in caught.value.message


def test_load_trusted_root_refuses_another_media_type(tmp_path: Path) -> None:
    body = json.loads(GH_ROOT.read_bytes())
    assert body["mediaType"] == "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    assert load_trusted_root(GH_ROOT) is not None  # the file as it is loads
    body["mediaType"] = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
    path = tmp_path / "root.json"
    path.write_text(json.dumps(body))
    with pytest.raises(ConfigError) as caught:
        load_trusted_root(path)
    assert "is not a valid Sigstore trusted root" in caught.value.message
    assert caught.value.hint is not None and "trustedroot+json" in caught.value.hint


def test_a_bad_trusted_root_fails_verification_with_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("{}")
    with pytest.raises(ConfigError):
        check(WHEEL_BUNDLE, WHEEL_DIGEST, WHEEL_RULE, root=path)


def test_the_default_root_is_read_in_place_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = {name: tmp_path / name for name in ("home", "data", "cache", "config")}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.setenv("HOME", str(folders["home"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(folders["data"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folders["cache"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folders["config"]))
    loads: list[Path | None] = []
    real_load = keyless.load_trusted_root

    def counting_load(path: Path | None) -> Any:
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(keyless, "_trust", keyless._TrustCache())  # load the root afresh
    monkeypatch.setattr(keyless, "load_trusted_root", counting_load)

    verdict = check(WHEEL_BUNDLE, WHEEL_DIGEST, WHEEL_RULE)
    assert verdict.valid, verdict.reason
    assert loads == [None]  # the default root was loaded by this test
    assert check(ATTESTATION, ARTIFACT_DIGEST, IdentityRule(GITHUB, repository=CALLER)).valid
    assert loads == [None]  # and then cached
    for name, folder in folders.items():
        assert list(folder.rglob("*")) == [], f"{name} folder was written to"
