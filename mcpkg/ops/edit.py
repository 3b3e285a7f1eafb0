"""`mcpkg add` / `mcpkg remove`: edit `mcpkg.toml` (comments and layout kept) and re-lock,
as one transaction under the project's lock: when the re-lock fails, the previous
`mcpkg.toml` is put back before anyone else can read the edited one."""

from __future__ import annotations

from pathlib import Path

from mcpkg.errors import IncompatibleError, McpkgError, UsageError
from mcpkg.infile import looks_like_path, readable_file
from mcpkg.ops.assemble import Planner
from mcpkg.ops.context import Context
from mcpkg.ops.lock import lock_project
from mcpkg.outfile import resolve_destination, write_user_file
from mcpkg.project.edit import Addition, add_components, init_manifest, names_backend, remove_component
from mcpkg.project.manifest import LOCK_NAME, MANIFEST_NAME
from mcpkg.project.state import project_lock
from mcpkg.semver import Requirement
from mcpkg.wasm.contracts import (
    Contract,
    capabilities_of,
    contract_named,
    contracts,
    position_default,
    service_defaults,
    wrapper_for,
)
from mcpkg.wasm.model import semver_key

CONTRACT_NAMES = {  # what `mcpkg init --contract` accepts besides a contract's package
    "wasmcp": "wasmcp:mcp@0.3.0",
    "wasmcp-v0.3": "wasmcp:mcp@0.3.0",
    "wasmcp-v20251125": "wasmcp:mcp-v20251125@0.1.1",
    "mcpkg": "mcpkg:mcp@0.1.0",
    "wasi-mcp": "wasi:mcp@0.1.0-preview2",
}
DEFAULT_CONTRACT = "wasmcp-v0.3"  # the generation the wasmcp README describes


def starter_text(contract: Contract, transport: str, name: str) -> str:
    """A starter mcpkg.toml for `contract`: its framework's transport and terminal, and
    every service package of its framework; the chain is left to `mcpkg add`."""
    if transport not in ("http", "stdio"):
        raise UsageError(f"--transport must be http or stdio, not {transport!r}")
    found_transport = position_default(contract, "transport", f"{transport}-transport")
    found_terminal = position_default(contract, "terminal")
    if contract.chain is None or found_transport is None or found_terminal is None:
        raise UsageError(f"{contract.package} has no framework to start a server from", "see docs/contracts.md")
    parts = [("transport", found_transport[1]), ("terminal", found_terminal[1])]
    parts += [("service", package) for package in service_defaults(contract)]
    names = {package: package.split(":", 1)[1] for _, package in parts}
    lines = [
        f"# An MCP server on {contract.package}. `mcpkg add NAME FILE|REF` adds your handlers (or",
        "# capability components) to the chain; `mcpkg lock` pins everything in mcpkg.lock;",
        "# `mcpkg compose` writes the server. Framework packages (`ns:name`) are found through",
        '# [namespaces] in your config (wasmcp = "ghcr.io/wasmcp" unless you map it).',
        "",
        "[server]",
        f'name = "{name}"',
        f'transport = "{names[found_transport[1]]}"',
        "chain = []                        # middleware and handlers, in order after the transport",
        f'terminal = "{names[found_terminal[1]]}"',
    ]
    for position, package in parts:
        note = "   # a service, wired by interface name" if position == "service" else ""
        lines += ["", f"[components.{names[package]}]{note}", f'ref = "{package}"']
    lines += [
        "",
        "# Require signatures by your publishers' keys:",
        '# [trust."ghcr.io/wasmcp/*"]',
        '# keys = ["keys/publisher.pub"]',
        "# require = true",
    ]
    return "\n".join(lines) + "\n"


def backend_starter_text(contract: Contract, name: str) -> str:
    """A starter mcpkg.toml for a server that is one backend of `contract` (wasi:mcp): a
    [server] that names no backend yet; `mcpkg add NAME FILE|REF --backend` names it."""
    return "\n".join([
        f"# An MCP server that is one {contract.package} backend: mcpkg is its MCP host, so there",
        "# is no transport, chain or terminal to choose (docs/wasi-mcp.md). Name your backend:",
        "#   mcpkg add NAME FILE|REF --backend   (a .wasm you built, or a registry reference)",
        "# which sets `backend` below and locks it; then `mcpkg compose` checks it and writes",
        "# server.wasm, and `mcpkg run` serves it over stdio.",
        "",
        "[server]",
        f'name = "{name}"',
        "",
        "# Require signatures by your publishers' keys:",
        '# [trust."ghcr.io/me/*"]',
        '# keys = ["keys/publisher.pub"]',
        "# require = true",
    ]) + "\n"  # fmt: skip


