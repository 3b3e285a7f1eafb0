"""`mcpkg sign`: resolve once, sign the manifest digest, keep the other signatures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.ops.context import Context
from mcpkg.ops.resolve import parse_target, resolve_reference
from mcpkg.reference import Digest, Reference
from mcpkg.signing.cosign import add_signature
from mcpkg.signing.keys import (
    is_encrypted_key_text,
    load_private_key,
    password_from_env_or_prompt,
    read_private_key_text,
)


@dataclass(frozen=True)
class Signed:
    reference: Reference
    digest: Digest
    key_id: str
    count: int  # signatures on the digest now

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference.with_digest(None)),
            "digest": str(self.digest),
            "key-id": self.key_id,
            "signatures": self.count,
        }


def sign(ctx: Context, text: str, key: Path) -> Signed:
    target, requirement = parse_target(text, ctx.config, "sign")
    key_text = read_private_key_text(key)  # a bad --key fails before any request
    password = password_from_env_or_prompt() if is_encrypted_key_text(key_text) else None
    private = load_private_key(key, password, key_text)
    resolved = resolve_reference(ctx, target, requirement)
    client = ctx.client(resolved.registry)
    digest = resolved.digest or client.get_manifest(resolved.repository, str(resolved.tag)).digest
    key_id, count = add_signature(client, resolved, digest, private, resolved.tag)
    return Signed(resolved, digest, key_id, count)
