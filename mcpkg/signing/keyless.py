"""Keyless (Sigstore) verification and signing, through sigstore-python.

sigstore-python (PyPI `sigstore`) is the verifier: it checks a bundle's certificate
chain against the trusted root, the embedded SCT, the transparency-log inclusion proof
and checkpoint (or signed entry timestamp), that the certificate was valid when the log
saw the signature, and the signature itself. It is imported here alone, lazily: only
commands that meet a bundle pay its ~0.3 s import (tests/unit/test_architecture.py).

What mcpkg adds on top (docs/signing.md):
- the trust material is read from files only, never fetched: the public-good
  `trusted_root.json` the library ships (read in place, nothing copied into the
  library's own data or cache folders), or the user's `[sigstore] trusted-root`;
- the policy is mcpkg's (`identity.py`): sigstore-python is given a policy that accepts
  any certificate, and the identity is matched afterwards, so a refusal can say whether
  the bundle did not verify or was made by someone the policy does not name;
- the content is bound to the manifest (`statement.py`);
- bounds: a bundle larger than MAX_BUNDLE, or a DSSE envelope with other than one
  signature, is refused before it is parsed further.

Bundles that cannot be verified offline are reported as such, never accepted: without a
transparency-log entry (RFC 3161 timestamps alone, as GitHub's private-repository
attestations), and with log entry kinds sigstore-python cannot bind to a time offline
(`intoto` 0.0.2).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpkg.config import IdentityRule
from mcpkg.errors import ConfigError, SignatureError, UsageError
from mcpkg.signing.identity import CertIdentity, cert_identity, matching_rule
from mcpkg.signing.statement import statement_binding, statement_for

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import ClientTrustConfig, TrustedRoot
    from sigstore.verify import Verifier

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
BUNDLE_MEDIA_TYPES = (
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
)
MAX_BUNDLE = 1024 * 1024  # cosign's bundles are ~5 KiB, GitHub's provenance ~15 KiB
PUBLIC_GOOD = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
MAX_TRUST_FILE = 4 * 1024 * 1024


@dataclass(frozen=True)
class BundleVerdict:
    digest: str  # sha256 of the bundle blob
    source: str  # where it was found: referrers API, fallback tag, cache
    valid: bool
    reason: str
    kind: str = "unknown"  # "dsse" | "message-signature"
    identity: CertIdentity | None = None
    predicate_type: str | None = None
    log_index: int | None = None
    integrated_time: int | None = None  # seconds since the epoch, from the log
    index: int = 0

    @property
    def time_text(self) -> str | None:
        if self.integrated_time is None:
            return None
        return datetime.datetime.fromtimestamp(self.integrated_time, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def to_json(self) -> dict[str, Any]:
        who = self.identity.to_json() if self.identity else None
        return {
            "kind": "bundle",
            "index": self.index,
            "digest": self.digest,
            "source": self.source,
            "content": self.kind,
            "predicate-type": self.predicate_type,
            "identity": who,
            "log-index": self.log_index,
            "integrated-time": self.time_text,
            "valid": self.valid,
            "reason": self.reason,
        }

    def describe(self) -> str:
        who = self.identity.describe() if self.identity else "signer unknown"
        logged = f", log index {self.log_index} at {self.time_text}" if self.log_index is not None else ""
        return f"bundle {self.digest[:19]}… ({self.kind}) by {who}{logged}: {self.reason}"


@dataclass
class _TrustCache:
    roots: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_trust = _TrustCache()


def _read_trust_file(path: Path, what: str, key: str) -> bytes:
    hint = f"fix `[sigstore] {key}` in your config (docs/signing.md says how to get a current one)"
    try:
        with path.open("rb") as f:
            data = f.read(MAX_TRUST_FILE + 1)
    except FileNotFoundError:
        raise ConfigError(f"the {what} {path} does not exist", hint) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}", hint) from None
    if len(data) > MAX_TRUST_FILE:
        raise ConfigError(f"the {what} {path} is larger than {MAX_TRUST_FILE} bytes", hint)
    return data


def _shipped(name: str) -> bytes:
    """A file of the public-good instance as the sigstore wheel ships it, read in place."""
    return resources.files("sigstore._store").joinpath(PUBLIC_GOOD, name).read_bytes()


def trusted_root_bytes(path: Path | None) -> tuple[bytes, str]:
    if path is None:
        return _shipped("trusted_root.json"), "the public-good trusted root (shipped with sigstore-python)"
    return _read_trust_file(path, "trusted root", "trusted-root"), str(path)


def load_trusted_root(path: Path | None) -> TrustedRoot:
    from sigstore.models import TrustedRoot
    from sigstore_models.trustroot import v1 as trustroot_v1

    data, name = trusted_root_bytes(path)
    try:
        root = TrustedRoot(trustroot_v1.TrustedRoot.from_json(data))
        root.get_fulcio_certs()  # a root without a CA verifies nothing: say so now
    except Exception as exc:  # pydantic, JSON and sigstore errors alike
        raise ConfigError(
            f"{name} is not a valid Sigstore trusted root: {_first_line(exc)}",
            "give `[sigstore] trusted-root` a trusted_root.json (media type "
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1)",
        ) from None
    return root


def _verifier(path: Path | None) -> Verifier:
    from sigstore.verify import Verifier

    key = str(path) if path else ""
    with _trust.lock:
        cached = _trust.roots.get(key)
        if cached is None:
            cached = Verifier(trusted_root=load_trusted_root(path))
            _trust.roots[key] = cached
        return cached


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    """The first line of `exc`, or of its cause when it says nothing (sigstore-python's
    Fulcio client drops the server's answer to a 4xx: the HTTP error is the cause)."""
    text = _first_line(exc)
    if text == type(exc).__name__ and exc.__cause__ is not None:
        text = f"{text}: {_first_line(exc.__cause__)}"
    return text


class _AnyCertificate:
    """A sigstore VerificationPolicy that accepts every certificate: mcpkg matches the
    identity itself afterwards (`identity.matching_rule`), to say who signed."""

    def verify(self, cert: Certificate) -> None:
        return None


def bundle_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _precheck(data: bytes) -> str | None:
    """Why `data` is refused before sigstore-python parses it (None: go on)."""
    if len(data) > MAX_BUNDLE:
        return f"the bundle is {len(data)} bytes, more than mcpkg reads ({MAX_BUNDLE})"
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return "not a Sigstore bundle (not JSON)"
    if not isinstance(body, dict):
        return "not a Sigstore bundle (not a JSON object)"
    media_type = body.get("mediaType")
    if not isinstance(media_type, str) or not media_type.startswith("application/vnd.dev.sigstore.bundle"):
        return f"not a Sigstore bundle (media type {media_type!r})"
    envelope = body.get("dsseEnvelope")
    if isinstance(envelope, dict):
        signatures = envelope.get("signatures")
        count = len(signatures) if isinstance(signatures, list) else 0
        if count != 1:
            return f"the DSSE envelope carries {count} signatures; cosign and GitHub write exactly one"
    material = body.get("verificationMaterial")
    if isinstance(material, dict) and not material.get("tlogEntries"):
        return (
            "cannot be verified offline: the bundle has no transparency-log entry (it relies on an RFC 3161 "
            "timestamp alone, as GitHub's private-repository attestations do)"
        )
    return None


def _log_facts(bundle: Any) -> tuple[int | None, int | None, str]:
    try:
        inner = bundle.log_entry._inner
        kind = f"{inner.kind_version.kind} {inner.kind_version.version}"
        return int(inner.log_index), int(inner.integrated_time) if inner.integrated_time else None, kind
    except (AttributeError, TypeError, ValueError):
        return None, None, "unknown"


def verify_bundle(
    data: bytes,
    manifest_digest: str,
    rules: tuple[IdentityRule, ...],
    trusted_root: Path | None,
    *,
    source: str,
    index: int = 0,
) -> BundleVerdict:
    """The verdict on one bundle for `manifest_digest` under identity `rules`."""
    digest = bundle_digest(data)
    refused = _precheck(data)
    if refused is not None:
        return BundleVerdict(digest, source, False, refused, index=index)
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle

    try:
        bundle = Bundle.from_json(data)
    except Exception as exc:  # InvalidBundle, pydantic and protobuf errors
        return BundleVerdict(digest, source, False, f"not a bundle mcpkg can read: {_first_line(exc)}", index=index)
    is_dsse = bundle._dsse_envelope is not None
    kind = "dsse" if is_dsse else "message-signature"
    try:
        who: CertIdentity | None = cert_identity(bundle.signing_certificate)
    except Exception:
        who = None
    log_index, integrated, entry_kind = _log_facts(bundle)

    def verdict(valid: bool, reason: str, predicate: str | None = None) -> BundleVerdict:
        return BundleVerdict(digest, source, valid, reason, kind, who, predicate, log_index, integrated, index)

    verifier = _verifier(trusted_root)
    predicate = None
    try:
        if is_dsse:
            payload_type, payload = verifier.verify_dsse(bundle, _AnyCertificate())
            predicate, unbound = statement_binding(payload_type, payload, manifest_digest)
        else:
            from sigstore.hashes import Hashed
            from sigstore_models.common.v1 import HashAlgorithm

            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(manifest_digest.partition(":")[2]))
            signature = bundle._inner.message_signature
            signed = signature.message_digest.digest if signature and signature.message_digest else None
            if signed is not None and signed != hashed.digest:
                return verdict(False, f"signs another digest (sha256:{signed.hex()})")
            verifier.verify_artifact(hashed, bundle, _AnyCertificate())
            unbound = None
    except SigstoreError as exc:
        reason = _first_line(exc)
        if "Integrated time only supported" in reason or entry_kind.startswith("intoto"):
            reason = f"cannot be verified offline: its log entry is {entry_kind} ({reason})"
        elif any(m in reason for m in ("invalid signing cert", "expired", "not valid at validation time")):
            reason = f"a certificate of the chain was not valid when the log saw the signature ({reason})"
        else:
            reason = f"does not verify against the trusted root: {reason}"
        return verdict(False, reason)
    except Exception as exc:  # malformed parts sigstore-python trips over
        return verdict(False, f"does not verify: {_first_line(exc)}")
    if unbound is not None:
        return verdict(False, unbound, predicate)
    if who is None:
        return verdict(False, "the certificate names no identity", predicate)
    rule, why = matching_rule(rules, who)
    return verdict(rule is not None, why, predicate)


