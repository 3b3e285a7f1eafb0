"""User configuration (`config.toml`) and the resolution of names to repositories.

The file lives in the platformdirs user config dir; `MCPKG_CONFIG` overrides its path.
Reading is strict: unknown keys and wrongly typed values are errors naming the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpkg.errors import ConfigError, UsageError
from mcpkg.reference import DEFAULT_REGISTRY, PackageName, Reference, validate_registry
from mcpkg.tomlfile import decode_toml_text, parse_toml, read_toml_bytes


@dataclass(frozen=True)
class RegistrySettings:
    plain_http: bool | None = None  # None: decided by the host (loopback -> HTTP)
    ca_file: Path | None = None

    def uses_plain_http(self, loopback: bool) -> bool:
        """Loopback hosts speak plain HTTP unless the config says `plain-http = false` or
        gives a `ca-file`; other hosts only with `plain-http = true` (docs/config.md)."""
        if self.plain_http is not None:
            return self.plain_http
        return loopback and self.ca_file is None


@dataclass(frozen=True)
class TrustScope:
    pattern: str
    keys: tuple[Path, ...]
    require: bool


@dataclass(frozen=True)
class Config:
    default_registry: str = DEFAULT_REGISTRY
    namespaces: dict[str, str] = field(default_factory=dict)
    registries: dict[str, RegistrySettings] = field(default_factory=dict)
    trust: tuple[TrustScope, ...] = ()
    path: Path | None = None

    def registry_settings(self, registry: str) -> RegistrySettings:
        return self.registries.get(registry, RegistrySettings())

    def package_reference(self, package: PackageName) -> Reference:
        """Map `ns:name` to `<registry>/<prefix><ns>/<name>` (docs/references.md)."""
        mapped = self.namespaces.get(package.namespace)
        if mapped is not None:
            return Reference.parse(f"{mapped.rstrip('/')}/{package.name}", self.default_registry)
        return Reference(self.default_registry, f"{package.namespace}/{package.name}")

    def parse_reference(self, text: str) -> Reference:
        return Reference.parse(text, self.default_registry)


def config_path() -> Path:
    override = os.environ.get("MCPKG_CONFIG")
    if override:
        return Path(override)
    import platformdirs  # only when needed: ~10 ms

    return Path(platformdirs.user_config_dir("mcpkg")) / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the user config; a missing file at the default place gives the defaults, a
    missing file `MCPKG_CONFIG` names is an error (a typo must not silently mean "no
    namespaces, no trust policy")."""
    named = path is None and bool(os.environ.get("MCPKG_CONFIG"))
    path = path or config_path()
    try:
        raw = read_toml_bytes(path)
    except FileNotFoundError:
        if named:
            raise ConfigError(
                f"MCPKG_CONFIG names {path}, which does not exist",
                "create the file (an empty one means the defaults), or unset MCPKG_CONFIG",
            ) from None
        return Config(path=None)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    data = parse_toml(decode_toml_text(raw, path), path, "fix the file or remove it")
    return parse_config(data, path)


def _expect(value: Any, kind: type | tuple[type, ...], key: str, path: Path) -> Any:
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{path}: `{key}` must be a {names}", f"fix `{key}` in {path}")
    return value


def _unknown(table: dict[str, Any], allowed: set[str], where: str, path: Path) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"{path}: unknown key `{where}{key}`",
                f"allowed here: {', '.join(sorted(allowed))}",
            )


def parse_trust_table(data: Any, path: Path, prefix: str = "trust") -> tuple[TrustScope, ...]:
    """Parse a `[trust."<registry>/<glob>"]` table (shared by config and mcpkg.toml)."""
    _expect(data, dict, prefix, path)
    scopes = []
    for pattern, body in data.items():
        key = f'{prefix}."{pattern}"'
        _expect(body, dict, key, path)
        _unknown(body, {"keys", "require"}, f"{key}.", path)
        if "/" not in pattern:
            raise ConfigError(f"{path}: trust scope {pattern!r} must be `<registry>/<repository glob>`")
        keys = _expect(body.get("keys", []), list, f"{key}.keys", path)
        for k in keys:
            _expect(k, str, f"{key}.keys", path)
        require = _expect(body.get("require", False), bool, f"{key}.require", path)
        resolved = tuple((path.parent / Path(k).expanduser()).resolve() for k in keys)
        scopes.append(TrustScope(pattern, resolved, require))
    return tuple(scopes)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    _unknown(data, {"default-registry", "namespaces", "registries", "trust"}, "", path)
    default_registry = _expect(data.get("default-registry", DEFAULT_REGISTRY), str, "default-registry", path)
    try:
        validate_registry(default_registry)
    except UsageError as exc:
        raise ConfigError(f"{path}: `default-registry`: {exc.message}") from exc
    namespaces = _expect(data.get("namespaces", {}), dict, "namespaces", path)
    for ns, target in namespaces.items():
        _expect(target, str, f"namespaces.{ns}", path)
        try:
            Reference.parse(f"{target.rstrip('/')}/x", default_registry)
        except UsageError as exc:
            raise ConfigError(f"{path}: `namespaces.{ns}`: {exc.message}") from exc
    registries: dict[str, RegistrySettings] = {}
    for host, body in _expect(data.get("registries", {}), dict, "registries", path).items():
        key = f'registries."{host}"'
        _expect(body, dict, key, path)
        _unknown(body, {"plain-http", "ca-file"}, f"{key}.", path)
        plain = body.get("plain-http")
        if plain is not None:
            _expect(plain, bool, f"{key}.plain-http", path)
        ca = body.get("ca-file")
        ca_path = None
        if ca is not None:
            ca_path = path.parent / Path(_expect(ca, str, f"{key}.ca-file", path)).expanduser()
        registries[host] = RegistrySettings(plain, ca_path)
    trust = parse_trust_table(data.get("trust", {}), path)
    return Config(default_registry, dict(namespaces), registries, trust, path)
