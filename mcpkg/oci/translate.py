"""Translate registry responses and connection failures into mcpkg's error tree.

This is the one place where HTTP status codes become `NotFoundError`, `AuthError`,
`RegistryError`...; nothing above `mcpkg/oci/` sees an HTTP status.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from mcpkg.errors import AuthError, McpkgError, NotFoundError, RegistryError

MAX_ERROR_BODY = 64 * 1024


def registry_error_detail(body: bytes) -> str:
    """The `errors[].code: message` list of an OCI error body, or ''."""
    try:
        data: Any = json.loads(body[:MAX_ERROR_BODY])
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return ""
    parts = []
    for err in data["errors"][:5]:
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message")
            parts.append(": ".join(str(p) for p in (code, message) if p))
    return "; ".join(parts)[:500]


def translate_status(status: int, body: bytes, what: str, registry: str, had_credentials: bool) -> McpkgError:
    detail = registry_error_detail(body)
    suffix = f" ({detail})" if detail else ""
    if status == 404:
        return NotFoundError(f"{what} not found{suffix}", "check the repository name and tag (`mcpkg tags REPO`)")
    if status == 401:
        if had_credentials:
            return AuthError(
                f"{registry} rejected the credentials for {what}{suffix}",
                f"check the username and password, then run `mcpkg login {registry}`",
            )
        return AuthError(
            f"{registry} requires authentication for {what}{suffix}",
            f"run `mcpkg login {registry}` or set MCPKG_REGISTRY_USERNAME and MCPKG_REGISTRY_PASSWORD",
        )
    if status == 403:
        return AuthError(
            f"{registry} denied access to {what}{suffix}",
            "the account lacks permission for this repository; check its access rights",
        )
    if status == 429:
        return RegistryError(f"{registry} is rate limiting requests ({what}){suffix}", "wait and retry")
    if status >= 500:
        return RegistryError(
            f"{registry} failed with HTTP {status} for {what}{suffix}",
            "the registry has a problem; retry later",
        )
    return RegistryError(f"{registry} answered HTTP {status} for {what}{suffix}")


def unresolved_host(exc: BaseException) -> str | None:
    """The host name whose lookup failed, when `exc` (an `http.TransportError`, or any
    exception chain) comes from a failed DNS resolution (`socket.gaierror`); else None."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if type(item).__name__ == "NameResolutionError" or isinstance(item, socket.gaierror):
            host = getattr(getattr(item, "conn", None), "host", None) or getattr(item, "host", None)
            return str(host) if host else ""
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return None


def is_permanent(exc: BaseException) -> bool:
    """A transport failure that a retry cannot cure: a name that does not resolve, or a
    proxy that refuses."""
    return unresolved_host(exc) is not None or any(cls.__name__ == "ProxyError" for cls in type(exc).__mro__)


def connection_error(
    target: str,
    exc: Exception,
    *,
    attempts: int = 1,
    read_timeout: float = 0.0,
    host: str = "",
    needed_for: str = "",
) -> RegistryError:
    """A transport failure (no HTTP answer) as a message that says which one it was;
    `target` names the other end: "registry ghcr.io", "the token service of ghcr.io";
    `needed_for` what the request was for ("repository ghcr.io/wasmcp/x")."""
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if "ProxyError" in kinds:
        return RegistryError(
            f"{exc}{f', needed for {needed_for}' if needed_for else ''}",
            "check HTTPS_PROXY / HTTP_PROXY (credentials go in the URL: http://user:password@host:port), "
            "or exempt the registry with NO_PROXY",
        )
    unresolved = unresolved_host(exc)
    if unresolved is not None:
        name = unresolved or host.rsplit(":", 1)[0] or target
        return RegistryError(
            f"cannot resolve {name} (no network or DNS){f', needed for {needed_for}' if needed_for else ''}",
            "check your network connection and DNS; mcpkg works offline only with what is cached "
            "(`mcpkg compose --offline`, a pull by cached digest)",
        )
    if "ReadTimeout" in kinds or "ReadTimeoutError" in kinds:
        return RegistryError(
            f"{target} stopped answering: no bytes for {read_timeout:g} s{tries}",
            "the registry is overloaded or hanging; retry later, or allow more time with MCPKG_HTTP_TIMEOUT=<seconds>",
        )
    if "ConnectTimeout" in kinds:
        return RegistryError(
            f"cannot connect to {target}: no answer to the connection attempt{tries}",
            "check the registry address and your network (a firewall may be dropping packets)",
        )
    cause: BaseException = exc
    while cause.__cause__ is not None:  # the socket's own error names it best
        cause = cause.__cause__
    return RegistryError(
        f"cannot reach {target} ({type(cause).__name__}){tries}",
        "check the registry address and your network; for a local registry, is it running?",
    )
