"""`mcpkg sign REF --key KEY`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, opened
from mcpkg.cli.terminal import emit_json


def sign_command(
    reference: str = typer.Argument(
        ..., metavar="REF", help="What to sign: [registry/]repo[:tag][@digest] or ns:name[@requirement]."
    ),
    key: Path = typer.Option(..., "--key", help="Private key (cosign.key or PKCS#8 PEM)."),
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Sign a component's manifest digest in cosign's format (kept beside other signatures)."""
    from mcpkg.ops.sign import sign

    with opened(json_output, plain_http) as ctx:
        signed = sign(ctx, reference, key)
    if json_output:
        emit_json(signed.to_json())
        return
    print(f"signed {signed.reference.location}@{signed.digest}")
    print(f"key:          {signed.key_id}")
    if signed.reference.tag:
        print(f"version:      {signed.reference.tag}")
    print(f"signatures:   {signed.count}")


EXAMPLES = """\b
Examples:
  mcpkg sign ghcr.io/me/tools:0.1.0 --key keys/me.key
"""
