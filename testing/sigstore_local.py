"""A private Sigstore for tests: a Fulcio-like CA, a CT log and a Rekor-v1-like transparency log, served on loopback.

Tests of keyless signing cannot reach the public-good Sigstore (there is no network, and its
certificates would have to come from a real OIDC login), so `LocalSigstore` plays every part
itself, in pure Python with `cryptography`:

* **OIDC issuer.** `token()` mints ES256 JWTs (aud "sigstore", iat/nbf/exp, iss, sub, email or
  GitHub Actions claims) signed by a key of this instance; sigstore-python's `IdentityToken`
  accepts them (it does not check the signature; our Fulcio does).
* **Fulcio.** A P-384 root and a P-384 intermediate issue 10-minute code-signing leaves (empty
  subject, critical SAN, KeyUsage digitalSignature, EKU codeSigning, SKI/AKI) with Fulcio's
  OID extensions derived from the token the way Fulcio derives them: OIDC issuer in both
  `1.3.6.1.4.1.57264.1.1` (raw bytes, legacy) and `.1.8` (DER UTF8String); for the GitHub
  Actions issuer the SAN is `https://github.com/<job_workflow_ref>` and the legacy `.1.2-.1.6`
  (raw) plus `.1.9-.1.22` (UTF8String) extensions are filled from the claims (source
  repository URI `.1.12`, ref `.1.14`, build config URI `.1.18`, ...); for any other issuer
  the SAN is the `email` claim (which must be verified) or, without one, the `sub` as a URI.
  Every leaf carries one embedded precertificate SCT signed by this instance's CT log key
  (P-256) over `issuer key hash || TBS without the SCT extension`, which is what
  sigstore-python (`_internal/sct.py`) and @sigstore/verify check.
* **Rekor v1.** An RFC 6962 Merkle log (in memory) accepting `hashedrekord` 0.0.1 and `dsse`
  0.0.1 entries (signatures are checked against the submitted certificate, as Rekor does).
  Each entry comes back with integratedTime = now, a signed entry timestamp (ECDSA P-256 over
  the RFC 8785 JSON of body/integratedTime/logID/logIndex), and an inclusion proof against the
  tree just after the entry, with a checkpoint in the Rekor "signed note" format
  (`<origin>\\n<size>\\n<b64 root>\\n\\n— <name> <b64(keyhint[4] || sig)>\\n`, key hint = first
  four bytes of the log id, name = `127.0.0.1:<port>` so @sigstore/verify's name-to-baseUrl
  match passes).
* **HTTP.** A threaded `http.server` on 127.0.0.1:<free port> serves Fulcio
  `POST /api/v2/signingCert` and Rekor `POST /api/v1/log/entries`, `GET /api/v1/log`,
  `GET /api/v1/log/entries/<uuid>` and `GET /api/v1/log/entries?logIndex=N`.
* **Trust files.** `start()` writes, in the instance's directory, `trusted_root.json`
  (TrustedRoot 0.1: the CA chain [intermediate, root], the CT log and the Rekor log with their
  SPKI keys, log ids = SHA-256 of the SPKI, valid from a day ago), `signing_config.json`
  (SigningConfig v0.2: Fulcio and Rekor v1 at the local URL, no OIDC or TSA services) and
  `client_trust_config.json` (both wrapped in a ClientTrustConfig v0.1, what the `sigstore`
  CLI's `--trust-config` takes).

Two instances share nothing (each has its own keys, port and files), so a bundle from one is
refused by a verifier holding the other's trusted root ("chains to an untrusted root").

The hostile-bundle helpers (`issue_bundle_dsse`, `issue_bundle_message`) build a v0.3 bundle
without HTTP and without sigstore-python's Signer: they issue a certificate with a chosen
validity window, sign, and append the entry to the same local log, so a test can produce what
Signer never would (a certificate that expired before the log's integrated time, two DSSE
signatures, an arbitrary payload type).

Signing with sigstore-python 4.5.1 against an instance, offline (no TUF, nothing written to
sigstore-python's data or cache folders; `ClientTrustConfig.from_tuf`/`production()` are the
only paths that touch those)::

    import json
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    config = ClientTrustConfig.from_json(json.dumps({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads(trusted_root_path.read_text()),
        "signingConfig": json.loads(signing_config_path.read_text()),
    }))  # or ClientTrustConfig.from_json(client_trust_config_path.read_text())
    context = SigningContext.from_trust_config(config)
    with context.signer(IdentityToken(raw_token), cache=True) as signer:
        bundle = signer.sign_dsse(statement)   # or signer.sign_artifact(data)

and verifying::

    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier, policy
    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root_path)))
    verifier.verify_dsse(Bundle.from_json(text), policy.Identity(identity=san, issuer=issuer))

`LocalSigstore.signing_context()` does the first part. sigstore-python talks HTTP with
`requests`, which honours HTTP(S)_PROXY: where a proxy is configured, NO_PROXY must cover
127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import shutil
import struct
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from sigstore.sign import SigningContext

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
"""The GitHub Actions OIDC issuer; tokens from it get Fulcio's GitHub workflow extensions."""
EMAIL_ISSUER = "https://oauth2.sigstore.dev/auth"
"""The default issuer of `token()`: an email issuer (the one Fulcio and sigstore-python know as such)."""
DEFAULT_EMAIL = "signer@example.test"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"

