"""`RegistryClient`: one registry, spoken to over OCI Distribution v1.1.

Design:
- One `requests.Session` per client (connection reuse); scheme from SPEC.md section 5:
  plain HTTP for loopback hosts or registries configured `plain-http`, HTTPS otherwise,
  never an automatic downgrade.
- Authentication is lazy: a request goes out anonymously, a 401 challenge decides what
  to send (`auth.py` builds the header), and the header is reused for later requests.
  Credentials are never sent over plain HTTP to a non-loopback host.
- Manifests are read as exact bytes (bounded in size) and their digest is checked;
  blobs are streamed into a caller-provided file while size and sha256 are checked.
- Every HTTP failure becomes an mcpkg error in `errors.py`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from mcpkg import __version__
from mcpkg.artifact import MANIFEST_ACCEPT
from mcpkg.config import Config
from mcpkg.errors import AuthError, IntegrityError, InvalidArtifactError, RegistryError
from mcpkg.oci.credentials import Credentials, lookup_credentials
from mcpkg.oci.errors import connection_error, translate_status
from mcpkg.reference import Digest, is_loopback_host

if TYPE_CHECKING:
    import requests

# Limits (docs/limits.md). They protect memory and time against a hostile registry.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024
MAX_TAG_PAGES = 1000
MAX_TAGS = 100_000
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
CHUNK = 1024 * 1024

Body = bytes | Callable[[], IO[bytes]] | None
ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class FetchedManifest:
    data: bytes
    digest: Digest
    media_type: str


def _sha256(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class RegistryClient:
    def __init__(
        self,
        registry: str,
        config: Config,
        *,
        plain_http: bool = False,
        credentials: Credentials | None = None,
    ) -> None:
        import requests

        self.registry = registry
        settings = config.registry_settings(registry)
        self.loopback = is_loopback_host(registry)
        self.plain_http = plain_http or settings.plain_http or self.loopback
        self.base_url = f"{'http' if self.plain_http else 'https'}://{registry}"
        self._explicit_credentials = credentials
        self._credentials_loaded = credentials is not None
        self._credentials = credentials
        self._auth_header: str | None = None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"mcpkg/{__version__}"
        if settings.ca_file is not None:
            self.session.verify = str(settings.ca_file)

    # -- plumbing -----------------------------------------------------------------

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def credentials(self) -> Credentials | None:
        if not self._credentials_loaded:
            self._credentials = lookup_credentials(self.registry)
            self._credentials_loaded = True
        return self._credentials

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.base_url).netloc

    def _authorize(self, response: requests.Response, what: str) -> bool:
        """React to a 401 challenge; True when a new Authorization header is ready."""
        header = response.headers.get("WWW-Authenticate", "")
        scheme, _params = _parse_challenge(header)
        creds = self.credentials()
        if scheme == "basic":
            if creds is None:
                return False
            if self.plain_http and not self.loopback:
                raise AuthError(
                    f"{self.registry} asks for credentials over plain HTTP",
                    "mcpkg never sends credentials unencrypted to a non-loopback host; use HTTPS",
                )
            new = creds.basic_header()
            if new == self._auth_header:
                return False
            self._auth_header = new
            return True
        if scheme == "bearer":
            raise AuthError(
                f"{self.registry} uses token authentication, which this mcpkg build does not speak yet",
                "use a registry with basic authentication",
            )
        return False

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        ok: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        body: Body = None,
        stream: bool = False,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one request with auth handling; raise a translated error unless the
        status is in `ok`."""
        import requests

        if not url.startswith(("http://", "https://")):
            url = self.base_url + url
        if not self._same_origin(url):
            raise RegistryError(
                f"{self.registry} pointed mcpkg at another host ({urlsplit(url).netloc}) for {what}",
                "mcpkg only talks to the registry named in the reference",
            )
        for attempt in range(2):
            sent = dict(headers or {})
            if self._auth_header:
                sent["Authorization"] = self._auth_header
            data: Any = body() if callable(body) else body
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=sent,
                    data=data,
                    params=params,
                    stream=stream,
                    allow_redirects=False,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                )
            except requests.exceptions.SSLError as exc:
                raise RegistryError(
                    f"TLS verification failed for {self.registry}",
                    "set `ca-file` for this registry in the mcpkg config, or SSL_CERT_FILE",
                ) from exc
            except requests.exceptions.RequestException as exc:
                raise connection_error(self.registry, exc) from exc
            finally:
                if hasattr(data, "close"):
                    data.close()
            if response.status_code == 401 and attempt == 0 and self._authorize(response, what):
                response.close()
                continue
            break
        if response.status_code not in ok:
            payload = response.raw.read(64 * 1024) if stream else response.content[: 64 * 1024]
            response.close()
            raise translate_status(response.status_code, payload, what, self.registry, self._auth_header is not None)
        return response

    def _read_bounded(self, response: requests.Response, limit: int, what: str) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > limit:
                    raise InvalidArtifactError(
                        f"{what} is larger than mcpkg's limit of {limit} bytes",
                        "the registry sent more than a manifest or tag list can need; see docs/limits.md",
                    )
                chunks.append(chunk)
        except OSError as exc:
            raise RegistryError(f"transfer of {what} from {self.registry} was interrupted") from exc
        finally:
            response.close()
        return b"".join(chunks)

    # -- manifests ----------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """Fetch a manifest by tag or digest; its digest is verified when asked by
        digest and checked against `Docker-Content-Digest` otherwise."""
        what = f"manifest {self.registry}/{repository}:{reference}".replace(":sha256:", "@sha256:")
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            what=what,
            headers={"Accept": MANIFEST_ACCEPT},
            stream=True,
        )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        header_digest = response.headers.get("Docker-Content-Digest")
        data = self._read_bounded(response, MAX_MANIFEST_BYTES, what)
        digest = _sha256(data)
        if reference.startswith("sha256:") and str(digest) != reference:
            raise IntegrityError(
                f"{what}: the registry sent a manifest whose digest is {digest}",
                "the registry or a proxy altered the content; do not use it",
            )
        if header_digest and header_digest.startswith("sha256:") and header_digest != str(digest):
            raise IntegrityError(f"{what}: Docker-Content-Digest says {header_digest} but the bytes hash to {digest}")
        return FetchedManifest(data, digest, media_type)

    def manifest_exists(self, repository: str, reference: str) -> bool:
        response = self.request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            what=f"manifest {self.registry}/{repository}:{reference}",
            headers={"Accept": MANIFEST_ACCEPT},
            ok=(200, 404),
        )
        response.close()
        return response.status_code == 200

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> Digest:
        digest = _sha256(data)
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            what=f"manifest {self.registry}/{repository}:{tag}",
            headers={"Content-Type": media_type},
            body=data,
            ok=(201, 200),
        )
        stored = response.headers.get("Docker-Content-Digest")
        response.close()
        if stored and stored != str(digest):
            raise IntegrityError(f"{self.registry} stored the manifest under {stored}, but mcpkg sent {digest}")
        return digest

    # -- blobs --------------------------------------------------------------------

    def blob_exists(self, repository: str, digest: Digest) -> bool:
        response = self.request(
            "HEAD",
            f"/v2/{repository}/blobs/{digest}",
            what=f"blob {digest} in {self.registry}/{repository}",
            ok=(200, 404),
        )
        response.close()
        return response.status_code == 200

    def _open_blob(self, repository: str, digest: Digest) -> requests.Response:
        """GET a blob, following redirects (at most 5, never sending credentials on)."""
        import requests

        what = f"blob {digest} in {self.registry}/{repository}"
        response = self.request(
            "GET",
            f"/v2/{repository}/blobs/{digest}",
            what=what,
            stream=True,
            ok=(200, 301, 302, 303, 307, 308),
        )
        hops = 0
        while response.status_code != 200:
            location = response.headers.get("Location")
            url = urljoin(response.url, location) if location else None
            response.close()
            hops += 1
            if url is None or hops > MAX_REDIRECTS:
                raise RegistryError(
                    f"{what}: too many redirects or a redirect without a target",
                    f"mcpkg follows at most {MAX_REDIRECTS} redirects for a blob",
                )
            target = urlsplit(url)
            if target.scheme != "https" and not (target.scheme == "http" and is_loopback_host(target.netloc)):
                raise RegistryError(f"{what}: refusing a redirect to insecure URL scheme {target.scheme!r}")
            try:
                response = self.session.get(
                    url, stream=True, allow_redirects=False, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
                )
            except requests.exceptions.RequestException as exc:
                raise connection_error(target.netloc, exc) from exc
            if response.status_code not in (200, 301, 302, 303, 307, 308):
                status = response.status_code
                response.close()
                raise translate_status(status, b"", what, self.registry, False)
        return response

    def download_blob(
        self,
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
        import requests

        what = f"blob {digest} of {self.registry}/{repository}"
        response = self._open_blob(repository, digest)
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) != size:
            response.close()
            raise IntegrityError(
                f"{what}: the registry announces {length} bytes but the manifest says {size}",
                "the artifact is inconsistent; ask its publisher to push it again",
            )
        hasher = hashlib.sha256()
        received = 0
        head_checked = check_head is None
        try:
            for chunk in self._iter_raw(response):
                received += len(chunk)
                if received > size:
                    raise IntegrityError(f"{what}: the registry sent more than the expected {size} bytes")
                if not head_checked and received >= 8:
                    assert check_head is not None
                    check_head(chunk[:8])
                    head_checked = True
                hasher.update(chunk)
                out.write(chunk)
                if progress:
                    progress(len(chunk))
        except (requests.exceptions.RequestException, OSError) as exc:
            raise RegistryError(
                f"transfer of {what} was interrupted after {received} of {size} bytes",
                "retry; nothing partial was kept",
            ) from exc
        finally:
            response.close()
        if received != size:
            raise IntegrityError(f"{what}: received {received} bytes, expected {size}")
        if not head_checked and check_head is not None:
            check_head(b"")
        if hasher.hexdigest() != digest.hex:
            raise IntegrityError(
                f"{what}: content hashes to sha256:{hasher.hexdigest()}, not the digest requested",
                "the registry's copy is corrupt or was tampered with; nothing was kept",
            )

    @staticmethod
    def _iter_raw(response: requests.Response) -> Iterator[bytes]:
        # Read undecoded bytes straight from urllib3: blobs are never content-encoded by
        # registries, and the digest is over the stored bytes.
        raw = response.raw
        while True:
            chunk = raw.read(CHUNK, decode_content=False)
            if not chunk:
                return
            yield chunk

    def upload_blob(self, repository: str, digest: Digest, size: int, body: Body) -> None:
        """Monolithic upload: POST for a session, then PUT the bytes with `?digest=`."""
        what = f"upload of blob {digest} to {self.registry}/{repository}"
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", what=what, ok=(202,))
        location = response.headers.get("Location")
        response.close()
        if not location:
            raise RegistryError(f"{what}: the registry gave no upload location")
        url = urljoin(self.base_url + "/", location)
        separator = "&" if "?" in url else "?"
        response = self.request(
            "PUT",
            f"{url}{separator}digest={digest}",
            what=what,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            body=body,
            ok=(201, 204),
        )
        response.close()

    # -- tags ---------------------------------------------------------------------

    def list_tags(self, repository: str) -> list[str]:
        """Every tag of a repository, following `Link: <...>; rel="next"` over all pages."""
        import json

        url: str | None = f"{self.base_url}/v2/{repository}/tags/list"
        seen: set[str] = set()
        tags: list[str] = []
        pages = 0
        while url:
            if url in seen or pages >= MAX_TAG_PAGES:
                raise RegistryError(
                    f"the tag list of {self.registry}/{repository} does not end "
                    f"(page loop or more than {MAX_TAG_PAGES} pages)",
                    "the registry is misbehaving; see docs/limits.md",
                )
            seen.add(url)
            pages += 1
            what = f"repository {self.registry}/{repository}"
            response = self.request("GET", url, what=what, stream=True)
            link = response.headers.get("Link")
            data = self._read_bounded(response, MAX_TAG_PAGE_BYTES, f"tag list of {what}")
            try:
                body = json.loads(data)
            except ValueError as exc:
                raise RegistryError(f"the tag list of {what} is not valid JSON") from exc
            page = body.get("tags") if isinstance(body, dict) else None
            if page is None:
                page = []
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise RegistryError(f"the tag list of {what} is malformed")
            tags.extend(page)
            if len(tags) > MAX_TAGS:
                raise RegistryError(f"{what} has more than {MAX_TAGS} tags; mcpkg stops there")
            url = _next_link(link, url)
        return list(dict.fromkeys(tags))


def _next_link(header: str | None, current: str) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        match = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if match and re.search(r'rel="?next"?', match.group(2)):
            return str(urljoin(current, match.group(1)))
    return None
