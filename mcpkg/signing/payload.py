"""The cosign "simple signing" payload (pure).

    {"critical":{"identity":{"docker-reference":"<registry>/<repo>"},
                 "image":{"docker-manifest-digest":"sha256:<hex>"},
                 "type":"cosign container image signature"},
     "optional":null | {"org.opencontainers.image.version":"<tag>"}}

compact JSON, keys in that order. cosign itself checks only the digest claim; mcpkg also
checks the repository and, when the reference names a tag, the version claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SIGNATURE_TYPE = "cosign container image signature"
VERSION_CLAIM = "org.opencontainers.image.version"
MAX_PAYLOAD = 64 * 1024


def build_payload(docker_reference: str, manifest_digest: str, version: str | None) -> bytes:
    body: dict[str, Any] = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": SIGNATURE_TYPE,
        },
        "optional": {VERSION_CLAIM: version} if version else None,
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Claims:
    docker_reference: str | None
    manifest_digest: str | None
    version: str | None


def parse_payload(data: bytes) -> Claims | None:
    """The claims of a payload, or None when it is not a simple-signing document."""
    try:
        body = json.loads(data)
        critical = body["critical"]
        if critical.get("type") != SIGNATURE_TYPE:
            return None
        reference = critical.get("identity", {}).get("docker-reference")
        digest = critical.get("image", {}).get("docker-manifest-digest")
        optional = body.get("optional") or {}
        version = optional.get(VERSION_CLAIM) if isinstance(optional, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return Claims(
        reference if isinstance(reference, str) else None,
        digest if isinstance(digest, str) else None,
        version if isinstance(version, str) else None,
    )
