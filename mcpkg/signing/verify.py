"""The trust decision, in one place: which signatures of a manifest digest verify, and
what the trust policy makes of that. `pull`, `lock`, `compose`, `check` and `verify`
all call `check` (or `verify_reference` with keys given on the command line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.errors import SignatureError, UsageError
from mcpkg.oci.client import RegistryClient
from mcpkg.reference import Digest, Reference
from mcpkg.signing.cosign import SignatureVerdict, signature_tag, verify_signatures
from mcpkg.signing.keys import load_public_key
from mcpkg.signing.policy import Policy


@dataclass(frozen=True)
class Verification:
    reference: Reference  # registry/repository[:tag]
    digest: Digest
    verdicts: list[SignatureVerdict]

    @property
    def valid_key_ids(self) -> list[str]:
        return sorted({v.key_id for v in self.verdicts if v.valid and v.key_id})

    @property
    def ok(self) -> bool:
        return bool(self.valid_key_ids)

    def summary(self) -> str:
        if self.ok:
            return "verified (" + ", ".join(self.valid_key_ids) + ")"
        if not self.verdicts:
            return "unsigned"
        return "no valid signature: " + "; ".join(f"#{v.index}: {v.reason}" for v in self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference.with_digest(None)),
            "digest": str(self.digest),
            "verified": self.ok,
            "key-ids": self.valid_key_ids,
            "signatures": [v.to_json() for v in self.verdicts],
        }


@dataclass(frozen=True)
class TrustVerdict:
    status: str  # what `pull` prints as "signature:"
    verification: Verification | None  # None when no key was tried

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self.verification.valid_key_ids) if self.verification else ()


def verify_reference(client: RegistryClient, ref: Reference, digest: Digest, key_paths: list[Path]) -> Verification:
    if not key_paths:
        raise UsageError(
            f"no keys to verify {ref.location} with",
            f'pass --key cosign.pub, or add [trust."{ref.location}"] keys to the config',
        )
    trusted = [load_public_key(path) for path in key_paths]
    verdicts = verify_signatures(client, ref, digest, trusted, ref.tag)
    return Verification(ref.with_digest(None), digest, verdicts)


def check(
    client: RegistryClient, ref: Reference, digest: Digest, policy: Policy, *, report_unverified: bool = True
) -> TrustVerdict:
    """The trust decision for `digest`: verified by the policy's keys when a policy
    applies (raising SignatureError when it requires a signature and none verifies);
    without a policy, whether a signature exists at all (`report_unverified`), else
    "not checked"."""
    if not policy.applies:
        if not report_unverified:
            return TrustVerdict("not checked (no trust policy for this repository)", None)
        exists = client.manifest_exists(ref.repository, signature_tag(digest))
        return TrustVerdict("signed (not verified: no trust policy)" if exists else "unsigned", None)
    if not policy.keys:
        if policy.require:
            raise SignatureError(
                f"the trust policy requires signatures for {ref.location} but names no keys",
                f"add keys to the matching [trust] scopes ({', '.join(policy.scopes)})",
            )
        return TrustVerdict("not checked (the trust policy names no keys)", None)
    verification = verify_reference(client, ref, digest, list(policy.keys))
    if policy.require and not verification.ok:
        raise SignatureError(
            f"{ref.location}@{digest} is {verification.summary()}",
            f"the trust policy ({', '.join(policy.scopes)}) requires a valid signature; "
            "ask the publisher to sign it (`mcpkg sign`) or check your keys",
        )
    return TrustVerdict(verification.summary(), verification)