def identity_token(given: str | None) -> str:
    """The OIDC token for `sign --keyless`: `--identity-token`, `SIGSTORE_IDENTITY_TOKEN`,
    else the CI's ambient credential (GitHub Actions with `id-token: write`)."""
    token = given or os.environ.get("SIGSTORE_IDENTITY_TOKEN")
    if token:
        return token.strip()
    from sigstore.oidc import detect_credential

    try:
        detected = detect_credential()
    except Exception as exc:
        raise SignatureError(f"cannot get an identity token from the CI: {_first_line(exc)}") from None
    if not detected:
        raise UsageError(
            "no identity token for keyless signing",
            "pass --identity-token, set SIGSTORE_IDENTITY_TOKEN, or run in GitHub Actions with "
            "`permissions: id-token: write`",
        )
    return detected


def _client_trust_config(trusted_root: Path | None, signing_config: Path | None) -> ClientTrustConfig:
    from sigstore.models import ClientTrustConfig, SigningConfig
    from sigstore_models.trustroot import v1 as trustroot_v1

    load_trusted_root(trusted_root)  # the same checks and messages as verification
    root = trustroot_v1.TrustedRoot.from_json(trusted_root_bytes(trusted_root)[0])
    if signing_config is None:
        raw, name = _shipped("signing_config.v0.2.json"), "the public-good signing config"
    else:
        raw, name = _read_trust_file(signing_config, "signing config", "signing-config"), str(signing_config)
    try:
        inner = trustroot_v1.SigningConfig.from_json(raw)
        SigningConfig(inner)
    except Exception as exc:
        raise ConfigError(
            f"{name} is not a valid Sigstore signing config: {_first_line(exc)}",
            "give `[sigstore] signing-config` a signing_config.json "
            "(media type application/vnd.dev.sigstore.signingconfig.v0.2+json)",
        ) from None
    return ClientTrustConfig(
        trustroot_v1.ClientTrustConfig(
            media_type="application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            trusted_root=root,
            signing_config=inner,
        )
    )