def init(root: Path, transport: str, contract_name: str = DEFAULT_CONTRACT, name: str | None = None) -> Path:
    """`mcpkg init`: a starter mcpkg.toml for the framework of a contract, or for a server
    that is one backend of a contract without a chain (wasi:mcp)."""
    package = CONTRACT_NAMES.get(contract_name, contract_name)
    contract = contract_named(package)
    if contract is None:
        known = sorted({*CONTRACT_NAMES, *(c.package for c in contracts())})
        raise UsageError(f"unknown contract {contract_name!r}", "one of: " + ", ".join(known))
    server = name or root.resolve().name or "server"
    if contract.chain is None:
        text = backend_starter_text(contract, server)
    else:
        text = starter_text(contract, transport, server)
    return init_manifest(root, text)


def parse_wires(values: list[str]) -> tuple[tuple[str, str], ...]:
    """`--wire INTERFACE=COMPONENT` values (the manifest check validates the names)."""
    wires = []
    for value in values:
        interface, sep, provider = value.partition("=")
        if not sep or not interface.strip() or not provider.strip():
            raise UsageError(
                f"--wire {value!r} is not INTERFACE=COMPONENT", "e.g. --wire wasmcp:mcp-v20251125/tools=strings"
            )
        wires.append((interface.strip(), provider.strip()))
    return tuple(sorted(wires))


def add(
    ctx: Context,
    root: Path,
    name: str,
    ref: str,
    version: str | None,
    position: str | None,
    wires: list[str] | None = None,
    wrap: bool = True,
) -> list[str]:
    """Add a component (and re-lock); returns the names added. A capability component
    (it exports `tools`, `resources`... of a contract whose wrapper puts it in the chain)
    added without a position is added as a service, with an instance of the contract's
    wrapper appended to the chain and wired to it (as wasmcp's CLI does); `wrap=False`
    adds it alone."""
    is_path = looks_like_path(ref)
    if is_path and version:
        raise UsageError("--version applies to registry components, not to a local path")
    if is_path:  # checked where `mcpkg lock` will look for it, before mcpkg.toml is touched
        readable_file(root / Path(ref).expanduser(), "component", "build it first, or fix the path")
    additions = [Addition(name, ref, version, position or "chain", is_path, parse_wires(wires or []))]
    manifest = root / MANIFEST_NAME
    with project_lock(root):
        resolve_destination(manifest)  # an unwritable mcpkg.toml fails before any download
        text = add_components(manifest, additions)  # read, and the name free, before any download
        if position is None and wrap:
            source = str((root / Path(ref).expanduser()).resolve()) if is_path else ref
            requirement = None if version is None else Requirement.parse(version)
            wrapping = capability_wrappers(ctx, root, name, source, requirement)
            if wrapping:
                additions = [Addition(name, ref, version, "service", is_path, parse_wires(wires or [])), *wrapping]
                text = add_components(manifest, additions)
        _write_and_relock(ctx, root, manifest, text)
    return [a.name for a in additions]


def capability_wrappers(
    ctx: Context, root: Path, name: str, text: str, requirement: Requirement | None
) -> list[Addition]:
    """The wrapper entries the component `text` (an absolute path, a reference or a
    package name) needs if it is a capability component: one per capability interface it
    exports, named `<name>-<capability>`, at the newest wrapper release built against the
    same contract version (caret requirement), wired to `name`."""
    planner = Planner(ctx, root)
    model = planner.load(text, requirement)[0]
    additions = []
    exported = {semver_key(n) for n in model.exports}
    for found, capability in capabilities_of(model):
        wrapper = wrapper_for(found, capability.interface)
        if wrapper is None:
            if found.chain is not None and semver_key(found.chain) not in exported:
                # no wrapper, and not a chain member itself: the chain would refuse it at lock
                raise IncompatibleError(
                    f"{name} provides {capability.interface}, and {found.package} has no wrapper that puts that "
                    "capability in the chain",
                    f"add it with --service, for a chain member that imports {capability.interface} (or write it "
                    "as a chain middleware that answers the requests itself)",
                )
            continue
        package, wired = wrapper
        short = capability.interface.split("/")[-1].split("@")[0]
        framework = planner.framework(found, package, f"{name}-{short}", "chain")
        version = f"^{(framework.version or '').lstrip('=')}" if framework.version else None
        wire = ((wired.split("@", 1)[0], name),)
        additions.append(Addition(f"{name}-{short}", package, version, "chain", False, wire))
    return additions


def remove(ctx: Context, root: Path, name: str) -> None:
    manifest = root / MANIFEST_NAME
    with project_lock(root):
        text = remove_component(manifest, name)
        if names_backend(manifest.read_text(), name):
            # the server is empty again, as `mcpkg init --contract wasi-mcp` wrote it: nothing to lock
            write_user_file(manifest, text.encode())
            (root / LOCK_NAME).unlink(missing_ok=True)
            return
        _write_and_relock(ctx, root, manifest, text)


def _write_and_relock(ctx: Context, root: Path, manifest: Path, text: str) -> None:
    original = manifest.read_bytes()
    write_user_file(manifest, text.encode())
    try:
        lock_project(ctx, root)
    except McpkgError as exc:
        write_user_file(manifest, original)
        exc.message += " (mcpkg.toml was left as it was)"
        raise
