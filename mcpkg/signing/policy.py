"""Trust policy (docs/signing.md), pure.

`[trust."<registry>/<repository glob>"]` scopes come from the user's config and from the
project's `mcpkg.toml`. For a component every matching scope applies: the keys and the
keyless identities are the union, and `require` is true if any scope requires it. So
the strictest result wins and a project can add keys, identities and requirements but
never switch off the user's `require`. The trusted root of keyless verification comes
from the user's config alone (`[sigstore] trusted-root`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from mcpkg.config import IdentityRule, TrustScope


@dataclass(frozen=True)
class Policy:
    keys: tuple[Path, ...]
    require: bool
    scopes: tuple[str, ...]
    identities: tuple[IdentityRule, ...] = ()
    trusted_root: Path | None = None  # None: the public-good root the sigstore library ships

    @property
    def applies(self) -> bool:
        return bool(self.scopes)

    @property
    def names_signers(self) -> bool:
        return bool(self.keys or self.identities)


def scope_matches(pattern: str, location: str) -> bool:
    """`ghcr.io/wasmcp/*` matches `ghcr.io/wasmcp/http-transport`; the registry part
    must be equal, the repository part is a glob."""
    registry, _, glob = pattern.partition("/")
    loc_registry, _, repository = location.partition("/")
    return registry == loc_registry and fnmatch.fnmatchcase(repository, glob)


def policy_for(location: str, *scope_lists: tuple[TrustScope, ...], trusted_root: Path | None = None) -> Policy:
    keys: list[Path] = []
    identities: list[IdentityRule] = []
    require = False
    names: list[str] = []
    for scopes in scope_lists:
        for scope in scopes:
            if scope_matches(scope.pattern, location):
                names.append(scope.pattern)
                require = require or scope.require
                keys.extend(k for k in scope.keys if k not in keys)
                identities.extend(i for i in scope.identities if i not in identities)
    return Policy(tuple(keys), require, tuple(names), tuple(identities), trusted_root)
