"""`mcpkg verify REF [--key PUB]...`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json
from mcpkg.errors import SignatureError


def verify_command(
    reference: str = typer.Argument(
        ..., metavar="REF", help="What to verify: [registry/]repo[:tag][@digest] or ns:name[@requirement]."
    ),
    key: list[Path] = typer.Option([], "--key", help="Trusted public key (repeatable); default: trust policy."),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Check that REF's manifest digest carries a valid signature by a trusted key."""
    from mcpkg.ops.verify import verify

    with opened(json_output, plain_http) as ctx:
        result = verify(ctx, reference, key)
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
    if not result.ok:
        raise SignatureError(
            f"{result.reference}@{result.digest} is {result.summary()}",
            "sign it with `mcpkg sign REF --key cosign.key`, or check the keys you trust",
            result.to_json(),
        )
    if not json_output:
        print("verified")


EXAMPLES = """\b
Examples:
  mcpkg verify ghcr.io/me/tools:0.1.0 --key keys/me.pub
  mcpkg verify fixtures:tools@0.1                 # with the keys of the trust policy
"""
