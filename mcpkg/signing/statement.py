"""What a verified keyless bundle says it signs, and whether that is this manifest (pure).

sigstore-python checks the cryptography; binding the signature to the component is
mcpkg's job (docs/signing.md). A bundle counts for manifest digest `sha256:<hex>` when:
- its DSSE envelope carries an in-toto Statement (payload type
  `application/vnd.in-toto+json`, `_type` `https://in-toto.io/Statement/v1` or v0.1)
  whose predicate type is a signature's (`https://sigstore.dev/cosign/sign/v1`, cosign v3)
  or a build provenance's (`https://slsa.dev/provenance/v1`, GitHub artifact
  attestations), and whose subject names the digest: cosign's signature statement has
  exactly one subject; a provenance statement may cover several artifacts, one of which
  must be this manifest;
- or it is a message signature whose message digest is the manifest digest (the signed
  message is the manifest's bytes).
"""

from __future__ import annotations

import json
from typing import Any

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
COSIGN_SIGN = "https://sigstore.dev/cosign/sign/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
ACCEPTED_PREDICATES = (COSIGN_SIGN, SLSA_PROVENANCE)
MAX_SUBJECTS = 1024


def statement_for(manifest_digest: str) -> dict[str, Any]:
    """The in-toto statement cosign v3 signs for an image: one subject, digest only."""
    algorithm, _, hex_digest = manifest_digest.partition(":")
    return {
        "_type": STATEMENT_TYPES[0],
        "subject": [{"digest": {algorithm: hex_digest}}],
        "predicateType": COSIGN_SIGN,
        "predicate": {},
    }


def statement_binding(payload_type: str, payload: bytes, manifest_digest: str) -> tuple[str | None, str | None]:
    """(predicate type, None) when the statement signs `manifest_digest`, else
    (predicate type or None, the reason it does not)."""
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        return None, f"the envelope carries {payload_type!r}, not an in-toto statement"
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None, "the in-toto statement is not valid JSON"
    if not isinstance(body, dict):
        return None, "the in-toto statement is not a JSON object"
    predicate = body.get("predicateType")
    predicate = predicate if isinstance(predicate, str) else None
    if body.get("_type") not in STATEMENT_TYPES:
        return predicate, f"statement type {body.get('_type')!r} is not in-toto's"
    if predicate not in ACCEPTED_PREDICATES:
        return predicate, (
            f"predicate type {predicate!r} is not a signature's ({COSIGN_SIGN}) or a provenance's ({SLSA_PROVENANCE})"
        )
    subjects = body.get("subject")
    if not isinstance(subjects, list) or not subjects:
        return predicate, "the statement names no subject"
    if len(subjects) > MAX_SUBJECTS:
        return predicate, f"the statement names {len(subjects)} subjects, more than mcpkg reads ({MAX_SUBJECTS})"
    if predicate == COSIGN_SIGN and len(subjects) != 1:
        return predicate, f"a cosign signature statement names one subject; this one names {len(subjects)}"
    algorithm, _, hex_digest = manifest_digest.partition(":")
    named = []
    for subject in subjects:
        digests = subject.get("digest") if isinstance(subject, dict) else None
        value = digests.get(algorithm) if isinstance(digests, dict) else None
        if isinstance(value, str):
            if value.lower() == hex_digest:
                return predicate, None
            named.append(f"{algorithm}:{value}")
    if not named:
        return predicate, f"no subject carries a {algorithm} digest"
    return predicate, "signs another digest (" + ", ".join(named[:3]) + (", ..." if len(named) > 3 else "") + ")"
