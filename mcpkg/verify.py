"""Signature checks for a resolved reference, and the trust policy applied to them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.config import TrustScope
from mcpkg.context import Context
from mcpkg.errors import SignatureError, UsageError
from mcpkg.reference import Digest, Reference
from mcpkg.signing.cosign import SignatureVerdict, verify_signatures
from mcpkg.signing.keys import load_public_key
from mcpkg.trust import Policy, policy_for


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


def verify_reference(ctx: Context, ref: Reference, digest: Digest, key_paths: list[Path]) -> Verification:
    if not key_paths:
        raise UsageError(
            f"no keys to verify {ref.location} with",
            f'pass --key cosign.pub, or add [trust."{ref.location}"] keys to the config',
        )
    trusted = [load_public_key(path) for path in key_paths]
    verdicts = verify_signatures(ctx.client(ref.registry), ref, digest, trusted, ref.tag)
    return Verification(ref.with_digest(None), digest, verdicts)


def policy(ctx: Context, ref: Reference, project_scopes: tuple[TrustScope, ...] = ()) -> Policy:
    return policy_for(ref.location, ctx.config.trust, project_scopes)


def apply_policy(
    ctx: Context, ref: Reference, digest: Digest, project_scopes: tuple[TrustScope, ...] = ()
) -> tuple[str, Verification | None]:
    """Verify `digest` under the trust policy for `ref`. Returns (status, verification);
    raises SignatureError when the policy requires a signature and none verifies."""
    pol = policy(ctx, ref, project_scopes)
    if not pol.applies:
        return "not checked (no trust policy for this repository)", None
    if not pol.keys:
        if pol.require:
            raise SignatureError(
                f"the trust policy requires signatures for {ref.location} but names no keys",
                f"add keys to the matching [trust] scopes ({', '.join(pol.scopes)})",
            )
        return "not checked (the trust policy names no keys)", None
    verification = verify_reference(ctx, ref, digest, list(pol.keys))
    if pol.require and not verification.ok:
        raise SignatureError(
            f"{ref.location}@{digest} is {verification.summary()}",
            f"the trust policy ({', '.join(pol.scopes)}) requires a valid signature; "
            "ask the publisher to sign it (`mcpkg sign`) or check your keys",
        )
    return verification.summary(), verification