def _exact_statement(statement_class: Any, statement: bytes) -> Any:
    """A sigstore `Statement` that signs exactly `statement`: cosign v3's subject carries
    only a digest, and sigstore-python's model insists on a `name` key, so the model is
    validated with `"name": null` added and the signed bytes stay cosign's."""
    body = json.loads(statement)
    for subject in body["subject"]:
        subject.setdefault("name", None)
    made = statement_class(json.dumps(body).encode())
    made._contents = statement
    return made


def sign_manifest(
    manifest_digest: str, token: str, trusted_root: Path | None, signing_config: Path | None
) -> tuple[bytes, CertIdentity | None, int | None]:
    """A cosign v3 bundle (DSSE over the `cosign/sign/v1` statement of the digest), made
    with the services the signing config names. Returns (bundle JSON, signer, log index).
    The token appears in no message."""
    from sigstore.dsse import Statement
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    config = _client_trust_config(trusted_root, signing_config)
    try:
        parsed = IdentityToken(token)
    except Exception as exc:
        raise UsageError(f"the identity token is not usable: {_first_line(exc).replace(token, '<token>')}") from None
    statement = json.dumps(statement_for(manifest_digest), separators=(",", ":")).encode()
    try:
        context = SigningContext.from_trust_config(config)
        # cache=True: with False, sigstore-python 4.5 signs with another key than the certificate's
        with context.signer(parsed, cache=True) as signer:
            bundle = signer.sign_dsse(_exact_statement(Statement, statement))
    except SigstoreError as exc:
        raise SignatureError(
            f"keyless signing failed: {_reason(exc).replace(token, '<token>')}",
            "check the signing config's services and that the token is fresh",
        ) from None
    except Exception as exc:
        raise SignatureError(f"keyless signing failed: {_reason(exc).replace(token, '<token>')}") from None
    data = bundle.to_json().encode()
    log_index, _, _ = _log_facts(bundle)
    return data, cert_identity(bundle.signing_certificate), log_index