_FULCIO_OID = "1.3.6.1.4.1.57264.1."
_SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_CERT_LIFETIME = datetime.timedelta(minutes=10)  # Fulcio's


class SigstoreRequestError(Exception):
    """A request the local Fulcio or Rekor refuses (HTTP 400/401)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# --- small encoders ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical_json(value: Any) -> bytes:
    """RFC 8785 for the values used here (ASCII strings, integers, lists, objects)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _der_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _utf8_string(value: str) -> bytes:
    return _der_tlv(0x0C, value.encode())


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key id: SHA-256 of the DER SubjectPublicKeyInfo (Sigstore's log ids)."""
    return hashlib.sha256(_spki(key)).digest()


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _dsse_pae(payload_type: str, payload: bytes) -> bytes:
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)


# --- identity: GitHub claims and Fulcio's mapping ----------------------------------------------


def github_claims(
    repository: str = "acme/widget",
    *,
    workflow: str = ".github/workflows/release.yml",
    ref: str = "refs/heads/main",
    sha: str = "1" * 40,
    event_name: str = "push",
    runner_environment: str = "github-hosted",
    job_workflow_ref: str | None = None,
) -> dict[str, Any]:
    """GitHub Actions OIDC claims for a run of `workflow` in `repository` at `ref`.

    `job_workflow_ref` defaults to the workflow itself (`<repository>/<workflow>@<ref>`);
    set it to name a reusable workflow in another repository (the certificate SAN follows it,
    `.1.18` keeps following `workflow_ref`)."""
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/{workflow}@{ref}"
    return {
        "sub": f"repo:{repository}:ref:{ref}",
        "repository": repository,
        "repository_id": "100001",
        "repository_owner": owner,
        "repository_owner_id": "200002",
        "repository_visibility": "public",
        "ref": ref,
        "ref_type": "branch" if ref.startswith("refs/heads/") else "tag",
        "sha": sha,
        "workflow": Path(workflow).stem,
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": job_workflow_ref or workflow_ref,
        "job_workflow_sha": sha,
        "event_name": event_name,
        "runner_environment": runner_environment,
        "run_id": "3000003",
        "run_attempt": "1",
        "actor": owner,
    }


def github_identity(claims: Mapping[str, Any]) -> str:
    """The certificate SAN Fulcio gives GitHub Actions `claims`: `https://github.com/<job_workflow_ref>`."""
    return f"https://github.com/{claims['job_workflow_ref']}"


@dataclass(frozen=True)
class _Identity:
    san: x509.GeneralName
    raw_extensions: dict[str, str]  # OID suffix -> value, written as raw bytes (legacy .1.1-.1.6)
    utf8_extensions: dict[str, str]  # OID suffix -> value, written as DER UTF8String (.1.8+)


