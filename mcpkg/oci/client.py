"""`RegistryClient`: one registry, spoken to over OCI Distribution v1.1.

Design:
- One `http.Session` per client (keep-alive connections; `http.py` says why mcpkg
  has its own small HTTP client). Scheme from docs/config.md
  (`RegistrySettings.uses_plain_http`), never an automatic downgrade. TLS trust: the
  registry's `ca-file`, else `REQUESTS_CA_BUNDLE`/`SSL_CERT_FILE`, else the system store.
  Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`.
- Every request names its authorization scope (`repository:<name>:pull` or
  `...:pull,push`); `auth.Authenticator` answers 401 challenges (basic or bearer) and
  caches tokens per scope.
- Transient failures (connection errors, 429, 500, 502, 503, 504) are retried at most
  `MAX_ATTEMPTS` times with exponential backoff, honouring `Retry-After` up to
  `MAX_RETRY_AFTER` seconds; only requests that are safe to repeat are retried.
- Manifests are read as exact bytes (bounded in size) and digest-checked; blob transfers
  live in `blobs.py`. Every HTTP failure becomes an mcpkg error in `errors.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from mcpkg import __version__
from mcpkg.config import RegistrySettings
from mcpkg.errors import ConfigError, IntegrityError, InvalidArtifactError, RegistryError
from mcpkg.oci.artifact import MANIFEST_ACCEPT
from mcpkg.oci.auth import Authenticator, repository_scope
from mcpkg.oci.credentials import Credentials, lookup_credentials
from mcpkg.oci.http import Response, Session, TlsError, TransportError
from mcpkg.oci.retry import MAX_ATTEMPTS, TRANSIENT_STATUSES, backoff
from mcpkg.oci.translate import connection_error, is_permanent, translate_status
from mcpkg.progress import step
from mcpkg.reference import Digest, is_loopback_host

# Limits (docs/limits.md). They protect memory and time against a hostile registry.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024
MAX_TAG_PAGES = 1000
MAX_TAGS = 100_000
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_RETRY_AFTER = 30.0
RETRYABLE_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


@dataclass(frozen=True)
class FetchedManifest:
    data: bytes
    digest: Digest
    media_type: str


def sha256_digest(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def _read_timeout() -> float:
    value = os.environ.get("MCPKG_HTTP_TIMEOUT")
    if not value:
        return READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError(
            f"MCPKG_HTTP_TIMEOUT={value!r} is not a number of seconds between 0 and 3600",
            "unset it, or set it to e.g. 60",
        )
    return seconds


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None
    return None


_SCOPE_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)/")


class RegistryClient:
    def __init__(
        self,
        registry: str,
        settings: RegistrySettings | None = None,
        *,
        plain_http: bool = False,
        credentials: Credentials | None = None,
    ) -> None:
        self.registry = registry
        settings = settings or RegistrySettings()
        self.loopback = is_loopback_host(registry)
        self.plain_http = plain_http or settings.uses_plain_http(self.loopback)
        self.base_url = f"{'http' if self.plain_http else 'https'}://{registry}"
        self._credentials = credentials
        self._credentials_loaded = credentials is not None
        self.read_timeout = _read_timeout()
        self.verify: str | bool = True
        if settings.ca_file is not None:
            if not settings.ca_file.is_file():
                raise ConfigError(f"ca-file {settings.ca_file} for {registry} does not exist")
            self.verify = str(settings.ca_file)
        else:
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True
        self.session = Session(f"mcpkg/{__version__}", (CONNECT_TIMEOUT, self.read_timeout), self.verify)
        self.auth = Authenticator(registry, self.base_url, self.credentials, self._raw_get, self.read_timeout)

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

    def _raw_get(
        self, url: str, *, params: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """A GET outside the registry's own API (token realm, redirect target)."""
        return self.session.request("GET", url, params=params, headers=headers)

    def same_origin(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.base_url).netloc

    def absolute(self, location: str, current: str | None = None) -> str:
        url = str(urljoin(current or self.base_url + "/", location))
        if not self.same_origin(url):
            raise RegistryError(
                f"{self.registry} pointed mcpkg at another host ({urlsplit(url).netloc})",
                "mcpkg only talks to the registry named in the reference",
            )
        return url

    @staticmethod
    def scope_for(method: str, url: str) -> str | None:
        match = _SCOPE_PATH.match(urlsplit(url).path)
        if not match:
            return None
        return repository_scope(match["name"], push=method not in ("GET", "HEAD"))

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        ok: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
        scope: str | None = None,
        retry: bool = True,
    ) -> Response:
        """Send one request (with auth and bounded retries); raise a translated error
        unless the final status is in `ok`. The caller reads the body and closes the
        response."""

        url = self.absolute(url)
        scope = scope or self.scope_for(method, url)
        retry = retry and method in RETRYABLE_METHODS
        attempt = 0
        challenged = False
        while True:
            sent_headers = dict(headers or {})
            authorization = self.auth.header(scope)
            if authorization:
                sent_headers["Authorization"] = authorization
            try:
                with step(f"waiting for {self.registry} ({what})"):
                    response = self.session.request(method, url, headers=sent_headers, body=body, params=params)
            except TlsError as exc:
                raise RegistryError(
                    f"TLS verification failed for {self.registry}",
                    "trust its CA with `ca-file` for this registry in the mcpkg config (or SSL_CERT_FILE)",
                ) from exc
            except TransportError as exc:
                # a name that does not resolve will not resolve a second later, nor a proxy
                # refuse less: no retries
                if retry and attempt + 1 < MAX_ATTEMPTS and not is_permanent(exc):
                    time.sleep(backoff(attempt))
                    attempt += 1
                    continue
                raise connection_error(
                    f"registry {self.registry}",
                    exc,
                    attempts=attempt + 1,
                    read_timeout=self.read_timeout,
                    host=self.registry,
                    needed_for=what,
                ) from exc
            status = response.status
            if status == 401 and not challenged:
                challenged = True
                if self.auth.handle_challenge(response, scope, authorization):
                    response.close()
                    continue
            if status in TRANSIENT_STATUSES and retry and attempt + 1 < MAX_ATTEMPTS:
                delay = _retry_after(response) if status in (429, 503) else None
                if delay is None or delay <= MAX_RETRY_AFTER:
                    response.close()
                    time.sleep(backoff(attempt) if delay is None else delay)
                    attempt += 1
                    continue
            break
        if response.status not in ok:
            try:
                payload = response.read(64 * 1024)
            except TransportError:
                payload = b""
            response.close()
            error = translate_status(response.status, payload, what, self.registry, self.auth.used_credentials)
            if response.status in TRANSIENT_STATUSES and retry:
                error.message += f" (after {attempt + 1} attempts)"
            raise error
        return response

    def read_bounded(self, response: Response, limit: int, what: str) -> bytes:
        try:
            data = response.read(limit + 1)
        except TransportError as exc:
            raise RegistryError(f"transfer of {what} from {self.registry} was interrupted", "retry") from exc
        finally:
            response.close()
        if len(data) > limit:
            raise InvalidArtifactError(
                f"{what} is larger than mcpkg's limit of {limit} bytes",
                "the registry sent more than such a document can need; see docs/limits.md",
            )
        return data

    def ping(self, scope: str | None = None) -> None:
        """GET /v2/: checks reachability and (with credentials) authentication."""
        response = self.request("GET", "/v2/", what=f"registry {self.registry}", scope=scope)
        response.close()

    # -- manifests ----------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """Fetch a manifest by tag or digest; its digest is verified when asked by
        digest and checked against `Docker-Content-Digest` otherwise."""
        sep = "@" if reference.startswith("sha256:") else ":"
        what = f"manifest {self.registry}/{repository}{sep}{reference}"
        for attempt in range(MAX_ATTEMPTS):
            response = self.request(
                "GET",
                f"/v2/{repository}/manifests/{reference}",
                what=what,
                headers={"Accept": MANIFEST_ACCEPT},
            )
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            header_digest = response.headers.get("Docker-Content-Digest")
            try:
                data = self.read_bounded(response, MAX_MANIFEST_BYTES, what)
                break
            except RegistryError:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise
                time.sleep(backoff(attempt))
        digest = sha256_digest(data)
        if sep == "@" and str(digest) != reference:
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
        return response.status == 200

    def put_manifest(self, repository: str, tag: str, data: bytes, media_type: str) -> Digest:
        return self.put_manifest_subject(repository, tag, data, media_type)[0]

    def put_manifest_subject(
        self, repository: str, tag: str, data: bytes, media_type: str
    ) -> tuple[Digest, str | None]:
        """Put a manifest; also returns the `OCI-Subject` header, by which an OCI 1.1
        registry says it indexed the manifest's `subject` for the referrers API."""
        digest = sha256_digest(data)
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            what=f"manifest {self.registry}/{repository}:{tag}",
            headers={"Content-Type": media_type},
            body=data,
            ok=(201, 200),
        )
        stored = response.headers.get("Docker-Content-Digest")
        subject = response.headers.get("OCI-Subject")
        response.close()
        if stored and stored != str(digest):
            raise IntegrityError(f"{self.registry} stored the manifest under {stored}, but mcpkg sent {digest}")
        return digest, subject

    # -- tags ---------------------------------------------------------------------

    def list_tags(self, repository: str) -> list[str]:
        """Every tag of a repository, following `Link: <...>; rel="next"` over all pages."""
        url: str | None = f"{self.base_url}/v2/{repository}/tags/list"
        seen: set[str] = set()
        tags: list[str] = []
        what = f"repository {self.registry}/{repository}"
        while url:
            if url in seen or len(seen) >= MAX_TAG_PAGES:
                raise RegistryError(
                    f"the tag list of {self.registry}/{repository} does not end "
                    f"(page loop or more than {MAX_TAG_PAGES} pages)",
                    "the registry is misbehaving; see docs/limits.md",
                )
            seen.add(url)
            response = self.request("GET", url, what=what)
            link = ", ".join(response.headers.get_all("Link") or []) or None  # one or several headers
            data = self.read_bounded(response, MAX_TAG_PAGE_BYTES, f"tag list of {what}")
            try:
                body = json.loads(data)
            except (ValueError, UnicodeDecodeError) as exc:
                raise RegistryError(f"the tag list of {what} is not valid JSON") from exc
            page = body.get("tags") if isinstance(body, dict) else None
            if page is None:
                page = []
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise RegistryError(f"the tag list of {what} is malformed")
            tags.extend(page)
            if len(tags) > MAX_TAGS:
                raise RegistryError(f"{what} has more than {MAX_TAGS} tags; mcpkg stops there")
            next_url = next_link(link, url)
            url = self.absolute(next_url, url) if next_url else None
        return list(dict.fromkeys(tags))


def next_link(header: str | None, current: str) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        match = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if match and re.search(r'rel="?next"?', match.group(2)):
            return str(urljoin(current, match.group(1)))
    return None
