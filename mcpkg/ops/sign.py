"""`mcpkg sign`: resolve once, sign the manifest digest, keep the other signatures.

With `--key`: cosign's key-based format (`signing/cosign.py`). With `--keyless`: a
cosign v3 Sigstore bundle made with an OIDC identity token and the services of the
signing config, attached as an OCI referrer (`signing/referrers.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.errors import UsageError
from mcpkg.oci.artifact import OCI_MANIFEST, Descriptor
from mcpkg.ops.context import Context
from mcpkg.ops.resolve import parse_target, resolve_reference
from mcpkg.reference import Digest, Reference
from mcpkg.signing.cosign import add_signature
from mcpkg.signing.keyless import identity_token, sign_manifest
from mcpkg.signing.keys import (
    is_encrypted_key_text,
    load_private_key,
    password_from_env_or_prompt,
    read_private_key_text,
)
from mcpkg.signing.referrers import attach_bundle


@dataclass(frozen=True)
class Signed:
    reference: Reference
    digest: Digest
    key_id: str | None
    count: int  # key-based signatures on the digest now (0 for keyless)
    identity: str | None = None  # keyless: "issuer identity"
    log_index: int | None = None
    referrer: str | None = None  # keyless: the referrer manifest's digest
    attached: str | None = None  # keyless: how it is found ("referrers API" or the fallback tag)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "reference": str(self.reference.with_digest(None)),
            "digest": str(self.digest),
            "key-id": self.key_id,
            "signatures": self.count,
        }
        if self.identity is not None:
            issuer, _, identity = self.identity.partition(" ")
            data.update(
                {
                    "keyless": {"issuer": issuer, "identity": identity},
                    "log-index": self.log_index,
                    "referrer": self.referrer,
                    "attached-via": self.attached,
                }
            )
        return data


def _resolve(ctx: Context, text: str) -> tuple[Reference, Digest, Descriptor]:
    """REF resolved once: the reference, its manifest digest and the manifest's descriptor."""
    target, requirement = parse_target(text, ctx.config, "sign")
    resolved = resolve_reference(ctx, target, requirement)
    client = ctx.client(resolved.registry)
    fetched = client.get_manifest(resolved.repository, str(resolved.digest or resolved.tag))
    return resolved, fetched.digest, Descriptor(fetched.media_type or OCI_MANIFEST, fetched.digest, len(fetched.data))


def sign(ctx: Context, text: str, key: Path) -> Signed:
    parse_target(text, ctx.config, "sign")  # a malformed reference fails before the key is read
    key_text = read_private_key_text(key)  # a bad --key fails before any request
    password = password_from_env_or_prompt() if is_encrypted_key_text(key_text) else None
    private = load_private_key(key, password, key_text)
    resolved, digest, _ = _resolve(ctx, text)
    key_id, count = add_signature(ctx.client(resolved.registry), resolved, digest, private, resolved.tag)
    return Signed(resolved, digest, key_id, count)


def sign_keyless(ctx: Context, text: str, token: str | None) -> Signed:
    parse_target(text, ctx.config, "sign")  # a malformed reference fails before the token is looked for
    oidc = identity_token(token)
    resolved, digest, subject = _resolve(ctx, text)
    settings = ctx.config.sigstore
    bundle, who, log_index = sign_manifest(str(digest), oidc, settings.trusted_root, settings.signing_config)
    referrer, attached = attach_bundle(ctx.client(resolved.registry), resolved.repository, subject, bundle)
    identity = who.lock_form if who else None
    return Signed(resolved, digest, None, 0, identity, log_index, str(referrer), attached)


def check_sign_options(key: Path | None, keyless: bool, token: str | None) -> None:
    if key is None and not keyless:
        raise UsageError("say how to sign: --key KEY or --keyless", "mcpkg sign REF --key cosign.key")
    if key is not None and keyless:
        raise UsageError("--key and --keyless exclude each other", "sign twice to add both kinds")
    if token is not None and not keyless:
        raise UsageError("--identity-token is for --keyless signing")