def _fulcio_identity(claims: Mapping[str, Any]) -> _Identity:
    """Derive the SAN and the Fulcio extensions from verified token claims, as Fulcio does."""
    issuer = str(claims["iss"])
    raw = {"1": issuer}
    utf8 = {"8": issuer}
    if issuer == GITHUB_ISSUER:
        if not claims.get("job_workflow_ref"):
            raise SigstoreRequestError(400, "GitHub Actions token lacks the job_workflow_ref claim")
        gh = "https://github.com/"

        def claim(name: str) -> str:
            value = claims.get(name)
            return "" if value is None else str(value)

        raw.update({"2": claim("event_name"), "3": claim("sha"), "4": claim("workflow"), "5": claim("repository")})
        raw["6"] = claim("ref")
        repository = claim("repository")
        utf8.update(
            {
                "9": gh + claim("job_workflow_ref"),
                "10": claim("job_workflow_sha"),
                "11": claim("runner_environment"),
                "12": gh + repository if repository else "",
                "13": claim("sha"),
                "14": claim("ref"),
                "15": claim("repository_id"),
                "16": gh + claim("repository_owner") if claim("repository_owner") else "",
                "17": claim("repository_owner_id"),
                "18": gh + claim("workflow_ref") if claim("workflow_ref") else "",
                "19": claim("workflow_sha"),
                "20": claim("event_name"),
                "21": (
                    f"{gh}{repository}/actions/runs/{claim('run_id')}/attempts/{claim('run_attempt')}"
                    if repository and claim("run_id")
                    else ""
                ),
                "22": claim("repository_visibility"),
            }
        )
        san: x509.GeneralName = x509.UniformResourceIdentifier(github_identity(claims))
    elif claims.get("email"):
        if claims.get("email_verified") is not True:
            raise SigstoreRequestError(400, "email claim is not verified")
        san = x509.RFC822Name(str(claims["email"]))
    else:
        san = x509.UniformResourceIdentifier(str(claims["sub"]))
    return _Identity(
        san=san,
        raw_extensions={k: v for k, v in raw.items() if v},  # Fulcio leaves out empty values
        utf8_extensions={k: v for k, v in utf8.items() if v},
    )


# --- the Merkle log ------------------------------------------------------------------------------


def _leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _tree_hash(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node_hash(_tree_hash(leaves[:k]), _tree_hash(leaves[k:]))


def _inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]), lowest level first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_inclusion_path(index, leaves[:k]), _tree_hash(leaves[k:])]
    return [*_inclusion_path(index - k, leaves[k:]), _tree_hash(leaves[:k])]


class _RekorLog:
    """The transparency log's state and its signing key; entries are Rekor v1 API objects."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = _key_id(self.key.public_key())
        self.tree_id = secrets.randbelow(2**62) + 1
        self.name = "rekor.local"  # replaced by host:port once the server is bound
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._leaves: list[bytes] = []
        self._integrated: list[int] = []

    def _sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def append(self, body: bytes, integrated_time: int | None = None) -> tuple[str, dict[str, Any]]:
        """Integrate a canonicalized entry body; return (uuid, Rekor v1 LogEntry)."""
        with self._lock:
            index = len(self._bodies)
            self._bodies.append(body)
            self._leaves.append(_leaf_hash(body))
            self._integrated.append(int(time.time()) if integrated_time is None else integrated_time)
            return self._entry(index, len(self._leaves))

    def entry(self, index: int) -> tuple[str, dict[str, Any]]:
        with self._lock:
            if not 0 <= index < len(self._bodies):
                raise KeyError(index)
            return self._entry(index, len(self._leaves))

    def find(self, uuid: str) -> tuple[str, dict[str, Any]]:
        wanted = uuid[-64:].lower()
        with self._lock:
            for index, leaf in enumerate(self._leaves):
                if leaf.hex() == wanted:
                    return self._entry(index, len(self._leaves))
        raise KeyError(uuid)

    def info(self) -> dict[str, Any]:
        with self._lock:
            size = len(self._leaves)
            root = _tree_hash(self._leaves)
            return {
                "rootHash": root.hex(),
                "treeSize": size,
                "signedTreeHead": self._checkpoint(size, root),
                "treeID": str(self.tree_id),
            }

    def _checkpoint(self, size: int, root: bytes) -> str:
        note = f"{self.name} - {self.tree_id}\n{size}\n{_b64(root)}\n"
        signature = self.log_id[:4] + self._sign(note.encode())
        return f"{note}\n\u2014 {self.name} {_b64(signature)}\n"

    def _entry(self, index: int, size: int) -> tuple[str, dict[str, Any]]:
        leaves = self._leaves[:size]
        root = _tree_hash(leaves)
        body_b64 = _b64(self._bodies[index])
        integrated = self._integrated[index]
        set_payload = {"body": body_b64, "integratedTime": integrated, "logID": self.log_id.hex(), "logIndex": index}
        uuid = self._leaves[index].hex()
        return uuid, {
            "body": body_b64,
            "integratedTime": integrated,
            "logID": self.log_id.hex(),
            "logIndex": index,
            "verification": {
                "signedEntryTimestamp": _b64(self._sign(_canonical_json(set_payload))),
                "inclusionProof": {
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                    "hashes": [h.hex() for h in _inclusion_path(index, leaves)],
                    "checkpoint": self._checkpoint(size, root),
                },
            },
        }


def _bundle_tlog_entry(entry: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """A Rekor v1 LogEntry as a bundle's TransparencyLogEntry (protobuf JSON)."""
    proof = entry["verification"]["inclusionProof"]
    return {
        "logIndex": str(entry["logIndex"]),
        "logId": {"keyId": _b64(bytes.fromhex(entry["logID"]))},
        "kindVersion": {"kind": kind, "version": "0.0.1"},
        "integratedTime": str(entry["integratedTime"]),
        "inclusionPromise": {"signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"]},
        "inclusionProof": {
            "logIndex": str(proof["logIndex"]),
            "rootHash": _b64(bytes.fromhex(proof["rootHash"])),
            "treeSize": str(proof["treeSize"]),
            "hashes": [_b64(bytes.fromhex(h)) for h in proof["hashes"]],
            "checkpoint": {"envelope": proof["checkpoint"]},
        },
        "canonicalizedBody": entry["body"],
    }


