"""Sigstore bundles attached to a manifest as OCI 1.1 referrers (docs/signing.md).

Finding them, for manifest digest `sha256:<hex>` of `<name>`:
1. the referrers API, `GET /v2/<name>/referrers/sha256:<hex>?artifactType=<bundle type>`:
   an OCI image index of referrer descriptors, possibly over several pages (`Link`);
   a registry that did not filter (no `OCI-Filters-Applied: artifactType`) is filtered
   here, and so is one that says it did;
2. when the registry has no referrers API (404, or 400/405/501), the fallback tag
   `sha256-<hex>`: an OCI image index kept by the writers, filtered the same way.
Each bundle referrer is then a manifest (fetched by digest, verified) with one layer, the
bundle (fetched by digest, verified, at most MAX_BUNDLE bytes).

Bounds: MAX_PAGES pages of at most 4 MiB, MAX_ENTRIES descriptors read in all, and the
first MAX_BUNDLES bundle referrers examined; beyond that a registry is misbehaving or
hostile, and what was not read is said, not silently dropped.

Attaching (cosign v3's layout, `sign --keyless`): the bundle blob, the empty config
`{}`, then an image manifest with `artifactType` = the bundle media type, one layer
(the bundle; title `sha256-<hex>.sigstore.json`), `subject` = the signed manifest and
annotations `dev.sigstore.bundle.content`, `dev.sigstore.bundle.predicateType` and
`org.opencontainers.image.created`, pushed by digest. A registry that answers
`OCI-Subject` indexes it itself; otherwise the fallback index is read, the new
descriptor added (the entries already there kept) and the index put back.
"""

from __future__ import annotations

import datetime
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mcpkg.errors import InvalidArtifactError, McpkgError, NotFoundError, RegistryError, UsageError
from mcpkg.oci.artifact import OCI_INDEX, OCI_MANIFEST, Descriptor, parse_descriptor
from mcpkg.oci.blobs import blob_exists, download_blob, upload_blob
from mcpkg.oci.client import RegistryClient, next_link, sha256_digest
from mcpkg.reference import Digest
from mcpkg.signing.keyless import BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPES, MAX_BUNDLE
from mcpkg.signing.statement import COSIGN_SIGN

MAX_PAGES = 16
MAX_PAGE_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 10_000
MAX_BUNDLES = 16
NO_REFERRERS_API = (400, 404, 405, 501)
EMPTY_CONFIG = b"{}"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class FoundBundle:
    data: bytes | None  # None when it could not be fetched (then `problem` says why)
    digest: str  # the bundle blob's digest (the referrer's layer)
    source: str  # "referrers API" | "fallback tag sha256-<hex>"
    problem: str | None = None


@dataclass
class Discovery:
    bundles: list[FoundBundle] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was bounded or skipped


def fallback_tag(digest: Digest) -> str:
    return f"sha256-{digest.hex}"


def _index_entries(data: bytes, what: str) -> list[Any]:
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArtifactError(f"{what} is not valid JSON") from exc
    manifests = body.get("manifests") if isinstance(body, dict) else None
    if manifests is None:
        return []
    if not isinstance(manifests, list):
        raise InvalidArtifactError(f"{what} is malformed: `manifests` is not a list")
    return manifests


