"""OCI references, digests and package names, parsed once into validated values.

Pure: no network, no filesystem. Everything downstream trusts these objects.

- `Digest`: `sha256:<64 lowercase hex>` (the only algorithm mcpkg accepts).
- `Reference`: `[registry/]repository[:tag][@sha256:<hex>]`. The first path segment is a
  registry when it contains `.` or `:` or is `localhost` (Docker's rule); otherwise the
  default registry is prepended.
- `PackageName`: `namespace:name[@requirement]` in kebab-case; mapped to a repository by
  `mcpkg.config.Config.package_location`.

A text with no `/` that looks like `ns:name` is a package name; anything else is an OCI
reference (see docs/references.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcpkg.errors import UsageError
from mcpkg.semver import Requirement

_HEX64 = re.compile(r"[a-f0-9]{64}")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$"
)
_LABEL = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_PACKAGE = re.compile(rf"^(?P<ns>{_LABEL}):(?P<name>{_LABEL})(?:@(?P<req>.+))?$")
_LOOPBACK_V4 = re.compile(r"^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
# a registry written alone: `localhost`, an IP literal (port optional), `host.name:PORT`
_BARE_REGISTRY = re.compile(
    r"^(?:(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+:\d{1,5})$"
)

DEFAULT_REGISTRY = "ghcr.io"


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        algorithm, sep, hexpart = text.partition(":")
        if not sep:
            raise UsageError(f"{text!r} is not a digest", "digests look like sha256:<64 hex digits>")
        if algorithm != "sha256":
            raise UsageError(f"digest algorithm {algorithm!r} is not supported", "mcpkg uses sha256 digests")
        if not _HEX64.fullmatch(hexpart):
            raise UsageError(f"{text!r} is not a valid sha256 digest", "expected sha256: and 64 lowercase hex digits")
        return cls(algorithm, hexpart)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def is_sha256_hex(text: str) -> bool:
    """64 lowercase hex digits: the part of a sha256 digest after `sha256:`."""
    return bool(_HEX64.fullmatch(text))


def is_loopback_host(registry: str) -> bool:
    """True for `localhost`, literal `127.x.x.x` and `[::1]`, with or without a port.

    Decided from the string alone, never by DNS (docs/config.md, `[registries]`).
    """
    host = registry
    if host.startswith("["):
        return host.split("]")[0] == "[::1"
    host = host.rsplit(":", 1)[0] if ":" in host else host
    return host == "localhost" or bool(_LOOPBACK_V4.match(host))


def validate_registry(registry: str) -> str:
    if not _HOST.match(registry):
        raise UsageError(f"{registry!r} is not a valid registry host", "write it as host[:port]")
    if ":" in registry and not registry.startswith("["):
        port = int(registry.rsplit(":", 1)[1])
        if not 0 < port < 65536:
            raise UsageError(f"{registry!r} has an invalid port", "ports are 1-65535")
    return registry


def validate_repository(repository: str, whole: str) -> str:
    if not repository or len(repository) > 255:
        raise UsageError(f"{whole!r} has an empty or over-long repository name")
    for component in repository.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise UsageError(
                f"{whole!r} is not a valid reference: repository component {component!r} is invalid",
                "repository names are lowercase letters, digits and . _ - separated by /",
            )
    return repository


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str, default_registry: str = DEFAULT_REGISTRY) -> Reference:
        if not text or any(ch.isspace() for ch in text):
            raise UsageError(f"{text!r} is not a valid reference", "write [registry/]repo[:tag][@digest]")
        if _BARE_REGISTRY.match(text):
            raise UsageError(
                f"{text} names a registry, not a repository",
                f"add the repository after it: {text}/<repository>[:tag]",
            )
        rest, digest = text, None
        if "@" in rest:
            rest, digest_text = rest.rsplit("@", 1)
            digest = Digest.parse(digest_text)
        tag = None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not _TAG.match(tag):
                raise UsageError(
                    f"{text!r} has an invalid tag {tag!r}",
                    "tags are up to 128 letters, digits, _ . - and do not start with . or -",
                )
        first, sep, remainder = rest.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            registry, repository = validate_registry(first), remainder
        else:
            registry, repository = default_registry, rest
        validate_repository(repository, text)
        return cls(registry, repository, tag, digest)

    @property
    def location(self) -> str:
        """`registry/repository`, the identity cosign calls docker-reference."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str | None) -> Reference:
        return Reference(self.registry, self.repository, tag, self.digest)

    def with_digest(self, digest: Digest | None) -> Reference:
        return Reference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        text = self.location
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


@dataclass(frozen=True)
class PackageName:
    namespace: str
    name: str
    requirement: Requirement | None = None

    @classmethod
    def try_parse(cls, text: str) -> PackageName | None:
        if "/" in text:
            return None
        match = _PACKAGE.match(text)
        if not match:
            return None
        req = match["req"]
        if req is not None:
            # `ns:name@0.1` means `^0.1`; `@sha256:...` is not a package requirement.
            if req.startswith("sha256:"):
                return None
            return cls(match["ns"], match["name"], Requirement.parse(req))
        return cls(match["ns"], match["name"])

    def __str__(self) -> str:
        base = f"{self.namespace}:{self.name}"
        return f"{base}@{self.requirement}" if self.requirement else base
