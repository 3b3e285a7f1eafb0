from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, PLAIN_HTTP_OPTION, set_json
from mcpkg.ui import emit_json, note


def register(app: typer.Typer) -> None:
    @app.command("keygen")
    @handle_errors
    def keygen_command(
        output_prefix: str = typer.Option("cosign", "--output-prefix", help="Write PREFIX.key and PREFIX.pub."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing key files."),
    ) -> None:
        """Create a cosign-compatible ECDSA P-256 key pair (password from COSIGN_PASSWORD)."""

        from cryptography.hazmat.primitives.asymmetric import ec

        from mcpkg.errors import ConflictError
        from mcpkg.outfile import ensure_directory, resolve_destination, write_user_file
        from mcpkg.signing.keys import encrypt_private_key, key_id, password_from_env_or_prompt, public_pem

        private, public = Path(f"{output_prefix}.key"), Path(f"{output_prefix}.pub")
        for path in (private, public):
            if path.exists() and not force:
                raise ConflictError(f"{path} already exists", "choose another --output-prefix or pass --force")
        if not private.parent.is_symlink():
            ensure_directory(private.parent)  # as before: keys/ is created when missing
        destinations = [resolve_destination(path) for path in (private, public)]  # both checked first
        password = password_from_env_or_prompt(confirm=True)
        key = ec.generate_private_key(ec.SECP256R1())
        write_user_file(destinations[0], encrypt_private_key(key, password).encode(), 0o600)
        write_user_file(destinations[1], public_pem(key.public_key()).encode(), 0o644)
        note(f"private key written to {private} (keep it secret), public key to {public}")
        print(key_id(key.public_key()))

    @app.command("sign")
    @handle_errors
    def sign_command(
        reference: str = typer.Argument(..., metavar="REF", help="What to sign: REF or ns:name[@req]."),
        key: Path = typer.Option(..., "--key", help="Private key (cosign.key or PKCS#8 PEM)."),
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Sign a component's manifest digest in cosign's format (kept beside other signatures)."""
        from mcpkg.context import Context
        from mcpkg.resolve import parse_target, resolve_reference
        from mcpkg.signing.cosign import add_signature
        from mcpkg.signing.keys import (
            is_encrypted_key_text,
            load_private_key,
            password_from_env_or_prompt,
            read_private_key_text,
        )

        set_json(json_output)
        ctx = Context.load(plain_http)
        try:
            target, requirement = parse_target(reference, ctx.config)
            key_text = read_private_key_text(key)
            password = password_from_env_or_prompt() if is_encrypted_key_text(key_text) else None
            private = load_private_key(key, password, key_text)
            resolved = resolve_reference(ctx, target, requirement)
            client = ctx.client(resolved.registry)
            digest = resolved.digest or client.get_manifest(resolved.repository, str(resolved.tag)).digest
            key_id, count = add_signature(client, resolved, digest, private, resolved.tag)
        finally:
            ctx.close()
        data = {
            "reference": str(resolved.with_digest(None)),
            "digest": str(digest),
            "key-id": key_id,
            "signatures": count,
        }
        if json_output:
            emit_json(data)
            return
        print(f"signed {resolved.location}@{digest}")
        print(f"key:          {key_id}")
        if resolved.tag:
            print(f"version:      {resolved.tag}")
        print(f"signatures:   {count}")

    @app.command("verify")
    @handle_errors
    def verify_command(
        reference: str = typer.Argument(..., metavar="REF", help="What to verify: REF or ns:name[@req]."),
        key: list[Path] = typer.Option([], "--key", help="Trusted public key (repeatable); default: trust policy."),
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Check that REF's manifest digest carries a valid signature by a trusted key."""
        from mcpkg.context import Context
        from mcpkg.errors import SignatureError
        from mcpkg.infile import readable_file
        from mcpkg.resolve import parse_target, resolve_reference
        from mcpkg.verify import policy, verify_reference

        set_json(json_output)
        for path in key:  # before any request: a bad --key fails at once
            readable_file(path, "public key", "check the path, or run `mcpkg keygen`", streams=True)
        ctx = Context.load(plain_http)
        try:
            target, requirement = parse_target(reference, ctx.config)
            resolved = resolve_reference(ctx, target, requirement)
            client = ctx.client(resolved.registry)
            digest = resolved.digest or client.get_manifest(resolved.repository, str(resolved.tag)).digest
            keys = list(key) or list(policy(ctx, resolved).keys)
            result = verify_reference(ctx, resolved, digest, keys)
        finally:
            ctx.close()
        if json_output:
            if result.ok:
                emit_json(result.to_json())
        else:
            print(f"reference:    {result.reference}")
            print(f"digest:       {digest}")
            for verdict in result.verdicts:
                who = f" by {verdict.key_id}" if verdict.key_id else ""
                print(f"signature #{verdict.index}: {'valid' if verdict.valid else 'INVALID'}{who}: {verdict.reason}")
        if not result.ok:
            raise SignatureError(
                f"{result.reference}@{digest} is {result.summary()}",
                "sign it with `mcpkg sign REF --key cosign.key`, or check the keys you trust",
                result.to_json(),
            )
        if not json_output:
            print("verified")
