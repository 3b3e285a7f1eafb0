"""`mcpkg.toml`: the server a user wants (docs/project.md), parsed strictly (pure).

Errors name the key and the line at fault; unknown keys are errors; a component has
either `ref` (with `version` or `digest`, not both) or `path`. A component may name, per
import, the service that provides it (`[components.NAME.wire]`: interface = component):
explicit wiring, checked and applied by `mcpkg.wasm.compat.check_chain`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.config import TrustScope, parse_trust_table
from mcpkg.errors import ConfigError, UsageError
from mcpkg.reference import Digest
from mcpkg.semver import Requirement
from mcpkg.tomlfile import parse_toml

MANIFEST_NAME = "mcpkg.toml"
LOCK_NAME = "mcpkg.lock"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# an interface as a wire names it: `ns:pkg/iface`, optionally `@version`
_INTERFACE = re.compile(r"^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)+(@[0-9A-Za-z.+-]+)?$")
POSITIONS = ("transport", "chain", "terminal", "service", "backend")


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    ref: str | None = None
    version: Requirement | None = None
    digest: Digest | None = None
    path: str | None = None
    wires: tuple[tuple[str, str], ...] = ()  # (interface, providing component), sorted

    @property
    def source(self) -> str:
        return "path" if self.path is not None else "registry"


@dataclass(frozen=True)
class ServerManifest:
    """A composed server (transport, chain, terminal, services), or a server that is one
    wasi:mcp backend (`backend` set; then transport and terminal are "" and chain empty)."""

    name: str
    transport: str
    chain: tuple[str, ...]
    terminal: str
    components: dict[str, ComponentSpec]
    trust: tuple[TrustScope, ...]
    backend: str | None = None

    def position(self, name: str) -> str:
        if name == self.backend:
            return "backend"
        if name == self.transport:
            return "transport"
        if name == self.terminal:
            return "terminal"
        if name in self.chain:
            return "chain"
        return "service"

    @property
    def services(self) -> list[str]:
        return sorted(n for n in self.components if self.position(n) == "service")

    @property
    def wires(self) -> dict[str, dict[str, str]]:
        """component -> {interface: provider}, for the components that have wires."""
        return {name: dict(spec.wires) for name, spec in self.components.items() if spec.wires}


def line_of(text: str, table: str | None, key: str | None) -> int | None:
    """The 1-based line where `key` is set in `[table]` (or the table header)."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in table.split(".")) + r"\s*\]")
        for index, line in enumerate(lines):
            if header.match(line):
                start = index
                if key is None:
                    return index + 1
                break
        else:
            return None
    if key is None:
        return None
    pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for index in range(start, len(lines)):
        if index > start and table is not None and re.match(r"^\s*\[", lines[index]):
            break
        if pattern.match(lines[index]):
            return index + 1
    return None


