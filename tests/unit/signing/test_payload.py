"""cosign's simple-signing payload (mcpkg/signing/payload.py) and the signature tag."""

from __future__ import annotations

import json

import pytest

from mcpkg.reference import Digest
from mcpkg.signing.cosign import signature_tag
from mcpkg.signing.payload import SIGNATURE_TYPE, build_payload, parse_payload

DIGEST = "sha256:" + "ab" * 32


def test_round_trip_with_and_without_a_version() -> None:
    claims = parse_payload(build_payload("ghcr.io/team/tool", DIGEST, "1.2.0"))
    assert claims is not None
    assert (claims.docker_reference, claims.manifest_digest, claims.version) == ("ghcr.io/team/tool", DIGEST, "1.2.0")
    bare = parse_payload(build_payload("ghcr.io/team/tool", DIGEST, None))
    assert bare is not None and bare.version is None


def test_the_payload_is_what_cosign_writes() -> None:
    body = json.loads(build_payload("reg.io/a/b", DIGEST, "0.1.0"))
    assert body["critical"] == {
        "identity": {"docker-reference": "reg.io/a/b"},
        "image": {"docker-manifest-digest": DIGEST},
        "type": SIGNATURE_TYPE,
    }
    assert body["optional"] == {"org.opencontainers.image.version": "0.1.0"}


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"critical": {"type": "something else"}}',
        b'{"critical": "x"}',
        b"{}",
    ],
)
def test_other_documents_are_not_payloads(data: bytes) -> None:
    assert parse_payload(data) is None


def test_claims_of_the_wrong_type_are_dropped() -> None:
    data = json.dumps(
        {"critical": {"type": SIGNATURE_TYPE, "identity": {"docker-reference": 7}, "image": {}}, "optional": []}
    ).encode()
    claims = parse_payload(data)
    assert claims is not None and claims.docker_reference is None and claims.manifest_digest is None


def test_signature_tag() -> None:
    assert signature_tag(Digest.parse(DIGEST)) == f"sha256-{'ab' * 32}.sig"
