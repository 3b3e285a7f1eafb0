"""Registry authentication: 401 challenges, basic credentials and bearer tokens.

A request goes out with whatever authorization is already known for its scope. On a
401, the `WWW-Authenticate` challenge decides what happens next:

- `Basic realm=...`: the registry's credentials, sent as basic auth from then on;
- `Bearer realm=...,service=...,scope=...`: a token is fetched from the realm for the
  request's own scope (`repository:<name>:pull`, `...:pull,push`, or several scopes for
  a cross-repository mount), with basic credentials when we have them and anonymously
  otherwise. Tokens are cached per scope until they expire (`expires_in`, 60 s when
  absent), so a pull token is never sent for a push and a token for one repository
  never for another.

Credentials go only to the registry and to the realm it names, never over plain HTTP to
a non-loopback host; they never appear in messages.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mcpkg.errors import AuthError, RegistryError
from mcpkg.oci.credentials import Credentials
from mcpkg.oci.http import Response, TransportError
from mcpkg.oci.retry import MAX_ATTEMPTS, TRANSIENT_STATUSES, backoff
from mcpkg.oci.translate import connection_error, is_permanent
from mcpkg.reference import is_loopback_host

DEFAULT_TOKEN_LIFETIME = 60.0
EXPIRY_MARGIN = 5.0
MAX_TOKEN_RESPONSE = 1024 * 1024
_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercase: "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse one `WWW-Authenticate` challenge; None when absent or unintelligible."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if not scheme.isalpha():
        return None
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def repository_scope(repository: str, push: bool) -> str:
    return f"repository:{repository}:{'pull,push' if push else 'pull'}"


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


def _may_send_credentials(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.netloc))


class Authenticator:
    def __init__(
        self,
        registry: str,
        registry_url: str,
        credentials: Callable[[], Credentials | None],
        get: Callable[..., Response],
        read_timeout: float = 60.0,
    ) -> None:
        self.read_timeout = read_timeout
        self.registry = registry
        self.registry_url = registry_url
        self._credentials = credentials
        self._get = get
        self._basic: str | None = None
        self._tokens: dict[str, _Token] = {}
        self._bearer: Challenge | None = None
        self.token_requests = 0
        self.used_credentials = False

    def header(self, scope: str | None) -> str | None:
        """The Authorization header to send for a request in `scope`, if known."""
        if self._basic is not None:
            return self._basic
        scope = scope or ""
        token = self._valid_token(scope)
        if token is None and scope.endswith(":pull"):
            token = self._valid_token(scope + ",push")  # a push token also reads
        return f"Bearer {token}" if token else None

    def _valid_token(self, scope: str) -> str | None:
        token = self._tokens.get(scope)
        if token is None:
            return None
        if time.monotonic() >= token.expires_at:
            del self._tokens[scope]
            return None
        return token.value

    def handle_challenge(self, response: Response, scope: str | None, sent: str | None) -> bool:
        """React to a 401; True when a retry with a new Authorization header makes sense."""
        challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            creds = self._credentials()
            if creds is None:
                return False
            if not _may_send_credentials(self.registry_url):
                raise AuthError(
                    f"{self.registry} asks for credentials over plain HTTP",
                    "mcpkg never sends credentials unencrypted to a non-loopback host; use HTTPS",
                )
            new = creds.basic_header()
            if new == sent:
                return False
            self._basic = new
            self.used_credentials = True
            return True
        if challenge.scheme == "bearer":
            self._bearer = challenge
            if sent and sent.startswith("Bearer "):
                self._tokens.pop(scope or "", None)  # rejected or expired early: fetch anew, once
            token = self.fetch_token(challenge, scope)
            return token is not None and f"Bearer {token}" != sent
        return False

    def fetch_token(self, challenge: Challenge, scope: str | None) -> str | None:
        """GET the realm for a token covering the request's `scope` (space-separated
        scopes allowed; the challenge's own scope when the request has none), and cache
        it under the request's scope."""

        realm = challenge.params.get("realm")
        if not realm or urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(
                f"{self.registry} sent an authentication challenge without a usable realm",
                "the registry is misconfigured; report it to its operator",
            )
        params: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        for item in (scope or challenge.params.get("scope") or "").split():
            params.append(("scope", item))
        headers = {}
        creds = self._credentials()
        if creds is not None:
            if not _may_send_credentials(realm):
                raise AuthError(
                    f"{self.registry} names a token realm over plain HTTP ({urlsplit(realm).netloc})",
                    "mcpkg never sends credentials unencrypted; the registry must use an HTTPS realm",
                )
            headers["Authorization"] = creds.basic_header()
        response = self._get_token_response(realm, params, headers)
        try:
            if response.status in (401, 403):
                if creds is not None:
                    raise AuthError(
                        f"the token service of {self.registry} rejected the credentials",
                        f"check the username and password, then run `mcpkg login {self.registry}`",
                    )
                raise AuthError(
                    f"{self.registry} requires authentication",
                    f"run `mcpkg login {self.registry}` or set MCPKG_REGISTRY_USERNAME and MCPKG_REGISTRY_PASSWORD",
                )
            if response.status != 200:
                raise RegistryError(
                    f"the token service of {self.registry} answered HTTP {response.status}"
                    + (f" (after {MAX_ATTEMPTS} attempts)" if response.status in TRANSIENT_STATUSES else ""),
                    "retry later; if it persists, the registry's auth service is down",
                )
            try:
                body = response.read(MAX_TOKEN_RESPONSE + 1)
            except TransportError as exc:
                raise RegistryError(
                    f"the token service of {self.registry} broke off its answer ({exc})", "retry later"
                ) from exc
        finally:
            response.close()
        token, lifetime = _parse_token_response(body, self.registry)
        self.used_credentials = self.used_credentials or creds is not None
        self._tokens[scope or ""] = _Token(token, time.monotonic() + max(lifetime - EXPIRY_MARGIN, 1.0))
        return token

    def _get_token_response(self, realm: str, params: list[tuple[str, str]], headers: dict[str, str]) -> Response:
        """GET the realm; connection failures, timeouts, 429 and 5xx are transient and
        retried like registry requests (docs/limits.md)."""

        for attempt in range(MAX_ATTEMPTS):
            last = attempt + 1 == MAX_ATTEMPTS
            self.token_requests += 1
            try:
                response = self._get(realm, params=params, headers=headers)
            except TransportError as exc:
                if last or is_permanent(exc):
                    raise connection_error(
                        f"the token service of {self.registry}",
                        exc,
                        attempts=attempt + 1,
                        read_timeout=self.read_timeout,
                        needed_for=f"a token for {self.registry}",
                    ) from exc
                time.sleep(backoff(attempt))
                continue
            if response.status in TRANSIENT_STATUSES and not last:
                response.close()
                time.sleep(backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")


def _parse_token_response(body: bytes, registry: str) -> tuple[str, float]:
    garbage = RegistryError(
        f"the token service of {registry} returned an invalid response",
        "retry later; if it persists, the registry's auth service is broken",
    )
    if len(body) > MAX_TOKEN_RESPONSE:
        raise garbage
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise garbage from None
    if not isinstance(data, dict):
        raise garbage
    token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token or any(c in token for c in "\r\n "):
        raise garbage
    lifetime = data.get("expires_in", DEFAULT_TOKEN_LIFETIME)
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = DEFAULT_TOKEN_LIFETIME
    return token, float(lifetime)
