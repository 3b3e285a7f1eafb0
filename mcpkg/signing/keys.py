"""cosign-compatible key files (pure crypto, no I/O beyond reading/writing key files).

- Public keys: PEM `PUBLIC KEY` (PKIX), ECDSA P-256.
- Private keys: PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (or the older `ENCRYPTED COSIGN
  PRIVATE KEY`) whose body is JSON: scrypt parameters and salt, a NaCl secretbox nonce,
  and the ciphertext of the PKCS#8 DER key (docs/signing.md). scrypt N must be 2^15,
  2^16 or 2^17 with r=8, p=1. Unencrypted PKCS#8 `PRIVATE KEY` PEM is accepted too.
  `cryptography` provides scrypt and ECDSA; PyNaCl provides XSalsa20-Poly1305.
- Key ids: `SHA256:` + base64 of the SHA-256 of the public key's DER (docs/signing.md).
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpkg.errors import McpkgError, UsageError
from mcpkg.infile import readable_file

if TYPE_CHECKING:  # `cryptography` is imported when a key is used, not by every command
    from cryptography.hazmat.primitives.asymmetric import ec

ENCRYPTED_LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
WRITE_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"
ALLOWED_N = (2**15, 2**16, 2**17)
DEFAULT_N = 2**16
MAX_KEY_FILE = 64 * 1024


class KeyFileError(McpkgError):
    kind = "key"


def _pem_blocks(text: str) -> list[tuple[str, bytes]]:
    blocks = []
    for match in re.finditer(r"-----BEGIN ([A-Z ]+)-----\s*(.*?)\s*-----END \1-----", text, flags=re.DOTALL):
        try:
            blocks.append((match.group(1), base64.b64decode("".join(match.group(2).split()), validate=True)))
        except binascii.Error:
            continue
    return blocks


def _read(path: Path, what: str) -> str:
    readable_file(path, what, "check the path, or run `mcpkg keygen`", streams=True)
    try:
        with path.open("rb") as f:  # bounded read: st_size is 0 for /dev/zero and FIFOs
            data = f.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise KeyFileError(f"{path} is too large to be a {what}")
        return data.decode("ascii")
    except FileNotFoundError:
        raise KeyFileError(f"{what} {path} does not exist", "check the path, or run `mcpkg keygen`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc}") from exc


def _require_p256(key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise KeyFileError(f"{path} is not an ECDSA P-256 key", "cosign key-based signing uses ECDSA P-256")


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = _read(path, "public key")
    for label, der in _pem_blocks(text):
        if label == "PUBLIC KEY":
            try:
                key = serialization.load_der_public_key(der)
            except ValueError as exc:
                raise KeyFileError(f"{path} holds a malformed public key") from exc
            _require_p256(key, path)
            assert isinstance(key, ec.EllipticCurvePublicKey)
            return key
    raise KeyFileError(f"{path} is not a PEM public key", "expected -----BEGIN PUBLIC KEY----- (cosign.pub)")


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def _b64field(value: Any, what: str, path: Path, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise KeyFileError(f"{path}: {what} is missing")
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise KeyFileError(f"{path}: {what} is not valid base64") from exc
    if length is not None and len(data) != length:
        raise KeyFileError(f"{path}: {what} must be {length} bytes")
    return data


def _decrypt(body: bytes, password: bytes, path: Path) -> bytes:
    import nacl.exceptions
    import nacl.secret
    import nacl.utils
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    try:
        data = json.loads(body)
        kdf, cipher = data["kdf"], data["cipher"]
        params = kdf["params"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path} is not a cosign encrypted key (bad JSON body)") from exc
    if kdf.get("name") != "scrypt":
        raise KeyFileError(f"{path}: unsupported key derivation {kdf.get('name')!r}", "cosign keys use scrypt")
    n, r, p = params.get("N"), params.get("r"), params.get("p")
    if n not in ALLOWED_N or r != 8 or p != 1:
        raise KeyFileError(
            f"{path}: unsupported scrypt parameters N={n}, r={r}, p={p}",
            "mcpkg accepts N in {2^15, 2^16, 2^17} with r=8, p=1, as cosign writes",
        )
    if cipher.get("name") != "nacl/secretbox":
        raise KeyFileError(f"{path}: unsupported cipher {cipher.get('name')!r}", "cosign keys use nacl/secretbox")
    salt = _b64field(kdf.get("salt"), "the salt", path)
    nonce = _b64field(cipher.get("nonce"), "the nonce", path, nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = _b64field(data.get("ciphertext"), "the ciphertext", path)
    secret = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password)
    try:
        return bytes(nacl.secret.SecretBox(secret).decrypt(ciphertext, nonce))
    except nacl.exceptions.CryptoError:
        raise KeyFileError(
            f"cannot decrypt {path}: wrong password",
            "set COSIGN_PASSWORD to the key's password (or type it at the prompt)",
        ) from None


def read_private_key_text(path: Path) -> str:
    """The key file's text, read once and bounded (a FIFO key can be read only once)."""
    return _read(path, "private key")