# --- Rekor entry validation -----------------------------------------------------------------------


def _load_verifier_cert(b64_pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(base64.b64decode(b64_pem))
    except ValueError as exc:
        raise SigstoreRequestError(400, f"invalid verifier certificate: {exc}") from exc


def _ec_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SigstoreRequestError(400, "only ECDSA verifiers are supported")
    return key


def _canonical_hashedrekord(spec: Mapping[str, Any]) -> bytes:
    try:
        signature_b64 = str(spec["signature"]["content"])
        cert_b64 = str(spec["signature"]["publicKey"]["content"])
        algorithm = str(spec["data"]["hash"]["algorithm"])
        digest_hex = str(spec["data"]["hash"]["value"])
    except (KeyError, TypeError) as exc:
        raise SigstoreRequestError(400, f"malformed hashedrekord entry: missing {exc}") from exc
    if algorithm != "sha256" or len(digest_hex) != 64:
        raise SigstoreRequestError(400, "hashedrekord: only sha256 digests are supported")
    key = _ec_key(_load_verifier_cert(cert_b64))
    try:
        key.verify(base64.b64decode(signature_b64), bytes.fromhex(digest_hex), ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError) as exc:
        raise SigstoreRequestError(400, "hashedrekord: signature does not verify") from exc
    return _canonical_json(
        {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest_hex.lower()}},
                "signature": {"content": signature_b64, "publicKey": {"content": cert_b64}},
            },
        }
    )


def _canonical_dsse(spec: Mapping[str, Any]) -> bytes:
    try:
        envelope_text = str(spec["proposedContent"]["envelope"])
        verifiers = [str(v) for v in spec["proposedContent"]["verifiers"]]
        envelope = json.loads(envelope_text)
        payload = base64.b64decode(envelope["payload"])
        payload_type = str(envelope["payloadType"])
        signatures = [str(s["sig"]) for s in envelope["signatures"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SigstoreRequestError(400, f"malformed dsse entry: {exc}") from exc
    if not verifiers or not signatures:
        raise SigstoreRequestError(400, "dsse: no verifiers or no signatures")
    pae = _dsse_pae(payload_type, payload)
    keys = [(v, _ec_key(_load_verifier_cert(v))) for v in verifiers]
    recorded: list[dict[str, str]] = []
    for signature in signatures:
        for verifier_b64, key in keys:
            try:
                key.verify(base64.b64decode(signature), pae, ec.ECDSA(hashes.SHA256()))
            except (InvalidSignature, ValueError):
                continue
            recorded.append({"signature": signature, "verifier": verifier_b64})
            break
        else:
            raise SigstoreRequestError(400, "dsse: a signature verifies against none of the verifiers")
    recorded.sort(key=lambda s: s["signature"])  # Rekor sorts them by the base64 signature
    return _canonical_json(
        {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_text.encode()).hexdigest()},
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                "signatures": recorded,
            },
        }
    )


