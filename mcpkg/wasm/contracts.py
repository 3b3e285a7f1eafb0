"""Contracts, and which roles of them a component fits (pure: models only).

A contract (docs/contracts.md) is a WIT package whose worlds define roles, with what the
WIT cannot say: the chain interface, each role world's position (transport, chain,
terminal, service), the interfaces services provide, the framework defaults. mcpkg ships
its own (`mcpkg:mcp@0.1.0`, `wit/`) and wasmcp's two generations; their models are
generated into `mcpkg/data/contracts/` by `scripts/gen_contracts.py`.

A component fits a role world when it exports what the world exports (type-compatible: it
may export more) and imports nothing the world does not offer (WASI interfaces are the
host's and always allowed). Among the worlds it fits, the most specific comes first: the
one whose exports it covers most, then the one offering the fewest imports it does not
use, then the contract's own order (handler worlds before `middleware`). A component that
exports an interface a contract's services provide (wasmcp v0.3's `request`, its writers'
`error-result`...) also gets that service role, world or not, and one that exports a
capability interface (the current wasmcp generation's `tools`, `resources`...) gets a
capability role. `wrapper_for` says which wrapper puts a capability provider in the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from mcpkg.wasm.compat import Problem, check_link, find_export
from mcpkg.wasm.model import ComponentModel, is_wasi, semver_key

DATA = Path(__file__).resolve().parents[1] / "data" / "contracts"


@dataclass(frozen=True)
class Capability:
    """A capability interface: exported by capability components, each put in the chain by
    an instance of its wrapper whose `wired_import` is wired to that one provider."""

    interface: str  # qualified: wasmcp:mcp-v20251125/tools@0.1.1
    label: str  # tools capability
    wrapper: str | None  # the wrapper's role world (tools-middleware); None: no wrapper
    wrapper_package: str | None  # the wrapper's framework package (wasmcp:tools-middleware)
    wired_import: str | None  # the wrapper's import a provider is wired to, qualified


@dataclass(frozen=True)
class Contract:
    package: str  # wasmcp:mcp@0.3.0
    chain: str | None  # the chain interface, qualified: wasmcp:mcp/incoming-handler@0.3.0
    roles: tuple[tuple[str, str], ...]  # (world, position), most specific first
    services: tuple[tuple[str, str], ...]  # (qualified interface, label)
    defaults: dict[str, str]  # role world or service interface -> framework package
    worlds: dict[str, ComponentModel]
    labels: dict[str, str] = field(default_factory=dict)  # role world -> its display name
    entry: dict[str, str] = field(default_factory=dict)  # role world -> entry-point export
    capabilities: tuple[Capability, ...] = ()
    targets: tuple[tuple[str, str], ...] = ()  # role world -> its qualified name, when not in the contract's package

    def label(self, world: str) -> str:
        """How a role is named: `tools-handler`; `wasi:mcp backend`."""
        return self.labels.get(world, world)

    def position(self, world: str) -> str:
        return dict(self.roles)[world]

    def target(self, world: str) -> str:
        """`tools-handler` -> `wasmcp:mcp/tools-handler@0.3.0` (the config's `target`); a
        role world of mcpkg's own roles package is qualified by that package."""
        known = dict(self.targets).get(world)
        if known is not None:
            return known
        name, _, version = self.package.partition("@")
        return f"{name}/{world}@{version}" if version else f"{name}/{world}"


@dataclass(frozen=True)
class Role:
    name: str  # the role world, or a service's label ("request service")
    position: str  # transport | chain | terminal | service
    contract: str  # the contract's package
    world: str | None = None  # the role world (None for a service known by its interface)
    target: str | None = None  # contract-qualified world name, for `push`'s config

    def __str__(self) -> str:
        return f"{self.name} ({self.contract}, {self.position})" if self.world else f"{self.name} ({self.contract})"

    def to_json(self) -> dict[str, str | None]:
        return {
            "role": self.name,
            "world": self.world,
            "position": self.position,
            "contract": self.contract,
            "target": self.target,
        }


@cache
def _index() -> tuple[tuple[str, str], ...]:
    """(data file, package) of every contract, its own first (a small file: the models are
    read only for the contracts a component mentions)."""
    entries = json.loads((DATA / "index.json").read_text(encoding="utf-8"))
    triples = [(e["file"], e["package"], tuple(e.get("packages", ()))) for e in entries]
    ordered = sorted(triples, key=lambda p: not p[1].startswith("mcpkg:"))
    return tuple((file, package) for file, package, _ in ordered)


@cache
def _known_packages() -> dict[str, frozenset[str]]:
    """Data file -> every package its role worlds export or its services and capabilities
    name (`wasmcp:keyvalue` for the current wasmcp generation's key-value store)."""
    entries = json.loads((DATA / "index.json").read_text(encoding="utf-8"))
    return {e["file"]: frozenset([e["package"].split("@", 1)[0], *e.get("packages", ())]) for e in entries}


@cache
def _load(file: str) -> Contract:
    data = json.loads((DATA / file).read_text(encoding="utf-8"))
    return Contract(
        data["package"],
        data["chain"],
        tuple((w, p) for w, p in data["roles"]),
        tuple((i, label) for i, label in data["services"]),
        dict(data["defaults"]),
        {name: ComponentModel.from_json(body) for name, body in data["worlds"].items()},
        dict(data.get("labels", {})),
        dict(data.get("entry", {})),
        tuple(
            Capability(c["interface"], c["label"], c["wrapper"], c["wrapper-package"], c["import"])
            for c in data.get("capabilities", [])
        ),
        tuple(sorted(data.get("targets", {}).items())),
    )


def contracts() -> tuple[Contract, ...]:
    """Every contract mcpkg ships, its own first."""
    return tuple(_load(file) for file, _ in _index())


def _relevant(model: ComponentModel) -> list[Contract]:
    """The contracts whose package the component names in an import or export: a role
    world of a contract always exports or imports one of its interfaces."""
    mentioned = {name.split("/", 1)[0].split("@", 1)[0] for name in [*model.imports, *model.exports]}
    known = _known_packages()
    return [_load(file) for file, _ in _index() if known[file] & mentioned]


def own_contract() -> Contract:
    return contracts()[0]


def fit_problems(model: ComponentModel, world_name: str, world: ComponentModel, label: str) -> list[Problem]:
    """Why `model` does not fit `world` (empty: it fits)."""
    problems: list[Problem] = []
    for name, wanted in world.exports.items():
        found = find_export(model, name)
        if found is None:
            problems.append(Problem(label, f"does not export what world {world_name} exports", name))
            continue
        problems.extend(check_link(f"world {world_name}", wanted, label, found[1], name))
    for name, needed in model.imports.items():
        if is_wasi(name):
            continue
        offered = next((n for n in world.imports if semver_key(n) == semver_key(name)), None)
        if offered is None:
            problems.append(Problem(label, f"imports something world {world_name} does not offer", name))
            continue
        problems.extend(check_link(label, needed, f"world {world_name}", world.imports[offered], name))
    return problems


def _world_roles(model: ComponentModel, contract: Contract) -> list[Role]:
    order = [world for world, _ in contract.roles]
    used = {semver_key(n) for n in model.imports}
    ranked: list[tuple[tuple[int, int, int], str]] = []
    for name in order:
        world = contract.worlds[name]
        if world.exports and not fit_problems(model, name, world, "component"):
            unused = sum(1 for n in world.imports if not is_wasi(n) and semver_key(n) not in used)
            ranked.append(((-len(world.exports), unused, order.index(name)), name))
    return [
        Role(contract.label(name), contract.position(name), contract.package, name, contract.target(name))
        for _, name in sorted(ranked)
    ]


def _service_roles(model: ComponentModel, contract: Contract) -> list[Role]:
    exported = {semver_key(n) for n in model.exports}
    return [
        Role(label, "service", contract.package)
        for interface, label in contract.services
        if semver_key(interface) in exported
    ]


def _capability_roles(model: ComponentModel, contract: Contract) -> list[Role]:
    exported = {semver_key(n) for n in model.exports}
    return [
        Role(capability.label, "capability", contract.package)
        for capability in contract.capabilities
        if semver_key(capability.interface) in exported
    ]


def classify(model: ComponentModel) -> list[Role]:
    """The roles `model` fits in every contract, most specific first: role worlds, then
    capabilities and services known by the interfaces they export."""
    relevant = _relevant(model)
    roles: list[Role] = []
    for contract in relevant:
        roles.extend(_world_roles(model, contract))
    for contract in relevant:
        roles.extend(_capability_roles(model, contract))
    for contract in relevant:
        roles.extend(_service_roles(model, contract))
    return roles


def push_role(model: ComponentModel) -> Role | None:
    """The most specific role world the component fits: its `target` is what `push` records."""
    return next((role for role in classify(model) if role.target), None)


def _same_interface(wanted: str, name: str) -> bool:
    """`tools`, `wasmcp:mcp-v20251125/tools` or `.../tools@0.1.1` (any semver-compatible
    version) names the qualified interface `name`."""
    if "/" not in wanted:
        return name.split("/", 1)[-1].split("@", 1)[0] == wanted
    if "@" not in wanted:
        return name.split("@", 1)[0] == wanted
    return semver_key(wanted) == semver_key(name)


def capability(contract: Contract, interface: str) -> Capability | None:
    """The capability of `contract` that `interface` names (qualified, unversioned or bare:
    `wasmcp:mcp-v20251125/tools@0.1.1`, `wasmcp:mcp-v20251125/tools`, `tools`)."""
    return next((c for c in contract.capabilities if _same_interface(interface, c.interface)), None)


def wrapper_for(contract: Contract, interface: str) -> tuple[str, str] | None:
    """The wrapper that puts a provider of the capability `interface` in the chain: (its
    framework package, the wrapper's import the provider is wired to), e.g.
    `("wasmcp:tools-middleware", "wasmcp:mcp-v20251125/tools@0.1.1")`. None when
    `interface` is no capability of `contract` or the contract names no wrapper for it."""
    found = capability(contract, interface)
    if found is None or found.wrapper_package is None or found.wired_import is None:
        return None
    return found.wrapper_package, found.wired_import


def capabilities_of(model: ComponentModel) -> list[tuple[Contract, Capability]]:
    """The capability interfaces `model` exports, with their contracts (a capability
    component of the current wasmcp generation exports `tools`, `resources`...)."""
    exported = {semver_key(n) for n in model.exports}
    return [
        (contract, capability)
        for contract in _relevant(model)
        for capability in contract.capabilities
        if semver_key(capability.interface) in exported
    ]


def push_target(model: ComponentModel) -> str | None:
    """The `target` `push` records: the most specific role world the component fits."""
    role = push_role(model)
    return role.target if role else None


def role_summary(model: ComponentModel) -> str:
    """The most specific role, for one-line listings (`check`, `lock`)."""
    roles = classify(model)
    return str(roles[0]) if roles else "no role of a known contract"


def _packages(model: ComponentModel) -> dict[str, set[str]]:
    """Non-WASI package -> the versions this component uses (`wasmcp:mcp` -> {`0.3.0`})."""
    found: dict[str, set[str]] = {}
    for name in [*model.imports, *model.exports]:
        if is_wasi(name) or "@" not in name or ":" not in name:
            continue
        base, version = name.split("@", 1)
        found.setdefault(base.split("/", 1)[0], set()).add(version)
    return found


def contract_mismatches(parts: list[tuple[str, ComponentModel]]) -> list[str]:
    """Components built against incompatible versions of one contract (or any non-WASI
    package), naming the versions on both sides: `tools is built against wasmcp:mcp@0.4.0;
    transport, init against wasmcp:mcp@0.3.0`."""
    groups: dict[str, dict[str, dict[str, list[str]]]] = {}  # package -> semver key -> version -> labels
    for label, model in parts:
        for package, versions in _packages(model).items():
            for version in versions:
                key = semver_key(f"{package}@{version}")
                groups.setdefault(package, {}).setdefault(key, {}).setdefault(version, []).append(label)
    messages = []
    for package, by_key in sorted(groups.items()):
        if len(by_key) < 2:
            continue
        sides = []
        for _, by_version in sorted(by_key.items()):
            labels = sorted({label for names in by_version.values() for label in names})
            spelled = ", ".join(f"{package}@{v}" for v in sorted(by_version))
            sides.append(f"{', '.join(labels)} {'is' if len(labels) == 1 else 'are'} built against {spelled}")
        messages.append("incompatible contract versions: " + "; ".join(sides))
    return messages


def contract_named(package: str) -> Contract | None:
    """The shipped contract whose package is `package` (`wasmcp:mcp@0.3.0`)."""
    return next((c for c in contracts() if c.package == package), None)


def uses_contract(model: ComponentModel, contract: Contract) -> bool:
    """Whether the component imports or exports an interface of `contract` in a
    semver-compatible version (what a framework release must do to serve that contract)."""
    base, _, version = contract.package.partition("@")
    wanted = semver_key(f"{base}@{version}") if version else base
    return any(semver_key(f"{base}@{v}") == wanted for v in _packages(model).get(base, set())) or (
        not version and base in _packages(model)
    )


def framework_default(contract: Contract, import_name: str) -> tuple[str, str] | None:
    """(defaults key, framework package) of the component that provides the contract
    interface `import_name`: the interface's own default (wasmcp v0.3's `error-result`
    -> `wasmcp:error-writer`), else the default of a service world exporting it (this
    project's `writers`)."""
    for key, package in contract.defaults.items():  # interfaces of other packages, written whole
        if ":" in key and semver_key(key) == semver_key(import_name):
            return key, package
    base = import_name.split("@", 1)[0]
    if "/" not in base or base.split("/", 1)[0] != contract.package.split("@", 1)[0]:
        return None
    interface = base.split("/", 1)[1]
    if interface in contract.defaults:
        return interface, contract.defaults[interface]
    key = semver_key(import_name)
    for world, position in contract.roles:
        exports = contract.worlds[world].exports
        if position == "service" and world in contract.defaults and any(semver_key(n) == key for n in exports):
            return world, contract.defaults[world]
    return None


def position_default(contract: Contract, position: str, prefer: str | None = None) -> tuple[str, str] | None:
    """(role world, framework package) for a chain position: the transport (`prefer` =
    `stdio-transport` or `http-transport`) or the terminal."""
    for world, where in contract.roles:
        if where == position and world in contract.defaults and (prefer is None or world == prefer):
            return world, contract.defaults[world]
    return None


def service_defaults(contract: Contract) -> list[str]:
    """The framework packages of the contract's services (the interfaces its services
    provide, and its service role worlds), each once, in the contract's order."""
    service_keys = {interface.split("/", 1)[-1].split("@", 1)[0] for interface, _ in contract.services}
    service_keys |= {interface for interface, _ in contract.services}
    service_keys |= {world for world, position in contract.roles if position == "service"}
    packages: list[str] = []
    for key, package in contract.defaults.items():
        if key in service_keys and package not in packages:
            packages.append(package)
    return packages