def is_encrypted_key_text(text: str) -> bool:
    """Whether the key text holds an encrypted key (so a password must be asked for)."""
    return any(label in ENCRYPTED_LABELS for label, _ in _pem_blocks(text))


def load_private_key(path: Path, password: bytes | None, text: str | None = None) -> ec.EllipticCurvePrivateKey:
    """Load a cosign encrypted key (password required) or an unencrypted PKCS#8 key
    (from `text` when the caller read the file already)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = _read(path, "private key") if text is None else text
    for label, der in _pem_blocks(text):
        if label in ENCRYPTED_LABELS:
            if password is None:
                raise UsageError(f"{path} is encrypted and no password was given", "set COSIGN_PASSWORD")
            der = _decrypt(der, password, path)
        elif label not in ("PRIVATE KEY", "EC PRIVATE KEY"):
            continue
        try:
            key = serialization.load_der_private_key(der, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{path} holds a malformed private key") from exc
        _require_p256(key, path)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    raise KeyFileError(
        f"{path} is not a private key mcpkg can read",
        "expected a cosign key (ENCRYPTED SIGSTORE PRIVATE KEY) or a PKCS#8 PEM key",
    )


def encrypt_private_key(key: ec.EllipticCurvePrivateKey, password: bytes, n: int = DEFAULT_N) -> str:
    """PEM text of `key` in cosign's encrypted format."""

    import nacl.exceptions
    import nacl.secret
    import nacl.utils
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt = os.urandom(32)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    secret = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(password)
    ciphertext = nacl.secret.SecretBox(secret).encrypt(der, nonce).ciphertext
    body = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    encoded = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return f"-----BEGIN {WRITE_LABEL}-----\n" + "\n".join(lines) + f"\n-----END {WRITE_LABEL}-----\n"


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """A new ECDSA P-256 key, the kind cosign's key-based signing uses."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: ec.EllipticCurvePublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: ec.EllipticCurvePrivateKey, payload: bytes) -> bytes:
    """ECDSA P-256 over SHA-256 of the payload, DER-encoded (what cosign stores)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return key.sign(payload, ec.ECDSA(hashes.SHA256()))


def verify(key: ec.EllipticCurvePublicKey, payload: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def password_from_env_or_prompt(confirm: bool = False) -> bytes:
    """COSIGN_PASSWORD (even empty), else a prompt on a terminal."""

    value = os.environ.get("COSIGN_PASSWORD")
    if value is not None:
        return value.encode()
    if not sys.stdin.isatty():
        raise UsageError("no password for the key", "set COSIGN_PASSWORD (cosign's convention)")
    first = getpass.getpass("key password: ")
    if confirm and getpass.getpass("again: ") != first:
        raise UsageError("the passwords do not match")
    return first.encode()