def _canonical_body(proposed: Mapping[str, Any]) -> tuple[str, bytes]:
    kind, version = proposed.get("kind"), proposed.get("apiVersion")
    spec = proposed.get("spec")
    if version != "0.0.1" or not isinstance(spec, dict):
        raise SigstoreRequestError(400, f"unsupported entry: {kind} {version}")
    if kind == "hashedrekord":
        return kind, _canonical_hashedrekord(spec)
    if kind == "dsse":
        return kind, _canonical_dsse(spec)
    raise SigstoreRequestError(400, f"unsupported entry kind: {kind}")


# --- the instance --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, instance: LocalSigstore) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.instance = instance


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._reply(status, {"code": status, "message": message})

    def _dispatch(self, method: str) -> None:
        instance = cast(_Server, self.server).instance
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if method == "POST" and url.path == "/api/v2/signingCert":
                request = json.loads(raw or b"{}")
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else ""
                token = token or str(request.get("credentials", {}).get("oidcIdentityToken", ""))
                self._reply(201, instance._fulcio_sign(request, token))
            elif method == "POST" and url.path == "/api/v1/log/entries":
                uuid, entry = instance._rekor_submit(json.loads(raw or b"{}"))
                self._reply(201, {uuid: entry})
            elif method == "GET" and url.path == "/api/v1/log":
                self._reply(200, instance._log.info())
            elif method == "GET" and url.path == "/api/v1/log/entries":
                uuid, entry = instance._log.entry(int(parse_qs(url.query)["logIndex"][0]))
                self._reply(200, {uuid: entry})
            elif method == "GET" and url.path.startswith("/api/v1/log/entries/"):
                uuid, entry = instance._log.find(url.path.rsplit("/", 1)[1])
                self._reply(200, {uuid: entry})
            else:
                self._error(404, f"no such endpoint: {method} {url.path}")
        except SigstoreRequestError as exc:
            self._error(exc.status, str(exc))
        except KeyError as exc:
            self._error(404, f"not found: {exc}")
        except ValueError as exc:
            self._error(400, f"bad request: {exc}")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