def _is_bundle(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("artifactType") in BUNDLE_MEDIA_TYPES


def _referrers_api(client: RegistryClient, repository: str, digest: Digest, notes: list[str]) -> list[Any] | None:
    """Bundle descriptors from the referrers API, or None when the registry has none."""
    url: str | None = (
        f"{client.base_url}/v2/{repository}/referrers/{digest}?artifactType={quote(BUNDLE_MEDIA_TYPE, safe='')}"
    )
    what = f"the referrers of {client.registry}/{repository}@{digest}"
    seen: set[str] = set()
    found: list[Any] = []
    read = 0
    while url:
        if url in seen:
            raise RegistryError(f"{what} page back to a page already read", "the registry is misbehaving")
        if len(seen) >= MAX_PAGES:
            notes.append(f"stopped after {MAX_PAGES} pages of referrers")
            break
        seen.add(url)
        first = len(seen) == 1
        ok = (200, *NO_REFERRERS_API) if first else (200,)
        response = client.request("GET", url, what=what, headers={"Accept": OCI_INDEX}, ok=ok)
        if response.status != 200:  # no referrers API: the caller reads the fallback tag
            response.close()
            return None
        link = ", ".join(response.headers.get_all("Link") or []) or None
        data = client.read_bounded(response, MAX_PAGE_BYTES, what)
        entries = _index_entries(data, what)
        read += len(entries)
        found.extend(e for e in entries if _is_bundle(e))  # filtered here whatever the registry says
        if read >= MAX_ENTRIES:
            notes.append(f"stopped after {read} referrers (at most {MAX_ENTRIES} are read)")
            break
        next_url = next_link(link, url)
        url = client.absolute(next_url, url) if next_url else None
    return found


def _fallback_index(client: RegistryClient, repository: str, digest: Digest) -> list[Any]:
    try:
        fetched = client.get_manifest(repository, fallback_tag(digest))
    except NotFoundError:
        return []
    return _index_entries(fetched.data, f"the referrers index {client.registry}/{repository}:{fallback_tag(digest)}")


def _fetch_bundle(client: RegistryClient, repository: str, entry: Any, source: str) -> FoundBundle:
    try:
        desc = parse_descriptor(entry, "referrer")
    except McpkgError as exc:
        return FoundBundle(None, "?", source, f"malformed referrer descriptor: {exc.message}")
    try:
        fetched = client.get_manifest(repository, str(desc.digest))
        body = json.loads(fetched.data)
        layers = body.get("layers") if isinstance(body, dict) else None
        if not isinstance(layers, list) or len(layers) != 1:
            return FoundBundle(None, str(desc.digest), source, "the referrer manifest does not have exactly one layer")
        layer = parse_descriptor(layers[0], "bundle layer")
        if layer.media_type not in BUNDLE_MEDIA_TYPES:
            return FoundBundle(
                None, str(layer.digest), source, f"layer media type {layer.media_type!r} is not a bundle's"
            )
        if layer.size > MAX_BUNDLE:
            return FoundBundle(
                None,
                str(layer.digest),
                source,
                f"the bundle is {layer.size} bytes, more than mcpkg reads ({MAX_BUNDLE})",
            )
        buffer = io.BytesIO()
        download_blob(client, repository, layer.digest, layer.size, buffer)
        return FoundBundle(buffer.getvalue(), str(layer.digest), source)
    except (ValueError, UnicodeDecodeError):
        return FoundBundle(None, str(desc.digest), source, "the referrer manifest is not valid JSON")
    except McpkgError as exc:
        return FoundBundle(None, str(desc.digest), source, f"unavailable or corrupt: {exc.message}")


def discover_bundles(client: RegistryClient, repository: str, digest: Digest, *, fetch: bool = True) -> Discovery:
    """Every Sigstore bundle attached to `digest` (bounded, see the module docstring);
    without `fetch`, only their descriptors (data None)."""
    discovery = Discovery()
    entries = _referrers_api(client, repository, digest, discovery.notes)
    source = "referrers API"
    if entries is None:
        entries = [e for e in _fallback_index(client, repository, digest) if _is_bundle(e)]
        source = f"fallback tag {fallback_tag(digest)}"
    unique = list({str(e.get("digest")): e for e in entries}.values())
    if len(unique) > MAX_BUNDLES:
        discovery.notes.append(f"{len(unique)} bundle referrers; the first {MAX_BUNDLES} were examined")
    if not fetch:
        discovery.bundles = [FoundBundle(None, str(e.get("digest")), source, "not fetched") for e in unique]
        return discovery
    discovery.bundles = [_fetch_bundle(client, repository, e, source) for e in unique[:MAX_BUNDLES]]
    return discovery


def _created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.datetime.now(datetime.UTC)
    if epoch:
        try:
            moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        except ValueError:
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ensure_blob(client: RegistryClient, repository: str, data: bytes) -> Digest:
    digest = sha256_digest(data)
    if not blob_exists(client, repository, digest):
        upload_blob(client, repository, digest, len(data), data)
    return digest


def attach_bundle(
    client: RegistryClient, repository: str, subject: Descriptor, bundle: bytes, predicate_type: str = COSIGN_SIGN
) -> tuple[Digest, str]:
    """Attach `bundle` to `subject` as cosign v3 does. Returns (referrer manifest digest,
    how it is found: "referrers API" or the fallback tag)."""
    bundle_digest = _ensure_blob(client, repository, bundle)
    config_digest = _ensure_blob(client, repository, EMPTY_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": Descriptor(EMPTY_MEDIA_TYPE, config_digest, len(EMPTY_CONFIG)).to_json(),
        "layers": [
            Descriptor(
                BUNDLE_MEDIA_TYPE, bundle_digest, len(bundle), {TITLE: f"{fallback_tag(subject.digest)}.sigstore.json"}
            ).to_json()
        ],
        "subject": subject.to_json(),
        "annotations": {
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": predicate_type,
            "org.opencontainers.image.created": _created(),
        },
    }
    data = json.dumps(manifest, separators=(",", ":")).encode()
    digest, indexed = client.put_manifest_subject(repository, str(sha256_digest(data)), data, OCI_MANIFEST)
    if indexed:
        return digest, "referrers API"
    entry = {
        "mediaType": OCI_MANIFEST,
        "digest": str(digest),
        "size": len(data),
        "artifactType": BUNDLE_MEDIA_TYPE,
        "annotations": manifest["annotations"],
    }
    tag = fallback_tag(subject.digest)
    existing = [e for e in _fallback_index(client, repository, subject.digest) if isinstance(e, dict)]
    kept = [e for e in existing if e.get("digest") != str(digest)]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*kept, entry]}
    client.put_manifest(repository, tag, json.dumps(index, separators=(",", ":")).encode(), OCI_INDEX)
    return digest, f"fallback tag {tag}"
