"""`mcpkg verify`: REF's manifest digest against the keys given, else the trust policy's."""

from __future__ import annotations

from pathlib import Path

from mcpkg.infile import readable_file
from mcpkg.ops.context import Context
from mcpkg.ops.resolve import parse_target, resolve_reference
from mcpkg.signing.policy import policy_for
from mcpkg.signing.verify import Verification, verify_reference


def verify(ctx: Context, text: str, keys: list[Path]) -> Verification:
    for path in keys:  # before any request: a bad --key fails at once
        readable_file(path, "public key", "check the path, or run `mcpkg keygen`", streams=True)
    target, requirement = parse_target(text, ctx.config, "verify")
    resolved = resolve_reference(ctx, target, requirement)
    client = ctx.client(resolved.registry)
    digest = resolved.digest or client.get_manifest(resolved.repository, str(resolved.tag)).digest
    trusted = list(keys) or list(policy_for(resolved.location, ctx.config.trust).keys)
    return verify_reference(client, resolved, digest, trusted)
