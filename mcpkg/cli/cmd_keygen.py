"""`mcpkg keygen [--output-prefix P] [--force]`."""

from __future__ import annotations

import typer

from mcpkg.cli.terminal import OUT, emit_json, note


def keygen_command(
    output_prefix: str = typer.Option("cosign", "--output-prefix", help="Write PREFIX.key and PREFIX.pub."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing key files."),
) -> None:
    """Create a cosign-compatible ECDSA P-256 key pair (password from COSIGN_PASSWORD)."""
    from mcpkg.ops.keygen import keygen

    made = keygen(output_prefix, force=force)
    if OUT.json:
        emit_json({"private-key": str(made.private), "public-key": str(made.public), "key-id": made.key_id})
        return
    note(f"private key written to {made.private} (keep it secret), public key to {made.public}")
    print(made.key_id)


EXAMPLES = """\b
Examples:
  mcpkg keygen --output-prefix keys/me           # password: COSIGN_PASSWORD, else a prompt
"""
