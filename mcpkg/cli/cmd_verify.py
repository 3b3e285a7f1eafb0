"""`mcpkg verify REF [--key PUB]... [--certificate-identity ID --certificate-oidc-issuer URL]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json, note
from mcpkg.errors import SignatureError


def verify_command(
    reference: str = typer.Argument(
        ..., metavar="REF", help="What to verify: [registry/]repo[:tag][@digest] or ns:name[@requirement]."
    ),
    key: list[Path] = typer.Option([], "--key", help="Trusted public key (repeatable); default: trust policy."),
    certificate_identity: str | None = typer.Option(
        None, "--certificate-identity", help="Keyless: the exact certificate identity (SAN) to trust."
    ),
    certificate_oidc_issuer: str | None = typer.Option(
        None, "--certificate-oidc-issuer", help="Keyless: the OIDC issuer of that identity."
    ),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Check that REF's manifest digest carries a valid signature by a trusted key or a
    keyless bundle by a trusted identity; list every signature and bundle found."""
    from mcpkg.ops.verify import verify

    with opened(json_output, plain_http) as ctx:
        result = verify(ctx, reference, key, certificate_identity, certificate_oidc_issuer)
    if json_output:
        if result.ok:
            emit_json(result.to_json())
    else:
        print(f"reference:    {result.reference}")
        print(f"digest:       {result.digest}")
        for verdict in result.verdicts:
            if verdict.valid:
                print(f"signature #{verdict.index}: valid, signed by key {verdict.key_id}")
            else:
                who = f" (key {verdict.key_id})" if verdict.key_id else ""
                print(f"signature #{verdict.index}: invalid{who}: {verdict.reason}")
        for bundle in result.bundles:
            state = "valid" if bundle.valid else "invalid"
            print(f"bundle #{bundle.index}:    {state}, {bundle.kind} from the {bundle.source}")
            if bundle.identity is not None:
                signer = bundle.identity
                print(f"  identity:   {signer.san}")
                print(f"  issuer:     {signer.issuer}")
                if signer.repository:
                    print(f"  repository: {signer.repository}")
                if signer.workflow:
                    print(f"  workflow:   {signer.workflow}")
                if signer.ref:
                    print(f"  ref:        {signer.ref}")
            if bundle.log_index is not None:
                print(f"  log:        index {bundle.log_index} at {bundle.time_text}")
            print(f"  verdict:    {bundle.reason}")
        for text in result.notes:
            note(text)
    if not result.ok:
        raise SignatureError(
            f"{result.reference}@{result.digest} is {result.summary()}",
            "sign it (`mcpkg sign REF --key cosign.key` or `--keyless`), or check the keys and identities you trust",
            result.to_json(),
        )
    if not json_output:
        print("verified")


EXAMPLES = """\b
Examples:
  mcpkg verify ghcr.io/me/tools:0.1.0 --key keys/me.pub
  mcpkg verify ghcr.io/wasmcp/http-transport:0.1.0 \\
      --certificate-identity https://github.com/wasmcp/wasmcp/.github/workflows/release.yml@refs/tags/v0.1.0 \\
      --certificate-oidc-issuer https://token.actions.githubusercontent.com
  mcpkg verify fixtures:tools@0.1                 # with the keys and identities of the trust policy
"""
