"""Blob transfers: verified streaming downloads and uploads (monolithic, chunked, mount).

Downloads read the body 1 MiB at a time into one reused buffer, and from there into a
caller-provided file while counting and hashing (no allocation per chunk); one byte more
than the descriptor's size aborts at once, and the digest is compared at the end. An
interrupted transfer is retried from the start (the file is truncated), at most
`MAX_ATTEMPTS` times; an integrity failure is never retried.
Redirects (registries send blobs to storage) are followed at most 5 hops, without
credentials, and never to plain HTTP except on loopback.

Uploads: a blob that exists in another repository of the same registry is mounted
(`POST ?mount=&from=`, 201 = done, 202 = upload normally into the session it opened);
blobs up to `CHUNK_SIZE` go in one PUT; larger ones in `PATCH` chunks of at most 4 MiB
(ghcr.io's limit), then a closing `PUT ?digest=`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from mcpkg.errors import IntegrityError, RegistryError
from mcpkg.oci.auth import repository_scope
from mcpkg.oci.client import RegistryClient
from mcpkg.oci.http import Response, TransportError
from mcpkg.oci.retry import MAX_ATTEMPTS, backoff
from mcpkg.oci.translate import connection_error, is_permanent, translate_status
from mcpkg.reference import Digest, is_loopback_host

READ_CHUNK = 1024 * 1024
CHUNK_SIZE = 4 * 1024 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

ProgressFn = Callable[[int], None]


class _Interrupted(Exception):
    """A transfer broke off (connection lost, short body): worth retrying."""


def _open_blob(client: RegistryClient, repository: str, digest: Digest) -> Response:
    what = f"blob {digest} in {client.registry}/{repository}"
    response = client.request("GET", f"/v2/{repository}/blobs/{digest}", what=what, ok=(200, *REDIRECT_STATUSES))
    hops = 0
    while response.status != 200:
        location = response.headers.get("Location")
        url = str(urljoin(response.url, location)) if location else None
        response.close()
        hops += 1
        if url is None or hops > MAX_REDIRECTS:
            raise RegistryError(
                f"{what}: too many redirects, or a redirect without a target",
                f"mcpkg follows at most {MAX_REDIRECTS} redirects for a blob (docs/limits.md)",
            )
        target = urlsplit(url)
        host = (target.hostname or "").rstrip(".")
        if host == "invalid" or host.endswith(".invalid"):
            # RFC 6761: names under .invalid never resolve; do not even ask DNS
            raise RegistryError(f"{what}: refusing a redirect to the reserved name {target.netloc}")
        if target.scheme != "https" and not (target.scheme == "http" and is_loopback_host(target.netloc)):
            raise RegistryError(f"{what}: refusing a redirect to {target.scheme}://{target.netloc}")
        try:
            response = client._raw_get(url)
        except TransportError as exc:
            # transient like any transfer failure: download_blob starts over (and names it)
            error = connection_error(
                f"the blob storage at {target.netloc}",
                exc,
                read_timeout=client.read_timeout,
                host=target.netloc,
                needed_for=what,
            )
            if is_permanent(exc):
                raise error from exc
            raise _Interrupted(error.message) from exc
        if response.status not in (200, *REDIRECT_STATUSES):
            status = response.status
            response.close()
            raise translate_status(status, b"", what, client.registry, False)
    return response


def _download_once(
    client: RegistryClient,
    repository: str,
    digest: Digest,
    size: int,
    out: IO[bytes],
    check_head: Callable[[bytes], None] | None,
    progress: ProgressFn | None,
) -> None:
    what = f"blob {digest} of {client.registry}/{repository}"
    response = _open_blob(client, repository, digest)
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) != size:
        response.close()
        raise IntegrityError(
            f"{what}: the registry announces {length} bytes but the manifest says {size}",
            "the artifact is inconsistent or was tampered with; nothing was kept",
        )
    hasher = hashlib.sha256()
    received = 0
    head = b""
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    try:
        while n := response.readinto(view):
            received += n
            if received > size:
                raise IntegrityError(f"{what}: the registry sent more than the expected {size} bytes")
            chunk = view[:n]
            if check_head is not None and len(head) < 8:
                head += bytes(chunk[: 8 - len(head)])
                if len(head) == 8:
                    check_head(head)
            hasher.update(chunk)
            out.write(chunk)
            if progress:
                progress(n)
    except TransportError as exc:
        raise _Interrupted(f"after {received} of {size} bytes ({exc})") from exc
    finally:
        response.close()
    if received < size:
        raise _Interrupted(f"the body ended after {received} of {size} bytes")
    if check_head is not None and len(head) < 8:
        check_head(head)
    if hasher.hexdigest() != digest.hex:
        raise IntegrityError(
            f"{what}: content hashes to sha256:{hasher.hexdigest()}, not the digest requested",
            "the registry's copy is corrupt or was tampered with; nothing was kept",
        )


def download_blob(
    client: RegistryClient,
    repository: str,
    digest: Digest,
    size: int,
    out: IO[bytes],
    *,
    check_head: Callable[[bytes], None] | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Stream a blob into `out`, verifying size and sha256 as the bytes arrive.
    Raises IntegrityError (and leaves `out` to be discarded) on any mismatch."""
    for attempt in range(MAX_ATTEMPTS):
        if out.tell():
            # only a retry starts over: truncating a file to zero makes ext4 write it back
            # on close (its auto_da_alloc heuristic), 30 ms per 96 MiB for nothing
            out.seek(0)
            out.truncate()
        try:
            _download_once(client, repository, digest, size, out, check_head, progress)
            return
        except _Interrupted as exc:
            if attempt + 1 == MAX_ATTEMPTS:
                raise RegistryError(
                    f"transfer of blob {digest} from {client.registry}/{repository} was interrupted "
                    f"{MAX_ATTEMPTS} times ({exc})",
                    "retry later; nothing partial was kept",
                ) from exc
            time.sleep(backoff(attempt))


