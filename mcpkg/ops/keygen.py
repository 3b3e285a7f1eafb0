"""`mcpkg keygen`: a cosign-compatible key pair written as the user's files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mcpkg.errors import ConflictError
from mcpkg.outfile import ensure_directory, resolve_destination, write_user_file
from mcpkg.signing.keys import (
    encrypt_private_key,
    generate_private_key,
    key_id,
    password_from_env_or_prompt,
    public_pem,
)


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    key_id: str


def keygen(output_prefix: str, *, force: bool = False) -> KeyPair:
    """Write PREFIX.key (encrypted, 0600) and PREFIX.pub; the directory of PREFIX is
    created when missing; both paths are checked before the password is asked for."""
    private, public = Path(f"{output_prefix}.key"), Path(f"{output_prefix}.pub")
    for path in (private, public):
        if path.exists() and not force:
            raise ConflictError(f"{path} already exists", "choose another --output-prefix or pass --force")
    if not private.parent.is_symlink():
        ensure_directory(private.parent)
    destinations = [resolve_destination(path) for path in (private, public)]
    password = password_from_env_or_prompt(confirm=True)
    key = generate_private_key()
    write_user_file(destinations[0], encrypt_private_key(key, password).encode(), 0o600)
    write_user_file(destinations[1], public_pem(key.public_key()).encode(), 0o644)
    return KeyPair(private, public, key_id(key.public_key()))