class LocalSigstore:
    """A Fulcio + CT log + Rekor v1 instance on 127.0.0.1, with its trust files in `directory`.

    Use as a context manager (or `start()`/`stop()`). `directory` defaults to a fresh temporary
    directory, removed by `stop()`; a given directory is left in place."""

    def __init__(self, directory: Path | None = None, *, name: str = "mcpkg-local-sigstore") -> None:
        self._given_directory = directory
        self._directory: Path | None = None
        self.organization = f"{name}-{secrets.token_hex(4)}"
        self.created = _now() - datetime.timedelta(days=1)
        self._oidc_key = ec.generate_private_key(ec.SECP256R1())
        self._oidc_kid = _key_id(self._oidc_key.public_key()).hex()[:16]
        self._ct_key = ec.generate_private_key(ec.SECP256R1())
        self._ct_log_id = _key_id(self._ct_key.public_key())
        self._log = _RekorLog()
        self._root_key = ec.generate_private_key(ec.SECP384R1())
        self._intermediate_key = ec.generate_private_key(ec.SECP384R1())
        self.root_certificate = self._ca_certificate(
            _name("sigstore", self.organization), self._root_key, self._root_key, None, path_length=1
        )
        self.intermediate_certificate = self._ca_certificate(
            _name("sigstore-intermediate", self.organization),
            self._intermediate_key,
            self._root_key,
            self.root_certificate,
            path_length=0,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def __enter__(self) -> LocalSigstore:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind a free loopback port, serve, and write the trust files."""
        if self._server is not None:
            return
        self._directory = self._given_directory or Path(tempfile.mkdtemp(prefix="local-sigstore-"))
        self._directory.mkdir(parents=True, exist_ok=True)
        self._server = _Server(self)
        self._log.name = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="local-sigstore", daemon=True
        )
        self._thread.start()
        self._write_trust_files()

    def stop(self) -> None:
        """Stop serving; remove the directory if it was a temporary one."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._given_directory is None and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    # -- where things are --

    @property
    def url(self) -> str:
        """Base URL of both the Fulcio and the Rekor stand-in, `http://127.0.0.1:<port>`."""
        if self._server is None:
            raise RuntimeError("LocalSigstore is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def directory(self) -> Path:
        if self._directory is None:
            raise RuntimeError("LocalSigstore is not started")
        return self._directory

    @property
    def trusted_root_path(self) -> Path:
        return self.directory / "trusted_root.json"

    @property
    def signing_config_path(self) -> Path:
        return self.directory / "signing_config.json"

    @property
    def trust_config_path(self) -> Path:
        """The ClientTrustConfig (trusted root + signing config in one file, `sigstore --trust-config`)."""
        return self.directory / "client_trust_config.json"

    def signing_context(self) -> SigningContext:
        """A sigstore-python `SigningContext` for this instance, built from the two files without TUF."""
        from sigstore.models import ClientTrustConfig
        from sigstore.sign import SigningContext

        config = ClientTrustConfig.from_json(self.trust_config_path.read_text())
        return SigningContext.from_trust_config(config)

    # -- OIDC --

    def token(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        identity: str | None = None,
        issuer: str | None = None,
        lifetime: datetime.timedelta = datetime.timedelta(minutes=10),
    ) -> str:
        """An ES256 OIDC token (aud "sigstore") signed by this instance's issuer key.

        `issuer` defaults to `GITHUB_ISSUER` when `claims` has `job_workflow_ref` (see
        `github_claims()`), else to `EMAIL_ISSUER`. For non-GitHub issuers `identity` (default
        `DEFAULT_EMAIL`) becomes `sub`, `email` and `email_verified: true`; for GitHub it becomes
        `sub` if given. `claims` are laid over the defaults; a claim set to None is removed
        (e.g. `{"email": None}` for a URI-SAN identity taken from `sub`)."""
        claims = dict(claims or {})
        if issuer is None:
            issuer = GITHUB_ISSUER if "job_workflow_ref" in claims else EMAIL_ISSUER
        now = int(time.time())
        merged: dict[str, Any] = {
            "iss": issuer,
            "aud": "sigstore",
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime.total_seconds()),
        }
        if issuer == GITHUB_ISSUER:
            if identity is not None:
                merged["sub"] = identity
        else:
            who = identity or DEFAULT_EMAIL
            merged.update({"sub": who, "email": who, "email_verified": True})
        merged.update(claims)
        merged = {k: v for k, v in merged.items() if v is not None}
        header = {"alg": "ES256", "typ": "JWT", "kid": self._oidc_kid}
        signing_input = f"{_b64url(_canonical_json(header))}.{_b64url(_canonical_json(merged))}"
        r, s = decode_dss_signature(self._oidc_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _verify_token(self, token: str) -> dict[str, Any]:
        """What Fulcio does with a token: check the signature (ours), the audience and the lifetime."""
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            signature = _b64url_decode(signature_b64)
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            self._oidc_key.public_key().verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(_b64url_decode(claims_b64))
        except (ValueError, InvalidSignature) as exc:
            raise SigstoreRequestError(401, "the identity token is not one of this instance's issuer") from exc
        if not isinstance(claims, dict):
            raise SigstoreRequestError(401, "the identity token's claims are not an object")
        audience = claims.get("aud")
        if audience != "sigstore" and not (isinstance(audience, list) and "sigstore" in audience):
            raise SigstoreRequestError(401, "the identity token's audience is not sigstore")
        start, end = claims.get("nbf", claims.get("iat")), claims.get("exp")
        if not (isinstance(start, int | float) and isinstance(end, int | float) and start - 5 <= time.time() < end):
            raise SigstoreRequestError(401, "the identity token is expired or not yet valid")
        if "iss" not in claims or "sub" not in claims:
            raise SigstoreRequestError(401, "the identity token lacks iss or sub")
        return claims

    # -- Fulcio --

    def _ca_certificate(
        self,
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        issuer_key: ec.EllipticCurvePrivateKey,
        issuer: x509.Certificate | None,
        *,
        path_length: int,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.created)
            .not_valid_after(self.created + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        return builder.sign(issuer_key, hashes.SHA384())

    def _issue(
        self,
        public_key: ec.EllipticCurvePublicKey,
        claims: Mapping[str, Any],
        *,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
    ) -> x509.Certificate:
        """A Fulcio leaf for `public_key` and the identity in `claims`, with one embedded SCT."""
        identity = _fulcio_identity(claims)
        now = _now()
        not_before = not_before or now
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after or not_before + _CERT_LIFETIME)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._intermediate_key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([identity.san]), critical=True)
        )
        for suffix, value in identity.raw_extensions.items():
            oid = x509.ObjectIdentifier(_FULCIO_OID + suffix)
            builder = builder.add_extension(x509.UnrecognizedExtension(oid, value.encode()), critical=False)
        for suffix, value in sorted(identity.utf8_extensions.items(), key=lambda kv: int(kv[0])):
            oid = x509.ObjectIdentifier(_FULCIO_OID + suffix)
            builder = builder.add_extension(x509.UnrecognizedExtension(oid, _utf8_string(value)), critical=False)

        # The CT log signs the TBS as it will be without the SCT list (the "precertificate"):
        # build it once without the extension, sign that TBS, then append the SCT list last.
        tbs = builder.sign(self._intermediate_key, hashes.SHA384()).tbs_certificate_bytes
        timestamp_ms = int(now.timestamp()) * 1000  # whole seconds: sigstore-python re-derives ms via a float
        issuer_key_hash = _key_id(self._intermediate_key.public_key())
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp_ms, 1)  # v1, certificate_timestamp, time, precert_entry
            + issuer_key_hash
            + len(tbs).to_bytes(3, "big")
            + tbs
            + struct.pack("!H", 0)  # no CT extensions
        )
        signature = self._ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            struct.pack("!B32sQH", 0, self._ct_log_id, timestamp_ms, 0)
            + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
            + signature
        )
        sct_list = struct.pack("!HH", len(sct) + 2, len(sct)) + sct
        cert = builder.add_extension(
            x509.UnrecognizedExtension(_SCT_LIST_OID, _der_tlv(0x04, sct_list)), critical=False
        ).sign(self._intermediate_key, hashes.SHA384())
        if cert.tbs_precertificate_bytes != tbs:  # pragma: no cover - a broken invariant, not a test outcome
            raise AssertionError("precertificate TBS differs from the TBS the SCT signs")
        return cert

    def _chain_pem(self, leaf: x509.Certificate) -> list[str]:
        return [_pem(leaf), _pem(self.intermediate_certificate), _pem(self.root_certificate)]

    def _fulcio_sign(self, request: Mapping[str, Any], token: str) -> dict[str, Any]:
        claims = self._verify_token(token)
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(request["certificateSigningRequest"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SigstoreRequestError(400, f"missing or malformed certificateSigningRequest: {exc}") from exc
        if not csr.is_signature_valid:
            raise SigstoreRequestError(400, "the CSR's signature (proof of possession) does not verify")
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SigstoreRequestError(400, "only ECDSA keys are supported")
        cert = self._issue(key, claims)
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": self._chain_pem(cert)}}}

    # -- Rekor --

    def _rekor_submit(
        self, proposed: Mapping[str, Any], integrated_time: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        _, body = _canonical_body(proposed)
        return self._log.append(body, integrated_time)

    # -- trust files --

    def _log_instance(self, key: ec.EllipticCurvePrivateKey, log_id: bytes) -> dict[str, Any]:
        return {
            "baseUrl": self.url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": _b64(_spki(key.public_key())),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": _rfc3339(self.created)},
            },
            "logId": {"keyId": _b64(log_id)},
        }

    def trusted_root(self) -> dict[str, Any]:
        """The TrustedRoot (media type 0.1) naming this instance's CA, CT log and Rekor log."""
        chain = [self.intermediate_certificate, self.root_certificate]
        return {
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [self._log_instance(self._log.key, self._log.log_id)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": self.organization, "commonName": "sigstore"},
                    "uri": self.url,
                    "certChain": {
                        "certificates": [{"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))} for c in chain]
                    },
                    "validFor": {"start": _rfc3339(self.created)},
                }
            ],
            "ctlogs": [self._log_instance(self._ct_key, self._ct_log_id)],
            "timestampAuthorities": [],
        }

    def signing_config(self) -> dict[str, Any]:
        """The SigningConfig v0.2 naming the local Fulcio and Rekor (v1); no OIDC, no TSA."""
        service = {"url": self.url, "majorApiVersion": 1, "validFor": {"start": _rfc3339(self.created)}}
        return {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [{**service, "operator": "local-fulcio"}],
            "oidcUrls": [],
            "rekorTlogUrls": [{**service, "operator": "local-rekor"}],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaUrls": [],
            "tsaConfig": {"selector": "ANY"},
        }

    def _write_trust_files(self) -> None:
        root, config = self.trusted_root(), self.signing_config()
        self.trusted_root_path.write_text(json.dumps(root, indent=2) + "\n")
        self.signing_config_path.write_text(json.dumps(config, indent=2) + "\n")
        self.trust_config_path.write_text(
            json.dumps(
                {"mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE, "trustedRoot": root, "signingConfig": config}, indent=2
            )
            + "\n"
        )

    # -- offline bundles, for hostile cases --

    def _offline_cert(
        self,
        token: str | None,
        cert_not_before: datetime.timedelta,
        cert_not_after: datetime.timedelta,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        claims = self._verify_token(token or self.token())
        cert = self._issue(key.public_key(), claims, not_before=now + cert_not_before, not_after=now + cert_not_after)
        return key, cert

    @staticmethod
    def _when(integrated_time: datetime.datetime | None) -> int | None:
        return None if integrated_time is None else int(integrated_time.timestamp())

    def issue_bundle_dsse(
        self,
        payload: bytes,
        payload_type: str = IN_TOTO_PAYLOAD_TYPE,
        *,
        token: str | None = None,
        cert_not_before: datetime.timedelta = datetime.timedelta(0),
        cert_not_after: datetime.timedelta = _CERT_LIFETIME,
        integrated_time: datetime.datetime | None = None,
        extra_signature: bool = False,
    ) -> str:
        """A v0.3 bundle (JSON) of a DSSE envelope over `payload`, made without HTTP or Signer.

        The certificate is issued for `token` (default: `self.token()`) with validity
        [now + cert_not_before, now + cert_not_after]; the dsse 0.0.1 entry goes into this
        instance's log with `integrated_time` (default now). `extra_signature` adds a second
        signature by the same key (DSSE signatures are randomized, so it differs) that Rekor
        records too. The payload is signed as given: it need not be an in-toto Statement."""
        key, cert = self._offline_cert(token, cert_not_before, cert_not_after)
        pae = _dsse_pae(payload_type, payload)
        count = 2 if extra_signature else 1
        signatures = [_b64(key.sign(pae, ec.ECDSA(hashes.SHA256()))) for _ in range(count)]
        envelope = {
            "payload": _b64(payload),
            "payloadType": payload_type,
            "signatures": [{"sig": s, "keyid": ""} for s in signatures],
        }
        proposed = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {"envelope": json.dumps(envelope), "verifiers": [_b64(_pem(cert).encode())]}},
        }
        _, entry = self._rekor_submit(proposed, self._when(integrated_time))
        return self._bundle(cert, entry, "dsse", {"dsseEnvelope": envelope})

    def issue_bundle_message(
        self,
        data: bytes,
        *,
        token: str | None = None,
        cert_not_before: datetime.timedelta = datetime.timedelta(0),
        cert_not_after: datetime.timedelta = _CERT_LIFETIME,
        integrated_time: datetime.datetime | None = None,
    ) -> str:
        """A v0.3 bundle (JSON) of a message signature over SHA-256(`data`) with a hashedrekord
        0.0.1 entry, made without HTTP or Signer; the other arguments as in `issue_bundle_dsse`."""
        key, cert = self._offline_cert(token, cert_not_before, cert_not_after)
        digest = hashlib.sha256(data).digest()
        signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        proposed = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": _b64(signature), "publicKey": {"content": _b64(_pem(cert).encode())}},
            },
        }
        _, entry = self._rekor_submit(proposed, self._when(integrated_time))
        content = {
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
                "signature": _b64(signature),
            }
        }
        return self._bundle(cert, entry, "hashedrekord", content)

    @staticmethod
    def _bundle(cert: x509.Certificate, entry: Mapping[str, Any], kind: str, content: dict[str, Any]) -> str:
        bundle = {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [_bundle_tlog_entry(entry, kind)],
                "timestampVerificationData": {},
            },
            **content,
        }
        return json.dumps(bundle, indent=2)
