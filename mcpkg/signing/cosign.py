"""cosign signatures in the registry: the `sha256-<hex>.sig` manifest of a digest.

Storage (docs/signing.md): an OCI image manifest tagged `sha256-<hex>.sig` in the same
repository, config `application/vnd.oci.image.config.v1+json`, one layer per signature
(the payload blob, media type simple-signing, the base64 DER signature in the layer
annotation `dev.cosignproject.cosign/signature`). Adding a signature is read-modify-write
of that manifest, keeping the signatures already there.

Verification fetches each payload by its layer digest (verified), then checks the
signature against every trusted key and the claims against the reference.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcpkg.errors import InvalidArtifactError, McpkgError, NotFoundError
from mcpkg.oci.artifact import OCI_MANIFEST, Descriptor, parse_descriptor
from mcpkg.oci.blobs import blob_exists, download_blob, upload_blob
from mcpkg.oci.client import RegistryClient
from mcpkg.reference import Digest, Reference
from mcpkg.signing import keys
from mcpkg.signing.payload import MAX_PAYLOAD, MEDIA_TYPE, SIGNATURE_ANNOTATION, build_payload, parse_payload

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

SIG_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MAX_SIGNATURES = 100


def signature_tag(digest: Digest) -> str:
    return f"sha256-{digest.hex}.sig"


@dataclass(frozen=True)
class SignatureVerdict:
    index: int
    key_id: str | None  # the trusted key that verified it
    valid: bool
    reason: str
    claims_reference: str | None = None
    claims_version: str | None = None
    record: bytes | None = None  # the signature as kept for offline re-checks (`signature_record`)

    @property
    def record_digest(self) -> str | None:
        return None if self.record is None else "sha256:" + hashlib.sha256(self.record).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "key",
            "index": self.index,
            "valid": self.valid,
            "key-id": self.key_id,
            "reason": self.reason,
            "docker-reference": self.claims_reference,
            "version": self.claims_version,
            "digest": self.record_digest,
        }


RECORD_TYPE = "application/vnd.mcpkg.cosign-signature.v1+json"


def signature_record(payload: bytes, signature: bytes) -> bytes:
    """A key-based signature as one self-contained document (payload and signature),
    what `mcpkg.lock`'s `bundles` names and the cache keeps for offline re-checks."""
    body = {
        "mediaType": RECORD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(signature).decode(),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def parse_record(data: bytes) -> tuple[bytes, bytes] | None:
    """(payload, signature) of a signature record, or None when `data` is not one."""
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("mediaType") != RECORD_TYPE:
            return None
        return base64.b64decode(body["payload"], validate=True), base64.b64decode(body["signature"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _sha(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def read_signature_layers(client: RegistryClient, ref: Reference, digest: Digest) -> list[Descriptor]:
    """The layers of the `.sig` manifest of `digest` (empty when there is none)."""
    try:
        fetched = client.get_manifest(ref.repository, signature_tag(digest))
    except NotFoundError:
        return []
    try:
        body = json.loads(fetched.data)
        layers = body.get("layers") or []
        if not isinstance(layers, list):
            raise ValueError
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise InvalidArtifactError(f"the signature manifest of {ref.location}@{digest} is malformed") from exc
    return [parse_descriptor(layer, f"signature layer {i}") for i, layer in enumerate(layers[:MAX_SIGNATURES])]


def _config_for(layers: list[Descriptor]) -> bytes:
    body = {
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [str(layer.digest) for layer in layers]},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def add_signature(
    client: RegistryClient, ref: Reference, digest: Digest, key: ec.EllipticCurvePrivateKey, version: str | None
) -> tuple[str, int]:
    """Sign `digest` as `ref.location` (with a version claim when given) and store the
    signature beside the others. Returns (key id, number of signatures now)."""
    payload = build_payload(ref.location, str(digest), version)
    signature = base64.b64encode(keys.sign(key, payload)).decode()
    layers = read_signature_layers(client, ref, digest)
    payload_digest = _sha(payload)
    if not blob_exists(client, ref.repository, payload_digest):
        upload_blob(client, ref.repository, payload_digest, len(payload), payload)
    layers.append(Descriptor(MEDIA_TYPE, payload_digest, len(payload), {SIGNATURE_ANNOTATION: signature}))
    config = _config_for(layers)
    config_digest = _sha(config)
    if not blob_exists(client, ref.repository, config_digest):
        upload_blob(client, ref.repository, config_digest, len(config), config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": Descriptor(SIG_CONFIG_MEDIA_TYPE, config_digest, len(config)).to_json(),
        "layers": [layer.to_json() for layer in layers],
    }
    client.put_manifest(
        ref.repository, signature_tag(digest), json.dumps(manifest, separators=(",", ":")).encode(), OCI_MANIFEST
    )
    return keys.key_id(key.public_key()), len(layers)


def _signed_payload(client: RegistryClient, ref: Reference, layer: Descriptor) -> tuple[bytes, bytes] | str:
    """(payload, signature) of one signature layer, fetched and digest-checked, or why not."""
    if layer.media_type != MEDIA_TYPE:
        return f"layer media type {layer.media_type!r} is not a cosign payload"
    encoded = layer.annotations.get(SIGNATURE_ANNOTATION)
    if not encoded:
        return "no signature annotation"
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "the signature annotation is not valid base64"
    if layer.size > MAX_PAYLOAD:
        return f"payload of {layer.size} bytes is too large"
    buffer = io.BytesIO()
    try:
        download_blob(client, ref.repository, layer.digest, layer.size, buffer)
    except McpkgError as exc:
        return f"payload unavailable or corrupt: {exc.message}"
    return buffer.getvalue(), signature


def signature_records(client: RegistryClient, ref: Reference, digest: Digest) -> list[bytes]:
    """Every signature stored for `digest` as a record (`signature_record`), unverified:
    what a lock's recorded digests are looked up in when the cache lacks them."""
    found = (_signed_payload(client, ref, layer) for layer in read_signature_layers(client, ref, digest))
    return [signature_record(*signed) for signed in found if not isinstance(signed, str)]


def verify_signatures(
    client: RegistryClient,
    ref: Reference,
    digest: Digest,
    trusted: list[ec.EllipticCurvePublicKey],
    tag: str | None,
) -> list[SignatureVerdict]:
    """A verdict for every signature stored for `digest`."""
    verdicts: list[SignatureVerdict] = []
    key_ids = [(keys.key_id(k), k) for k in trusted]
    for index, layer in enumerate(read_signature_layers(client, ref, digest)):
        verdicts.append(_verdict(client, ref, digest, tag, index, layer, key_ids))
    return verdicts


def _verdict(
    client: RegistryClient,
    ref: Reference,
    digest: Digest,
    tag: str | None,
    index: int,
    layer: Descriptor,
    key_ids: list[tuple[str, ec.EllipticCurvePublicKey]],
) -> SignatureVerdict:
    signed = _signed_payload(client, ref, layer)
    if isinstance(signed, str):
        return SignatureVerdict(index, None, False, signed)
    return check_signature(*signed, ref, digest, tag, index, key_ids)


def check_signature(
    payload: bytes,
    signature: bytes,
    ref: Reference,
    digest: Digest,
    tag: str | None,
    index: int,
    key_ids: list[tuple[str, ec.EllipticCurvePublicKey]],
) -> SignatureVerdict:
    """The verdict on one payload and signature (no I/O: also the offline re-check)."""
    signer = next((kid for kid, key in key_ids if keys.verify(key, payload, signature)), None)
    claims = parse_payload(payload)
    if signer is None:
        return SignatureVerdict(index, None, False, "not signed by any trusted key (or the signature is corrupt)")
    if claims is None:
        return SignatureVerdict(index, signer, False, "the payload is not a cosign simple-signing document")
    base = (claims.docker_reference, claims.version)
    if claims.manifest_digest != str(digest):
        return SignatureVerdict(index, signer, False, f"signs another digest ({claims.manifest_digest})", *base)
    if claims.docker_reference != ref.location:
        return SignatureVerdict(
            index, signer, False, f"signs another repository ({claims.docker_reference}, not {ref.location})", *base
        )
    if tag is not None and claims.version is not None and claims.version != tag:
        return SignatureVerdict(
            index, signer, False, f"version claim {claims.version!r} does not match tag {tag!r}", *base
        )
    return SignatureVerdict(index, signer, True, "valid", *base, record=signature_record(payload, signature))
