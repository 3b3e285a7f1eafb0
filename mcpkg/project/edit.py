"""Edits of `mcpkg.toml` that keep the user's comments and layout (tomlkit)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import Array, Table

from mcpkg.errors import ConfigError, ConflictError, UsageError
from mcpkg.outfile import ensure_directory, write_user_file
from mcpkg.project.manifest import MANIFEST_NAME
from mcpkg.tomlfile import decode_toml_text, parse_toml, read_toml_bytes


def init_manifest(root: Path, text: str) -> Path:
    """Write the starter `text` as `root/mcpkg.toml`, creating `root` when it does not exist
    (as `git init DIR` does); never overwrites."""
    path = root / MANIFEST_NAME
    if os.path.lexists(path):
        raise ConflictError(f"{path} already exists", "edit it, or use `mcpkg add` / `mcpkg remove`")
    ensure_directory(root)
    write_user_file(path, text.encode())
    return path


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        text = decode_toml_text(read_toml_bytes(path), path)
        parse_toml(text, path, "fix the syntax first")  # bounded, and errors name the line
        return tomlkit.parse(text)
    except FileNotFoundError:
        raise ConfigError(f"no {MANIFEST_NAME} in {path.parent}", "run `mcpkg init` first") from None
    except ConfigError:
        raise
    except Exception as exc:  # tomlkit raises its own ParseError subclasses
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class Addition:
    """One `[components.NAME]` to add: where it comes from, its place and its wires."""

    name: str
    ref: str  # a reference, a package name, or (is_path) a local file
    version: str | None
    position: str  # chain | service | transport | terminal
    is_path: bool
    wires: tuple[tuple[str, str], ...] = ()


def add_components(path: Path, additions: list[Addition]) -> str:
    """Add each `[components.NAME]` (with its `wire` table) and place it, in one edit;
    returns the new text (not yet written)."""
    doc = _load(path)
    for addition in additions:
        _add(doc, addition)
    return tomlkit.dumps(doc)


def _add(doc: tomlkit.TOMLDocument, addition: Addition) -> None:
    name, ref, version, position, is_path = (
        addition.name,
        addition.ref,
        addition.version,
        addition.position,
        addition.is_path,
    )
    components = doc.get("components")
    if components is None:
        components = tomlkit.table(is_super_table=True)
        doc["components"] = components
    if name in components:
        raise ConflictError(f"component {name!r} already exists in {MANIFEST_NAME}", "remove it first, or edit it")
    table = tomlkit.table()
    if is_path:
        table["path"] = ref
    else:
        table["ref"] = ref
        if version is not None:
            table["version"] = version
    if addition.wires:
        wire = tomlkit.table()
        for interface, provider in sorted(addition.wires):
            wire[interface] = provider
        table["wire"] = wire
    components[name] = table
    server = doc.get("server")
    if not isinstance(server, Table):
        raise ConfigError(f"{MANIFEST_NAME} has no [server] table", "run `mcpkg init` for a starter file")
    if position == "chain":
        chain = server.get("chain")
        if not isinstance(chain, Array):
            chain = tomlkit.array()
            server["chain"] = chain
        chain.append(name)
    elif position in ("transport", "terminal"):
        server[position] = name
    elif position == "backend":  # a whole server: nothing else may be in it (docs/project.md)
        current = server.get("backend")
        if current:
            raise ConflictError(
                f"the server's backend is already {current!r}", f"`mcpkg remove {current}` first, then add the new one"
            )
        others = [key for key in ("transport", "chain", "terminal") if key in server]
        if others or len(components) > 1:
            raise ConflictError(
                "a wasi:mcp backend is a whole server, and this one already has "
                + (f"a {others[0]}" if others else "other components"),
                "start a backend server in its own directory: `mcpkg init --contract wasi-mcp`",
            )
        server["backend"] = name


def names_backend(text: str, name: str) -> bool:
    """Whether the mcpkg.toml `text` names `name` as its server's backend."""
    server = tomlkit.parse(text).get("server")
    return isinstance(server, Table) and server.get("backend") == name


def remove_component(path: Path, name: str) -> str:
    doc = _load(path)
    components = doc.get("components")
    if components is None or name not in components:
        raise UsageError(f"no component {name!r} in {MANIFEST_NAME}")
    server = doc.get("server")
    if isinstance(server, Table) and server.get("backend") == name:
        del server["backend"]  # the server names no backend again, as `mcpkg init` wrote it
    if isinstance(server, Table):
        for role in ("transport", "terminal"):
            if server.get(role) == name:
                raise ConflictError(
                    f"{name!r} is the server's {role}", f"add another {role} with `mcpkg add ... --{role}` first"
                )
        chain = server.get("chain")
        if isinstance(chain, Array):
            for index in reversed(range(len(chain))):
                if chain[index] == name:
                    del chain[index]
    del components[name]
    return tomlkit.dumps(doc)
