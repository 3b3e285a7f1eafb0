"""Does the trust policy still accept what a lock records? (offline, no cryptography run)

`mcpkg lock --check` must say when a policy change (in `mcpkg.toml` or the user's
config) no longer accepts the signers a lock recorded, without the network and without
re-verifying: that is `mcpkg check`'s job. So this compares records with the policy:
- a recorded key id is accepted when it is the id of a key the policy names (the id is
  the SHA-256 of the key's DER, computed from the PEM without loading the key);
- a recorded keyless identity is accepted when the certificate of its bundle, read from
  the cache, matches an identity entry of the policy; a bundle that is not cached cannot
  be judged here and is left to `mcpkg check` and `compose`, which fetch it by digest;
- a component fails when its policy requires a signature and no recorded signer is
  accepted, or when it records signers and the policy names signers but none of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from mcpkg.signing.identity import CertIdentity, cert_identity, matching_rule
from mcpkg.signing.keys import _pem_blocks
from mcpkg.signing.policy import Policy

MAX_KEY_FILE = 64 * 1024


def pem_key_id(path: Path) -> str | None:
    """`SHA256:<base64>` of the PEM public key at `path` (None when unreadable)."""
    try:
        with path.open("rb") as f:
            text = f.read(MAX_KEY_FILE).decode("ascii", "replace")
    except OSError:
        return None
    for label, der in _pem_blocks(text):
        if label == "PUBLIC KEY":
            return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
    return None


def bundle_identity(data: bytes) -> CertIdentity | None:
    """The signer named by a bundle's leaf certificate (None when it has none)."""
    from cryptography import x509

    try:
        body = json.loads(data)
        material = body["verificationMaterial"]
        cert = material.get("certificate") or (material.get("x509CertificateChain") or {}).get("certificates", [{}])[0]
        der = base64.b64decode(cert["rawBytes"], validate=True)
        return cert_identity(x509.load_der_x509_certificate(der))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, binascii.Error, UnicodeDecodeError):
        return None


def recorded_problem(
    name: str,
    policy: Policy,
    key_ids: tuple[str, ...],
    identities: tuple[str, ...],
    bundles: tuple[str, ...],
    read_blob: Callable[[str], bytes | None],
) -> str | None:
    """Why the policy no longer accepts what the lock recorded for `name` (None: it does)."""
    if not policy.applies or not policy.names_signers:
        if policy.require:
            return f"{name}: the trust policy ({', '.join(policy.scopes)}) requires a signature but names no signer"
        return None
    trusted_ids = {pem_key_id(path) for path in policy.keys} - {None}
    accepted = [k for k in key_ids if k in trusted_ids]
    undecided = False
    if identities and policy.identities:
        for digest in bundles:
            data = read_blob(digest)
            if data is None:
                undecided = True
                continue
            who = bundle_identity(data)
            if who is not None and who.lock_form in identities and matching_rule(policy.identities, who)[0]:
                accepted.append(who.lock_form)
    if accepted or undecided:
        return None
    recorded = [*key_ids, *identities]
    if recorded:
        return (
            f"{name}: the trust policy ({', '.join(policy.scopes)}) no longer accepts the recorded signers "
            f"({', '.join(recorded)})"
        )
    if policy.require:
        return f"{name}: the trust policy ({', '.join(policy.scopes)}) requires a signature; the lock records none"
    return None