def _start_upload(
    client: RegistryClient, repository: str, digest: Digest, mount_from: Sequence[str]
) -> tuple[str | None, str]:
    """Open an upload session (or mount). Returns (session URL or None when mounted, how)."""
    what = f"upload of blob {digest} to {client.registry}/{repository}"
    path = f"/v2/{repository}/blobs/uploads/"
    for source in mount_from:
        if source == repository:
            continue
        scope = f"{repository_scope(repository, push=True)} {repository_scope(source, push=False)}"
        response = client.request(
            "POST", path, what=what, params={"mount": str(digest), "from": source}, ok=(201, 202), scope=scope
        )
        location = response.headers.get("Location")
        response.close()
        if response.status == 201:
            return None, "mounted"
        if location:
            return client.absolute(location), "uploaded"
    response = client.request("POST", path, what=what, ok=(202,))
    location = response.headers.get("Location")
    response.close()
    if not location:
        raise RegistryError(f"{what}: the registry gave no upload location")
    return client.absolute(location), "uploaded"


def _with_digest(url: str, digest: Digest) -> str:
    return f"{url}{'&' if '?' in url else '?'}digest={digest}"


def upload_blob(
    client: RegistryClient,
    repository: str,
    digest: Digest,
    size: int,
    source: bytes | Path,
    *,
    mount_from: Sequence[str] = (),
    progress: ProgressFn | None = None,
) -> str:
    """Upload (or mount) one blob. Returns "mounted" or "uploaded"."""
    what = f"upload of blob {digest} to {client.registry}/{repository}"
    url, how = _start_upload(client, repository, digest, mount_from)
    if url is None:
        return how
    octet = {"Content-Type": "application/octet-stream"}
    if isinstance(source, bytes) or size <= CHUNK_SIZE:
        data = source if isinstance(source, bytes) else source.read_bytes()
        response = client.request(
            "PUT",
            _with_digest(url, digest),
            what=what,
            headers={**octet, "Content-Length": str(size)},
            body=data,
            ok=(201, 204),
        )
        response.close()
        if progress:
            progress(size)
        return how
    with source.open("rb") as f:
        offset = 0
        while chunk := f.read(CHUNK_SIZE):
            end = offset + len(chunk) - 1
            response = client.request(
                "PATCH",
                url,
                what=what,
                headers={**octet, "Content-Range": f"{offset}-{end}", "Content-Length": str(len(chunk))},
                body=chunk,
                ok=(202, 204),
                retry=False,
            )
            location = response.headers.get("Location")
            response.close()
            if location:
                url = client.absolute(location, url)
            offset = end + 1
            if progress:
                progress(len(chunk))
    if offset != size:
        raise IntegrityError(f"{what}: the file changed while it was being uploaded")
    response = client.request(
        "PUT", _with_digest(url, digest), what=what, headers={**octet, "Content-Length": "0"}, body=b"", ok=(201, 204)
    )
    response.close()
    return how


def blob_exists(client: RegistryClient, repository: str, digest: Digest) -> bool:
    response = client.request(
        "HEAD",
        f"/v2/{repository}/blobs/{digest}",
        what=f"blob {digest} in {client.registry}/{repository}",
        ok=(200, 404),
    )
    response.close()
    return response.status == 200
