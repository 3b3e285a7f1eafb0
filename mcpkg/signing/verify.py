"""The trust decision, in one place: which signatures and bundles of a manifest digest
verify, and what the trust policy makes of that. `pull`, `lock`, `compose`, `check` and
`verify` all come here: `check` (online: the `.sig` manifest, the referrers API or the
fallback tag), `recheck` (offline: the signature material a lock recorded, from the
cache) and `verify_reference` (keys and identities given on the command line).

What verified is returned as material (key-based signature records and bundle blobs, by
digest) for the cache and the lock, so `compose` and `check` can decide again offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpkg.config import IdentityRule
from mcpkg.errors import McpkgError, SignatureError, UsageError
from mcpkg.oci.client import RegistryClient
from mcpkg.reference import Digest, Reference
from mcpkg.signing import keys as keyfiles
from mcpkg.signing.cosign import (
    SignatureVerdict,
    check_signature,
    parse_record,
    signature_records,
    signature_tag,
    verify_signatures,
)
from mcpkg.signing.keyless import BundleVerdict, bundle_digest, verify_bundle
from mcpkg.signing.keys import load_public_key
from mcpkg.signing.policy import Policy
from mcpkg.signing.recorded import bundle_identity
from mcpkg.signing.referrers import discover_bundles


@dataclass(frozen=True)
class Verification:
    reference: Reference  # registry/repository[:tag]
    digest: Digest
    verdicts: list[SignatureVerdict]  # key-based signatures
    bundles: list[BundleVerdict] = field(default_factory=list)  # keyless bundles
    notes: list[str] = field(default_factory=list)  # what discovery bounded or skipped
    material: dict[str, bytes] = field(default_factory=dict)  # digest -> what verified (for cache and lock)

    @property
    def valid_key_ids(self) -> list[str]:
        return sorted({v.key_id for v in self.verdicts if v.valid and v.key_id})

    @property
    def valid_identities(self) -> list[str]:
        return sorted({b.identity.lock_form for b in self.bundles if b.valid and b.identity})

    @property
    def ok(self) -> bool:
        return bool(self.valid_key_ids or self.valid_identities)

    def summary(self) -> str:
        if self.ok:
            return "verified (" + ", ".join([*self.valid_key_ids, *self.valid_identities]) + ")"
        if not self.verdicts and not self.bundles:
            return "unsigned"
        reasons = [f"signature #{v.index}: {v.reason}" for v in self.verdicts]
        reasons += [f"bundle #{b.index}: {b.reason}" for b in self.bundles]
        return "no valid signature: " + "; ".join(reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference.with_digest(None)),
            "digest": str(self.digest),
            "verified": self.ok,
            "key-ids": self.valid_key_ids,
            "identities": self.valid_identities,
            "signatures": [v.to_json() for v in self.verdicts],
            "bundles": [b.to_json() for b in self.bundles],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class TrustVerdict:
    status: str  # what `pull` prints as "signature:"
    verification: Verification | None  # None when nothing was verified

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self.verification.valid_key_ids) if self.verification else ()

    @property
    def identities(self) -> tuple[str, ...]:
        return tuple(self.verification.valid_identities) if self.verification else ()

    @property
    def material(self) -> dict[str, bytes]:
        return dict(self.verification.material) if self.verification else {}


def _material(verdicts: list[SignatureVerdict], bundles: list[tuple[BundleVerdict, bytes]]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for verdict in verdicts:
        if verdict.valid and verdict.record is not None and verdict.record_digest:
            found[verdict.record_digest] = verdict.record
    for bundle, data in bundles:
        if bundle.valid:
            found[bundle.digest] = data
    return dict(sorted(found.items()))


def collect(
    client: RegistryClient,
    ref: Reference,
    digest: Digest,
    key_paths: list[Path],
    rules: tuple[IdentityRule, ...],
    trusted_root: Path | None,
    *,
    look_for_bundles: bool,
) -> Verification:
    """Every key-based signature (against `key_paths`) and, when asked, every bundle
    (against `rules`) found in the registry for `digest`."""
    trusted = [load_public_key(path) for path in key_paths]
    verdicts = verify_signatures(client, ref, digest, trusted, ref.tag) if trusted else []
    checked: list[tuple[BundleVerdict, bytes]] = []
    notes: list[str] = []
    if look_for_bundles:
        discovery = discover_bundles(client, ref.repository, digest)
        notes = discovery.notes
        for index, found in enumerate(discovery.bundles):
            if found.data is None:
                checked.append((BundleVerdict(found.digest, found.source, False, str(found.problem), index=index), b""))
                continue
            if rules:
                verdict = verify_bundle(found.data, str(digest), rules, trusted_root, source=found.source, index=index)
            else:  # listed, not verified: no identity to hold it against (and no sigstore import)
                verdict = unchecked_bundle(found.data, found.source, index)
            checked.append((verdict, found.data))
    bundles = [b for b, _ in checked]
    return Verification(ref.with_digest(None), digest, verdicts, bundles, notes, _material(verdicts, checked))


def unchecked_bundle(data: bytes, source: str, index: int) -> BundleVerdict:
    """A bundle found while no keyless identity was asked for: who it names, unverified."""
    kind = "dsse" if b'"dsseEnvelope"' in data else "message-signature"
    reason = "not checked: no keyless identity to verify it against (--certificate-identity, or policy identities)"
    return BundleVerdict(bundle_digest(data), source, False, reason, kind, bundle_identity(data), index=index)


def verify_reference(
    client: RegistryClient,
    ref: Reference,
    digest: Digest,
    key_paths: list[Path],
    rules: tuple[IdentityRule, ...] = (),
    trusted_root: Path | None = None,
) -> Verification:
    """`mcpkg verify`: every signature and bundle found, judged by these keys and identities."""
    if not key_paths and not rules:
        raise UsageError(
            f"no keys or identities to verify {ref.location} with",
            f"pass --key cosign.pub or --certificate-identity ID --certificate-oidc-issuer URL, "
            f'or add [trust."{ref.location}"] keys or identities to the config',
        )
    return collect(client, ref, digest, key_paths, rules, trusted_root, look_for_bundles=True)


def _decide(policy: Policy, ref: Reference, verification: Verification) -> TrustVerdict:
    if policy.require and not verification.ok:
        raise SignatureError(
            f"{ref.location}@{verification.digest} is {verification.summary()}",
            f"the trust policy ({', '.join(policy.scopes)}) requires a valid signature by a key or identity it "
            "names; ask the publisher to sign it (`mcpkg sign`), or check your keys and identities",
            verification.to_json(),
        )
    return TrustVerdict(verification.summary(), verification)


def _without_signers(policy: Policy, ref: Reference) -> TrustVerdict:
    if policy.require:
        raise SignatureError(
            f"the trust policy requires signatures for {ref.location} but names no keys or identities",
            f"add keys or identities to the matching [trust] scopes ({', '.join(policy.scopes)})",
        )
    return TrustVerdict("not checked (the trust policy names no keys or identities)", None)


def check(
    client: RegistryClient, ref: Reference, digest: Digest, policy: Policy, *, report_unverified: bool = True
) -> TrustVerdict:
    """The trust decision for `digest`, online: verified by the policy's keys and
    identities when a policy applies (raising SignatureError when it requires a signature
    and none verifies); without a policy, whether a signature or bundle exists at all
    (`report_unverified`), else "not checked"."""
    if not policy.applies:
        if not report_unverified:
            return TrustVerdict("not checked (no trust policy for this repository)", None)
        signed = client.manifest_exists(ref.repository, signature_tag(digest))
        if not signed:
            try:  # only a report: a registry whose referrers listing is broken fails no pull here
                signed = bool(discover_bundles(client, ref.repository, digest, fetch=False).bundles)
            except McpkgError as exc:
                return TrustVerdict(f"unknown (its referrers could not be listed: {exc.message})", None)
        return TrustVerdict("signed (not verified: no trust policy)" if signed else "unsigned", None)
    if not policy.names_signers:
        return _without_signers(policy, ref)
    verification = collect(
        client,
        ref,
        digest,
        list(policy.keys),
        policy.identities,
        policy.trusted_root,
        look_for_bundles=bool(policy.identities),
    )
    return _decide(policy, ref, verification)


def recheck(ref: Reference, digest: Digest, policy: Policy, material: dict[str, bytes]) -> TrustVerdict:
    """The trust decision again, offline, on the material a lock recorded (digest ->
    bytes, read from the cache): no registry, no transparency log, no TUF."""
    if not policy.applies:
        return TrustVerdict("not checked (no trust policy for this repository)", None)
    if not policy.names_signers:
        return _without_signers(policy, ref)
    key_ids = [(keyfiles.key_id(k), k) for k in (load_public_key(p) for p in policy.keys)]
    verdicts: list[SignatureVerdict] = []
    checked: list[tuple[BundleVerdict, bytes]] = []
    for index, (_, data) in enumerate(sorted(material.items())):
        record = parse_record(data)
        if record is not None:
            verdicts.append(check_signature(record[0], record[1], ref, digest, ref.tag, index, key_ids))
        else:
            rules, root = policy.identities, policy.trusted_root
            checked.append((verify_bundle(data, str(digest), rules, root, source="cache", index=index), data))
    verification = Verification(
        ref.with_digest(None), digest, verdicts, [b for b, _ in checked], [], _material(verdicts, checked)
    )
    return _decide(policy, ref, verification)


def fetch_material(client: RegistryClient, ref: Reference, digest: Digest) -> dict[str, bytes]:
    """All signature material the registry holds for `digest`, by digest, unverified:
    where a lock's recorded digests are found when the cache lacks them (the digests pin
    them, and `recheck` verifies them)."""
    found = {bundle_digest(record): record for record in signature_records(client, ref, digest)}
    for bundle in discover_bundles(client, ref.repository, digest).bundles:
        if bundle.data is not None:
            found[bundle_digest(bundle.data)] = bundle.data
    return found
