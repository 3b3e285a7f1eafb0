"""`mcpkg verify`: REF's manifest digest against the keys and keyless identity given,
else the trust policy's keys and identities."""

from __future__ import annotations

from pathlib import Path

from mcpkg.config import IdentityRule
from mcpkg.errors import UsageError
from mcpkg.infile import readable_file
from mcpkg.ops.context import Context
from mcpkg.ops.lockpolicy import component_policy
from mcpkg.ops.resolve import parse_target, resolve_reference
from mcpkg.signing.verify import Verification, verify_reference


def identity_rule(identity: str | None, issuer: str | None) -> IdentityRule | None:
    """cosign's `--certificate-identity` and `--certificate-oidc-issuer`: both or neither."""
    if identity is None and issuer is None:
        return None
    if not identity or not issuer:
        raise UsageError(
            "--certificate-identity and --certificate-oidc-issuer go together",
            "give both, e.g. --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1 "
            "--certificate-oidc-issuer https://token.actions.githubusercontent.com",
        )
    return IdentityRule(issuer, identity=identity)


def verify(
    ctx: Context, text: str, keys: list[Path], identity: str | None = None, issuer: str | None = None
) -> Verification:
    for path in keys:  # before any request: a bad --key fails at once
        readable_file(path, "public key", "check the path, or run `mcpkg keygen`", streams=True)
    rule = identity_rule(identity, issuer)
    target, requirement = parse_target(text, ctx.config, "verify")
    resolved = resolve_reference(ctx, target, requirement)
    client = ctx.client(resolved.registry)
    digest = resolved.digest or client.get_manifest(resolved.repository, str(resolved.tag)).digest
    policy = component_policy(ctx.config, resolved.location)
    rules: tuple[IdentityRule, ...]
    if keys or rule:
        trusted, rules = list(keys), (rule,) if rule else ()
    else:
        trusted, rules = list(policy.keys), policy.identities
    return verify_reference(client, resolved, digest, trusted, rules, ctx.config.sigstore.trusted_root)