class _Reader:
    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path

    def error(
        self, message: str, table: str | None = None, key: str | None = None, hint: str | None = None
    ) -> ConfigError:
        line = line_of(self.text, table, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        dotted = ".".join(p for p in (table, key) if p)
        return ConfigError(f"{where}: `{dotted}`: {message}" if dotted else f"{where}: {message}", hint)

    def unknown(self, data: dict[str, Any], allowed: set[str], table: str | None) -> None:
        for key in data:
            if key not in allowed:
                raise self.error("unknown key", table, key, f"allowed here: {', '.join(sorted(allowed))}")

    def string(self, data: dict[str, Any], key: str, table: str, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.error(
                    "is required", table, None if key not in data else key, f'add `{key} = "..."` to [{table}]'
                )
            return None
        if not isinstance(value, str):
            raise self.error("must be a string", table, key)
        return value


def parse_server_manifest(text: str, path: Path) -> ServerManifest:
    reader = _Reader(text, path)
    data = parse_toml(text, path, "fix the syntax at the line named")
    if "sigstore" in data:  # trust material is the user's choice, never a project's
        raise reader.error(
            "[sigstore] belongs in the user's config, not in a project",
            "sigstore",
            hint="move it to your mcpkg config.toml (`mcpkg env` shows where); "
            "a project may only add [trust] keys and identities",
        )
    reader.unknown(data, {"server", "components", "trust"}, None)
    server = data.get("server")
    if not isinstance(server, dict):
        raise reader.error("a [server] table is required", hint="run `mcpkg init` for a starter file")
    reader.unknown(server, {"name", "transport", "chain", "terminal", "backend"}, "server")
    name = reader.string(server, "name", "server")
    backend = reader.string(server, "backend", "server", required=False)
    if backend is None and not {"transport", "chain", "terminal"} & set(server):
        raise reader.error(
            "names neither a backend nor a transport yet",
            "server",
            hint="name the server's wasi:mcp backend: `mcpkg add NAME FILE|REF --backend`; or start from a "
            "framework: `mcpkg init --contract wasmcp-v20251125`",
        )
    if backend is not None:
        for key in ("transport", "chain", "terminal"):
            if key in server:
                raise reader.error(
                    "a server that is a wasi:mcp backend has no transport, chain or terminal",
                    "server",
                    key,
                    "keep either `backend` or `transport`/`chain`/`terminal`",
                )
    transport = reader.string(server, "transport", "server") if backend is None else ""
    terminal = reader.string(server, "terminal", "server") if backend is None else ""
    chain = server.get("chain", [])
    if not isinstance(chain, list) or not all(isinstance(c, str) for c in chain):
        raise reader.error("must be a list of component names", "server", "chain")
    components_table = data.get("components", {})
    if not isinstance(components_table, dict):
        raise reader.error("must be a table of components", None, "components")
    components: dict[str, ComponentSpec] = {}
    for cname, body in components_table.items():
        table = f"components.{cname}"
        if not _NAME.match(cname):
            raise reader.error("component names are lowercase letters, digits, - and _", table)
        if not isinstance(body, dict):
            raise reader.error("must be a table", table)
        reader.unknown(body, {"ref", "version", "digest", "path", "wire"}, table)
        ref = reader.string(body, "ref", table, required=False)
        cpath = reader.string(body, "path", table, required=False)
        version_text = reader.string(body, "version", table, required=False)
        digest_text = reader.string(body, "digest", table, required=False)
        if (ref is None) == (cpath is None):
            raise reader.error("a component has either `ref` or `path`, exactly one", table)
        if cpath is not None and (version_text or digest_text):
            raise reader.error("`version` and `digest` apply to `ref` components only", table)
        if version_text is not None and digest_text is not None:
            raise reader.error("give either `version` or `digest`, not both", table, "digest")
        try:
            version = Requirement.parse(version_text) if version_text is not None else None
            digest = Digest.parse(digest_text) if digest_text is not None else None
        except UsageError as exc:
            raise reader.error(
                exc.message, table, "version" if version_text is not None and digest_text is None else "digest"
            ) from exc
        wires = _wires(reader, body.get("wire"), f"{table}.wire")
        components[cname] = ComponentSpec(cname, ref, version, digest, cpath, wires)
    assert name is not None and transport is not None and terminal is not None
    trust = parse_trust_table(data.get("trust", {}), path)
    if backend is not None:
        if backend not in components:
            raise reader.error(f"names {backend!r}, which is not a [components.{backend}] table", "server", "backend")
        others = sorted(set(components) - {backend})
        if others:
            raise reader.error(
                f"a wasi:mcp backend is a whole server: no other component ({', '.join(others)})",
                f"components.{others[0]}",
                hint="a backend cannot be composed with other components (docs/wasi-mcp.md)",
            )
        return ServerManifest(name, "", (), "", components, trust, backend)
    for key, value in (("transport", transport), ("terminal", terminal), *(("chain", c) for c in chain)):
        if value not in components:
            raise reader.error(f"names {value!r}, which is not a [components.{value}] table", "server", key)
    positions = [transport, *chain, terminal]
    if len(set(positions)) != len(positions):
        raise reader.error("a component may take only one chain position", "server", "chain")
    for spec in components.values():
        table = f"components.{spec.name}.wire"
        for interface, provider in spec.wires:
            if provider not in components:
                raise reader.error(
                    f"wires {interface} to {provider!r}, which is not a [components.{provider}] table", table
                )
            if provider == spec.name:
                raise reader.error(f"wires {interface} to the component itself", table)
            if provider in positions:
                raise reader.error(
                    f"wires {interface} to {provider!r}, which is in the chain ([server]); a wire names a service",
                    table,
                    hint=f"remove {provider!r} from [server], or wire to another component",
                )
    return ServerManifest(name, transport, tuple(chain), terminal, components, trust)


def _wires(reader: _Reader, value: Any, table: str) -> tuple[tuple[str, str], ...]:
    """`[components.NAME.wire]`: interface name = providing component."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise reader.error(
            "must be a table of interface = component",
            table,
            hint='e.g. [components.strings-tools.wire] then "wasmcp:mcp-v20251125/tools" = "strings"',
        )
    wires = []
    for interface, provider in value.items():
        if not _INTERFACE.match(interface):
            raise reader.error(
                f"{interface!r} is not an interface name",
                table,
                hint='name it as `namespace:package/interface`, optionally with "@version"',
            )
        if not isinstance(provider, str) or not _NAME.match(provider):
            raise reader.error(f"{interface}: must name a component (a [components.NAME] table)", table)
        wires.append((interface, provider))
    seen: dict[str, str] = {}
    for interface, _ in wires:  # one wire per interface, whatever the version written
        base = interface.split("@", 1)[0]
        if base in seen:
            raise reader.error(f"{seen[base]} and {interface} wire the same interface", table)
        seen[base] = interface
    return tuple(sorted(wires))


def find_project(start: Path | None = None) -> Path:
    """The directory holding `mcpkg.toml`: `start` or its nearest parent."""
    if start is not None:
        if not start.is_dir():
            what = "does not exist" if not start.exists() else "is not a directory"
            dangling = start.is_symlink() and not start.exists()
            raise ConfigError(
                f"project directory {start} {'is a dangling symlink' if dangling else what}",
                "give -C the directory that holds mcpkg.toml (or run `mcpkg init -C DIR`)",
            )
        if not os.access(start, os.R_OK | os.X_OK):
            raise ConfigError(f"cannot read project directory {start}: permission denied")
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / MANIFEST_NAME
        if candidate.exists() and not candidate.is_dir():  # a device or FIFO is refused on reading
            return directory
    where = f"in {start} or any of its parents" if start is not None else "here or in any parent directory"
    raise ConfigError(f"no {MANIFEST_NAME} {where}", "run `mcpkg init` to create one")
