"""`mcpkg sign REF --key KEY` and `mcpkg sign REF --keyless [--identity-token T]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json


def sign_command(
    reference: str = typer.Argument(
        ..., metavar="REF", help="What to sign: [registry/]repo[:tag][@digest] or ns:name[@requirement]."
    ),
    key: Path | None = typer.Option(None, "--key", help="Private key (cosign.key or PKCS#8 PEM)."),
    keyless: bool = typer.Option(
        False, "--keyless", help="Sign with a Sigstore identity (Fulcio certificate, Rekor entry) instead of a key."
    ),
    identity_token: str | None = typer.Option(
        None,
        "--identity-token",
        help="OIDC token for --keyless (default: SIGSTORE_IDENTITY_TOKEN, else GitHub Actions' own).",
    ),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Sign a component's manifest digest: in cosign's key-based format (kept beside other
    signatures), or keyless as a cosign v3 Sigstore bundle attached as an OCI referrer."""
    from mcpkg.ops.sign import check_sign_options, sign, sign_keyless

    check_sign_options(key, keyless, identity_token)
    with opened(json_output, plain_http) as ctx:
        signed = sign_keyless(ctx, reference, identity_token) if keyless else sign(ctx, reference, key or Path())
    if json_output:
        emit_json(signed.to_json())
        return
    print(f"signed {signed.reference.location}@{signed.digest}")
    if signed.identity is not None:
        issuer, _, identity = signed.identity.partition(" ")
        print(f"identity:     {identity}")
        print(f"issuer:       {issuer}")
        print(f"log index:    {signed.log_index}")
        print(f"bundle:       {signed.referrer} (via the {signed.attached})")
        return
    print(f"key:          {signed.key_id}")
    if signed.reference.tag:
        print(f"version:      {signed.reference.tag}")
    print(f"signatures:   {signed.count}")


EXAMPLES = """\b
Examples:
  mcpkg sign ghcr.io/me/tools:0.1.0 --key keys/me.key
  mcpkg sign ghcr.io/me/tools:0.1.0 --keyless        # in GitHub Actions (id-token: write)
  SIGSTORE_IDENTITY_TOKEN=... mcpkg sign ghcr.io/me/tools:0.1.0 --keyless
"""
