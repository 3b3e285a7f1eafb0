"""Keys (mcpkg/signing/keys.py): cosign's encrypted format round trip, key ids, signing."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mcpkg.errors import McpkgError, UsageError
from mcpkg.signing.keys import (
    encrypt_private_key,
    generate_private_key,
    is_encrypted_key_text,
    key_id,
    load_private_key,
    load_public_key,
    public_pem,
    sign,
    verify,
)

FAST_N = 2**15  # the smallest scrypt cost mcpkg accepts (cosign writes 2^15)


def write_pair(tmp_path: Path, password: bytes) -> tuple[Path, Path, ec.EllipticCurvePrivateKey]:
    key = generate_private_key()
    private, public = tmp_path / "k.key", tmp_path / "k.pub"
    private.write_text(encrypt_private_key(key, password, n=FAST_N))
    public.write_text(public_pem(key.public_key()))
    return private, public, key


def test_encrypted_round_trip(tmp_path: Path) -> None:
    private, public, key = write_pair(tmp_path, b"pw")
    assert is_encrypted_key_text(private.read_text())
    loaded = load_private_key(private, b"pw")
    assert loaded.private_numbers() == key.private_numbers()
    assert load_public_key(public).public_numbers() == key.public_key().public_numbers()


def test_wrong_or_missing_password(tmp_path: Path) -> None:
    private, _, _ = write_pair(tmp_path, b"right")
    with pytest.raises(McpkgError):
        load_private_key(private, b"wrong")
    with pytest.raises(UsageError, match="encrypted"):
        load_private_key(private, None)


def test_key_id_is_sha256_of_the_public_der() -> None:
    key = generate_private_key().public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_id(key) == "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_sign_and_verify() -> None:
    key = generate_private_key()
    signature = sign(key, b"payload")
    assert verify(key.public_key(), b"payload", signature)
    assert not verify(key.public_key(), b"payload!", signature)
    assert not verify(generate_private_key().public_key(), b"payload", signature)


def test_an_unencrypted_pkcs8_key_loads(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "plain.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    assert load_private_key(path, None).private_numbers() == key.private_numbers()


def test_other_curves_are_refused(tmp_path: Path) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "p384.pub"
    path.write_bytes(
        other.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(McpkgError, match="P-256"):
        load_public_key(path)
