"""Keyless verification (keyless.verify_bundle) of bundles a LocalSigstore issues, including
the hostile ones sigstore-python's Signer never makes, and `lock --check`'s offline
acceptance of recorded signers (recorded.recorded_problem)."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mcpkg.config import IdentityRule
from mcpkg.signing.keyless import BundleVerdict, bundle_digest, verify_bundle
from mcpkg.signing.keys import key_id
from mcpkg.signing.policy import Policy
from mcpkg.signing.recorded import bundle_identity, pem_key_id, recorded_problem
from mcpkg.signing.statement import COSIGN_SIGN, SLSA_PROVENANCE, statement_for
from testing.sigstore_local import GITHUB_ISSUER, LocalSigstore, github_claims, github_identity

REPOSITORY = "acme/widget"
MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OTHER_DIGEST = "sha256:" + "ee" * 32
RULE = IdentityRule(GITHUB_ISSUER, repository=REPOSITORY, workflow=".github/workflows/release.yml")
OTHER_RULE = IdentityRule(GITHUB_ISSUER, repository="acme/other")
SAN = github_identity(github_claims(REPOSITORY))


@pytest.fixture(scope="module")
def local() -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture(scope="module")
def foreign() -> Iterator[LocalSigstore]:
    with LocalSigstore(name="foreign") as instance:
        yield instance


def github_token(instance: LocalSigstore, repository: str = REPOSITORY) -> str:
    return instance.token(github_claims(repository))


def payload(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def check(
    local: LocalSigstore, bundle: str, digest: str = DIGEST, rules: tuple[IdentityRule, ...] = (RULE,)
) -> BundleVerdict:
    return verify_bundle(bundle.encode(), digest, rules, local.trusted_root_path, source="test")


@pytest.fixture(scope="module")
def signed(local: LocalSigstore) -> str:
    """A cosign v3 bundle: DSSE over the `cosign/sign/v1` statement of DIGEST, signed from GitHub Actions."""
    return local.issue_bundle_dsse(payload(statement_for(DIGEST)), token=github_token(local))


def test_a_cosign_v3_statement_verifies_for_its_signer(local: LocalSigstore, signed: str) -> None:
    verdict = check(local, signed)
    assert verdict.valid, verdict.reason
    assert verdict.kind == "dsse"
    assert verdict.predicate_type == COSIGN_SIGN
    assert verdict.digest == bundle_digest(signed.encode())
    assert verdict.identity is not None
    assert verdict.identity.san == SAN
    assert verdict.identity.repository == f"https://github.com/{REPOSITORY}"
    assert verdict.log_index is not None and verdict.integrated_time is not None


def test_a_cosign_v3_statement_is_refused_for_another_signer(local: LocalSigstore, signed: str) -> None:
    verdict = check(local, signed, rules=(OTHER_RULE,))
    assert not verdict.valid
    assert verdict.reason.startswith("signer not in the trust policy")
    assert "acme/other" in verdict.reason
    email = IdentityRule("https://oauth2.sigstore.dev/auth", identity=SAN)
    assert not check(local, signed, rules=(email,)).valid


def test_a_bundle_signed_for_another_repository_is_refused(local: LocalSigstore) -> None:
    bundle = local.issue_bundle_dsse(payload(statement_for(DIGEST)), token=github_token(local, "evil/widget"))
    verdict = check(local, bundle)
    assert not verdict.valid and "source repository https://github.com/evil/widget" in verdict.reason


def test_the_bundle_is_refused_for_another_digest(local: LocalSigstore, signed: str) -> None:
    verdict = check(local, signed, digest=OTHER_DIGEST)
    assert not verdict.valid
    assert verdict.reason == f"signs another digest ({DIGEST})"


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        (datetime.timedelta(minutes=-30), datetime.timedelta(minutes=-20)),  # expired before the log saw it
        (datetime.timedelta(minutes=20), datetime.timedelta(minutes=30)),  # not yet valid when the log saw it
    ],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_not_valid_at_the_integrated_time_is_refused(
    local: LocalSigstore, not_before: datetime.timedelta, not_after: datetime.timedelta
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    bundle = local.issue_bundle_dsse(
        payload(statement_for(DIGEST)),
        token=github_token(local),
        cert_not_before=not_before,
        cert_not_after=not_after,
        integrated_time=now,
    )
    verdict = check(local, bundle)
    assert not verdict.valid
    assert "was not valid when the log saw the signature" in verdict.reason  # the certificate's validity is what failed
    assert verdict.identity is not None and verdict.identity.san == SAN


def test_a_certificate_valid_at_the_integrated_time_verifies(local: LocalSigstore) -> None:
    # the certificate has since expired, but it was valid when the log saw the signature
    then = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=25)
    bundle = local.issue_bundle_dsse(
        payload(statement_for(DIGEST)),
        token=github_token(local),
        cert_not_before=datetime.timedelta(minutes=-30),
        cert_not_after=datetime.timedelta(minutes=-20),
        integrated_time=then,
    )
    verdict = check(local, bundle)
    assert verdict.valid, verdict.reason


def test_two_dsse_signatures_are_refused(local: LocalSigstore) -> None:
    bundle = local.issue_bundle_dsse(payload(statement_for(DIGEST)), token=github_token(local), extra_signature=True)
    assert len(json.loads(bundle)["dsseEnvelope"]["signatures"]) == 2
    verdict = check(local, bundle)
    assert not verdict.valid
    assert "2 signatures" in verdict.reason


def test_a_cosign_signature_statement_with_two_subjects_is_refused(local: LocalSigstore) -> None:
    body = statement_for(DIGEST)
    body["subject"].append({"digest": {"sha256": OTHER_DIGEST.partition(":")[2]}})
    verdict = check(local, local.issue_bundle_dsse(payload(body), token=github_token(local)))
    assert not verdict.valid
    assert verdict.predicate_type == COSIGN_SIGN
    assert "names one subject; this one names 2" in verdict.reason


def test_provenance_naming_the_digest_among_its_subjects_verifies(local: LocalSigstore) -> None:
    body = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "other.wasm", "digest": {"sha256": OTHER_DIGEST.partition(":")[2]}},
            {"name": "manifest", "digest": {"sha256": DIGEST.partition(":")[2]}},
        ],
        "predicateType": SLSA_PROVENANCE,
        "predicate": {"buildDefinition": {}, "runDetails": {}},
    }
    bundle = local.issue_bundle_dsse(payload(body), token=github_token(local))
    verdict = check(local, bundle)
    assert verdict.valid, verdict.reason
    assert verdict.predicate_type == SLSA_PROVENANCE
    refused = check(local, bundle, digest="sha256:" + "77" * 32)
    assert not refused.valid and refused.reason.startswith("signs another digest")


def test_a_dsse_payload_that_is_not_an_in_toto_statement_is_refused(local: LocalSigstore) -> None:
    bundle = local.issue_bundle_dsse(payload(statement_for(DIGEST)), "text/plain", token=github_token(local))
    verdict = check(local, bundle)
    assert not verdict.valid
    assert "not an in-toto statement" in verdict.reason


def test_a_message_signature_over_the_manifest_bytes_verifies(local: LocalSigstore) -> None:
    bundle = local.issue_bundle_message(MANIFEST, token=github_token(local))
    verdict = check(local, bundle)
    assert verdict.valid, verdict.reason
    assert verdict.kind == "message-signature"
    assert verdict.predicate_type is None
    refused = check(local, bundle, digest=OTHER_DIGEST)
    assert not refused.valid and refused.reason == f"signs another digest ({DIGEST})"
    assert not check(local, bundle, rules=(OTHER_RULE,)).valid


def test_a_bundle_of_another_instance_does_not_verify(local: LocalSigstore, foreign: LocalSigstore) -> None:
    bundle = foreign.issue_bundle_dsse(payload(statement_for(DIGEST)), token=github_token(foreign))
    assert verify_bundle(bundle.encode(), DIGEST, (RULE,), foreign.trusted_root_path, source="test").valid
    verdict = check(local, bundle)
    assert not verdict.valid
    assert "does not verify against the trusted root" in verdict.reason
    message = foreign.issue_bundle_message(MANIFEST, token=github_token(foreign))
    assert "does not verify against the trusted root" in check(local, message).reason


# --- lock --check: does the policy still accept the recorded signers? ----------------------------


def policy(*, keys: tuple[Path, ...] = (), identities: tuple[IdentityRule, ...] = (), require: bool = True) -> Policy:
    return Policy(keys, require, ("ghcr.io/acme/*",), identities)


def test_a_recorded_identity_is_accepted_while_the_policy_names_it(local: LocalSigstore, signed: str) -> None:
    data = signed.encode()
    digest = bundle_digest(data)
    who = bundle_identity(data)
    assert who is not None and who.san == SAN
    blobs = {digest: data}
    accepted = recorded_problem("widget", policy(identities=(RULE,)), (), (who.lock_form,), (digest,), blobs.get)
    assert accepted is None

    refused = recorded_problem("widget", policy(identities=(OTHER_RULE,)), (), (who.lock_form,), (digest,), blobs.get)
    assert refused is not None
    assert refused.startswith("widget: ")
    assert "no longer accepts the recorded signers" in refused and who.lock_form in refused


def test_a_bundle_whose_signer_is_not_the_recorded_one_is_not_accepted(local: LocalSigstore, signed: str) -> None:
    data = signed.encode()
    digest = bundle_digest(data)
    recorded = f"{GITHUB_ISSUER} https://github.com/acme/widget/.github/workflows/other.yml@refs/heads/main"
    problem = recorded_problem("widget", policy(identities=(RULE,)), (), (recorded,), (digest,), {digest: data}.get)
    assert problem is not None and problem.startswith("widget: ")


def test_an_uncached_bundle_leaves_the_question_undecided(local: LocalSigstore, signed: str) -> None:
    who = bundle_identity(signed.encode())
    assert who is not None
    asked: list[str] = []

    def read_blob(digest: str) -> bytes | None:
        asked.append(digest)
        return None

    digest = bundle_digest(signed.encode())
    assert (
        recorded_problem("widget", policy(identities=(OTHER_RULE,)), (), (who.lock_form,), (digest,), read_blob) is None
    )
    assert asked == [digest]


def write_public_key(path: Path) -> str:
    """Write a PEM public key; return mcpkg's id of it."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(public)


def test_recorded_key_ids_are_matched_by_the_pem_key_id(tmp_path: Path) -> None:
    trusted = tmp_path / "trusted.pub"
    trusted_id = write_public_key(trusted)
    other_id = write_public_key(tmp_path / "other.pub")
    assert pem_key_id(trusted) == trusted_id and trusted_id != other_id
    assert pem_key_id(tmp_path / "missing.pub") is None

    def no_blobs(digest: str) -> bytes | None:
        raise AssertionError("key ids are matched without reading bundles")

    keyed = policy(keys=(trusted,))
    assert recorded_problem("widget", keyed, (trusted_id,), (), (), no_blobs) is None
    assert recorded_problem("widget", keyed, (other_id, trusted_id), (), (), no_blobs) is None
    problem = recorded_problem("widget", keyed, (other_id,), (), (), no_blobs)
    assert problem is not None and problem.startswith("widget: ") and other_id in problem
    unsigned = recorded_problem("widget", keyed, (), (), (), no_blobs)
    assert unsigned is not None and "requires a signature; the lock records none" in unsigned
    assert recorded_problem("widget", policy(keys=(trusted,), require=False), (), (), (), no_blobs) is None
