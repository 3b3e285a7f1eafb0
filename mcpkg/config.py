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
class IdentityRule:
    """One `[[trust."<scope>".identities]]` entry: a keyless signer the user trusts
    (docs/signing.md). `issuer` is required, and `identity` or `repository` (or both)."""

    issuer: str
    identity: str | None = None  # exact certificate identity (SAN: email or URI)
    repository: str | None = None  # GitHub `owner/name`: source repository URI https://github.com/owner/name
    workflow: str | None = None  # the workflow file of that repository named by the build config URI
    ref: str | None = None  # glob over the source repository ref

    def describe(self) -> str:
        parts = [f"issuer {self.issuer}"]
        for label, value in (
            ("identity", self.identity),
            ("repository", self.repository),
            ("workflow", self.workflow),
            ("ref", self.ref),
        ):
            if value is not None:
                parts.append(f"{label} {value}")
        return ", ".join(parts)


@dataclass(frozen=True)
class TrustScope:
    pattern: str
    keys: tuple[Path, ...]
    require: bool
    identities: tuple[IdentityRule, ...] = ()


@dataclass(frozen=True)
class SigstoreSettings:
    """`[sigstore]` of the user's config: the trust material of keyless verification and
    the services `sign --keyless` uses (None: the public-good defaults the sigstore
    library ships)."""

    trusted_root: Path | None = None
    signing_config: Path | None = None


@dataclass(frozen=True)
class Config:
    default_registry: str = DEFAULT_REGISTRY
    namespaces: dict[str, str] = field(default_factory=dict)
    registries: dict[str, RegistrySettings] = field(default_factory=dict)
    trust: tuple[TrustScope, ...] = ()
    path: Path | None = None
    sigstore: SigstoreSettings = field(default_factory=SigstoreSettings)

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
        _unknown(body, {"keys", "require", "identities"}, f"{key}.", path)
        if "/" not in pattern:
            raise ConfigError(f"{path}: trust scope {pattern!r} must be `<registry>/<repository glob>`")
        keys = _expect(body.get("keys", []), list, f"{key}.keys", path)
        for k in keys:
            _expect(k, str, f"{key}.keys", path)
        require = _expect(body.get("require", False), bool, f"{key}.require", path)
        resolved = tuple((path.parent / Path(k).expanduser()).resolve() for k in keys)
        identities = _identity_rules(body.get("identities", []), f"{key}.identities", path)
        scopes.append(TrustScope(pattern, resolved, require, identities))
    return tuple(scopes)


IDENTITY_KEYS = ("issuer", "identity", "repository", "workflow", "ref")


def _identity_rules(value: Any, key: str, path: Path) -> tuple[IdentityRule, ...]:
    """`[[trust."<scope>".identities]]`: each entry names its issuer and at least one of
    `identity` or `repository`; there is no trust on first use, so an entry that would
    match any signer of an issuer is refused."""
    example = 'issuer = "https://token.actions.githubusercontent.com", repository = "owner/name"'
    rules = []
    for index, item in enumerate(_expect(value, list, key, path)):
        where = f"{key}[{index}]"
        _expect(item, dict, where, path)
        _unknown(item, set(IDENTITY_KEYS), f"{where}.", path)
        for name in IDENTITY_KEYS:
            if name in item:
                _expect(item[name], str, f"{where}.{name}", path)
                if not item[name].strip():
                    raise ConfigError(f"{path}: `{where}.{name}` is empty", f"give a value, e.g. {example}")
        if "issuer" not in item:
            raise ConfigError(
                f"{path}: `{where}` has no `issuer`",
                f"every keyless signer is bound to its OIDC issuer, e.g. {example}",
            )
        if "identity" not in item and "repository" not in item:
            raise ConfigError(
                f"{path}: `{where}` names neither `identity` nor `repository`, so it would trust anyone "
                f"who can sign in at {item['issuer']}",
                f"add `identity` (the exact certificate identity) or `repository`, e.g. {example}",
            )
        if ("workflow" in item or "ref" in item) and "repository" not in item:
            raise ConfigError(
                f"{path}: `{where}` has `workflow` or `ref` without `repository`",
                "`workflow` and `ref` narrow a GitHub `repository`; add it",
            )
        repository = item.get("repository")
        if repository is not None:
            repository = repository.strip().removeprefix("https://github.com/").strip("/")
            if repository.count("/") != 1:
                raise ConfigError(
                    f"{path}: `{where}.repository` {item['repository']!r} is not `owner/name`",
                    'write the GitHub repository as `owner/name`, e.g. "wasmcp/wasmcp"',
                )
        workflow = item.get("workflow")
        if workflow is not None and "@" in workflow:
            raise ConfigError(
                f"{path}: `{where}.workflow` {workflow!r} carries a ref",
                'give the file (".github/workflows/release.yml") and the ref glob in `ref`',
            )
        rules.append(IdentityRule(item["issuer"], item.get("identity"), repository, workflow, item.get("ref")))
    return tuple(rules)


def _sigstore_table(value: Any, path: Path) -> SigstoreSettings:
    _expect(value, dict, "sigstore", path)
    _unknown(value, {"trusted-root", "signing-config"}, "sigstore.", path)
    paths: dict[str, Path | None] = {}
    for name in ("trusted-root", "signing-config"):
        item = value.get(name)
        if item is not None:
            item = path.parent / Path(_expect(item, str, f"sigstore.{name}", path)).expanduser()
        paths[name] = item
    return SigstoreSettings(paths["trusted-root"], paths["signing-config"])


def parse_config(data: dict[str, Any], path: Path) -> Config:
    _unknown(data, {"default-registry", "namespaces", "registries", "trust", "sigstore"}, "", path)
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
    sigstore = _sigstore_table(data.get("sigstore", {}), path)
    return Config(default_registry, dict(namespaces), registries, trust, path, sigstore)
