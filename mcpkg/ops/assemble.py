"""`mcpkg compose COMPONENT... [--transport stdio|http] [--with ROLE=COMPONENT]... [--save]`:
a server from a few components and the framework of their contract, in one command.

1. Each COMPONENT (a file, a registry reference or a package name, in chain order) is
   read and classified against the contracts mcpkg ships (docs/contracts.md): its
   contract and its role. All of them must target one contract.
2. The plan: the given parts in their positions (a transport or terminal given replaces
   the default one); the contract's default transport (`--transport`) and terminal; then,
   until nothing is missing, the framework default of every contract interface some part
   imports and no part exports (`wasmcp:error-writer` for `error-result`...).
   `--with ROLE=COMPONENT` replaces one framework part (ROLE: `transport`, `terminal`, or
   a defaults key or framework package name such as `request` or `tools-writer`).
   A capability component (the current wasmcp generation: it exports `tools`,
   `resources`...) is a service, put in the chain by its own instance of the contract's
   wrapper (`tools-middleware`), whose capability import is wired to it.
3. A framework package (`wasmcp:<name>`, resolved through `[namespaces]`) is versioned on
   its own: the highest release whose types use this contract version is taken (or, for
   a service of another package such as `wasmcp:keyvalue/store`, that exports the
   interface wanted), and pinned exactly (`=X.Y.Z`).
4. That plan is an ordinary project (`mcpkg.toml`), locked and composed by the same code
   as `mcpkg lock` and `mcpkg compose` (trust policy, type check, validation): in a
   temporary directory, or, with `--save`, in the current directory, so that the next
   `mcpkg compose --locked` gives the same bytes.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpkg.errors import ConfigError, ConflictError, IncompatibleError, McpkgError, NotFoundError, UsageError
from mcpkg.host.runner import Compiler
from mcpkg.infile import readable_file, written_as_path
from mcpkg.ops.compose import ComposeResult, compose_project
from mcpkg.ops.context import Context
from mcpkg.ops.lock import LockResult, lock_project
from mcpkg.ops.offline import cached_tags
from mcpkg.ops.pull import pull_reference
from mcpkg.outfile import write_user_file
from mcpkg.project.manifest import LOCK_NAME, MANIFEST_NAME
from mcpkg.reference import PackageName, Reference
from mcpkg.semver import Requirement, Version, highest_tag, sort_tags
from mcpkg.wasm.compat import find_export, is_type_only
from mcpkg.wasm.contracts import (
    Contract,
    Role,
    capabilities_of,
    classify,
    contract_mismatches,
    contract_named,
    framework_default,
    position_default,
    uses_contract,
    wrapper_for,
)
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel, is_wasi, semver_key

MAX_CANDIDATES = 10  # framework releases tried, newest first, for one contract version
TRANSPORTS = ("stdio", "http")
DEFAULT_TRANSPORT = "http"
# what a transport exports to serve each kind (a transport may serve both, as wasmcp's does)
TRANSPORT_EXPORTS = {"stdio": "wasi:cli/run@", "http": "wasi:http/incoming-handler@"}


def served_transports(model: ComponentModel) -> list[str]:
    """The transports a component serves, by what it exports (`stdio`, `http`)."""
    return [kind for kind, prefix in TRANSPORT_EXPORTS.items() if any(n.startswith(prefix) for n in model.exports)]


def _serves_text(model: ComponentModel) -> str:
    kinds = served_transports(model)
    exported = ", ".join(n for n in sorted(model.exports) if n.startswith(tuple(TRANSPORT_EXPORTS.values())))
    return f"serves {' and '.join(kinds)} only ({exported})" if kinds else "serves neither stdio nor http"


@dataclass
class Part:
    name: str  # its component name in the plan's mcpkg.toml
    source: str  # a path, a reference, or a package name (framework)
    is_path: bool
    position: str  # transport | chain | terminal | service
    model: ComponentModel
    role: str  # how `inspect` names it
    version: str | None = None  # a requirement (framework parts: exact)
    digest: str | None = None  # a pinned manifest digest (a reference given with one)
    framework: bool = False
    wires: dict[str, str] = field(default_factory=dict)  # interface -> providing part

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "position": self.position,
            "role": self.role,
            "framework": self.framework,
            "version": self.version,
            "wires": dict(sorted(self.wires.items())),
        }


@dataclass
class Plan:
    contract: Contract
    parts: list[Part] = field(default_factory=list)

    def names(self) -> set[str]:
        return {p.name for p in self.parts}

    def at(self, position: str) -> list[Part]:
        return [p for p in self.parts if p.position == position]


@dataclass(frozen=True)
class AssembleResult:
    plan: Plan
    lock: LockResult
    composed: ComposeResult
    saved: Path | None  # the project directory written by --save


def parse_overrides(values: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for value in values:
        role, sep, component = value.partition("=")
        if not sep or not role.strip() or not component.strip():
            raise UsageError(f"--with {value!r} is not ROLE=COMPONENT", "e.g. --with transport=./my-transport.wasm")
        overrides[role.strip()] = component.strip()
    return overrides


def name_stem(text: str) -> str:
    """What a COMPONENT argument is called in the plan and a saved `mcpkg.toml`: a file's
    stem, a package's name, or a reference's last repository segment, never its tag
    (`127.0.0.1:5000/acme/calculator:1.0.0` is `calculator`) or digest."""
    if written_as_path(text):
        return Path(text).stem
    package = PackageName.try_parse(text)
    if package is not None:
        return package.name
    try:
        return Reference.parse(text).repository.rsplit("/", 1)[-1]
    except UsageError:
        return re.split(r"[/:]", text.split("@", 1)[0])[-1]


def _name_for(text: str, taken: set[str]) -> str:
    stem = name_stem(text)
    base = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_") or "component"
    if not base[0].isalnum():
        base = "c" + base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


class Planner:
    def __init__(self, ctx: Context, cwd: Path) -> None:
        self.ctx = ctx
        self.cwd = cwd

    def read(self, text: str, name: str, position: str | None, requirement: Requirement | None = None) -> Part:
        """A COMPONENT argument or override (a registry one at the newest release matching
        `requirement`, when given): its model and role (no known role is an error)."""
        model, source, is_path, version, pinned = self.load(text, requirement)
        return self._part(name, source, is_path, model, position, version, pinned, text)

    def load(
        self, text: str, requirement: Requirement | None = None
    ) -> tuple[ComponentModel, str, bool, str | None, str | None]:
        """(model, source as mcpkg.toml names it, is a path, version requirement, pinned
        digest) of a file, reference or package name."""
        if written_as_path(text):
            path = (self.cwd / Path(text).expanduser()).resolve()
            readable_file(path, "component", "give a component file, a reference or a package name")
            model = component_model(path, self.ctx.cache.file_digest(path)[0], self.ctx.cache, text)
            return model, str(path), True, None, None
        version, pinned, ref = self._reference(text, requirement)
        pulled = pull_reference(self.ctx, ref)
        model = component_model(pulled.layer_path, pulled.manifest.layer.digest, self.ctx.cache, text)
        source = text.split("@", 1)[0] if PackageName.try_parse(text) else ref.location
        return model, source, False, version, pinned

    def _reference(self, text: str, requirement: Requirement | None) -> tuple[str | None, str | None, Reference]:
        package = PackageName.try_parse(text)
        if package is not None:
            ref = self.ctx.config.package_reference(package)
            requirement = package.requirement or requirement
        else:
            ref = self.ctx.config.parse_reference(text)
            if ref.digest is not None:
                return None, str(ref.digest), ref
        if package is not None or (ref.tag is None and requirement is not None):
            tags = self._tags(ref)
            tag = highest_tag(tags, requirement)
            if tag is None and requirement is None and "latest" in tags:
                tag = "latest"
            if tag is None and self.ctx.offline:
                raise ConfigError(
                    f"--offline, but no release of {ref.location} that matches is in the cache",
                    "run the command once with network access, or drop --offline",
                )
            if tag is None:
                raise NotFoundError(f"{text}: no release of {ref.location} matches", f"see `mcpkg tags {text}`")
            return (str(requirement) if requirement else None), None, ref.with_tag(tag)
        if ref.tag is None:
            ref = ref.with_tag("latest")
        return (f"={ref.tag}" if Version.try_parse(ref.tag or "") else None), None, ref

    def _tags(self, ref: Reference) -> list[str]:
        """The repository's tags: the registry's, or offline the cache's (ops/offline.py)."""
        if self.ctx.offline:
            return list(cached_tags(self.ctx.cache, ref))
        return self.ctx.client(ref.registry).list_tags(ref.repository)

    def _part(
        self,
        name: str,
        source: str,
        is_path: bool,
        model: ComponentModel,
        position: str | None,
        version: str | None,
        digest: str | None,
        given: str,
    ) -> Part:
        roles = classify(model)
        if not roles:
            raise IncompatibleError(
                f"{given} targets no contract mcpkg knows, so its place in a server cannot be told",
                "describe the server in mcpkg.toml (`mcpkg init`, `mcpkg add`), or see `mcpkg inspect` of it",
            )
        role = roles[0]
        where = position or ("service" if role.position == "capability" else role.position)
        return Part(name, source, is_path, where, model, str(role), version, digest)

    def framework(
        self,
        contract: Contract,
        package: str,
        name: str,
        position: str,
        provides: str | None = None,
        serves: str | None = None,
    ) -> Part:
        """The newest release of a framework package that uses this contract version, or
        exports `provides` (a service interface of another package); a transport: one that
        `serves` the transport asked for (`stdio`, `http`)."""
        parsed = PackageName.try_parse(package)
        assert parsed is not None
        ref = self.ctx.config.package_reference(parsed)
        tags = [t for t in sort_tags(self._tags(ref)) if Version.try_parse(t)]
        if not tags and self.ctx.offline:
            raise ConfigError(
                f"--offline, but no release of the framework component {package} ({ref.location}) is in the cache",
                "run the command once with network access, or drop --offline",
            )
        if not tags:
            raise NotFoundError(
                f"the framework component {package} ({ref.location}) has no releases",
                "publish it, map its namespace with `[namespaces]` in the config, or pass --with",
            )
        tried, other_kinds = [], []
        for tag in list(reversed(tags))[:MAX_CANDIDATES]:
            pulled = pull_reference(self.ctx, ref.with_tag(tag))
            model = component_model(pulled.layer_path, pulled.manifest.layer.digest, self.ctx.cache, str(ref))
            if uses_contract(model, contract) or (provides is not None and find_export(model, provides) is not None):
                if serves is not None and serves not in served_transports(model):
                    other_kinds.append(f"{tag} {_serves_text(model)}")
                    tried.append(tag)
                    continue
                roles = [r for r in classify(model) if r.contract == contract.package]
                role = str(roles[0]) if roles else f"{package} ({contract.package})"
                return Part(name, package, False, position, model, role, f"={tag}", framework=True)
            tried.append(tag)
        if other_kinds:
            other = "stdio" if serves == "http" else "http"
            raise IncompatibleError(
                f"--transport {serves}, but no release of {package} ({ref.location}) serves {serves}: "
                + "; ".join(other_kinds),
                f"use --transport {other}, or give an {serves} transport: --with transport=COMPONENT",
            )
        raise IncompatibleError(
            f"no release of {package} ({ref.location}) uses {contract.package}: tried {', '.join(tried)}",
            "publish a release built against this contract version, or pass --with",
        )


def _contract_of(parts: list[Part], given: list[str]) -> Contract:
    roles: list[tuple[str, Role]] = []
    for part, text in zip(parts, given, strict=True):
        first = classify(part.model)[0]
        roles.append((text, first))
    packages = sorted({role.contract for _, role in roles})
    if len(packages) > 1:
        detail = contract_mismatches([(p.name, p.model) for p in parts])
        sides = "; ".join(f"{text}: {role}" for text, role in roles)
        raise IncompatibleError(
            "the components target different contracts: " + sides + ("\n  " + "\n  ".join(detail) if detail else ""),
            "compose components of one contract (see `mcpkg inspect` of each)",
        )
    contract = contract_named(packages[0])
    assert contract is not None
    return contract


def plan_server(
    ctx: Context, components: list[str], transport: str | None, overrides: dict[str, str], cwd: Path
) -> Plan:
    """`transport`: what --transport asked for (None: not given; the default framework
    transport then serves http)."""
    if transport is not None and transport not in TRANSPORTS:
        raise UsageError(f"--transport must be stdio or http, not {transport!r}")
    planner = Planner(ctx, cwd)
    taken: set[str] = set()
    given: list[Part] = []
    for text in components:
        part = planner.read(text, _name_for(text, taken), None)
        taken.add(part.name)
        given.append(part)
    contract = _contract_of(given, components)
    if contract.chain is None:
        raise UsageError(
            f"{components[0]} is a {contract.package} backend: a whole server, nothing to compose it with",
            f"run it as it is: `mcpkg run {components[0]}` (docs/wasi-mcp.md)",
        )
    plan = Plan(contract, [])
    used_overrides: set[str] = set()

    def override(keys: tuple[str, ...], position: str) -> Part | None:
        for key in keys:
            if key in overrides:
                used_overrides.add(key)
                part = planner.read(overrides[key], _name_for(overrides[key], plan.names()), position)
                return part
        return None

    def add_default(
        world: str,
        package: str,
        position: str,
        keys: tuple[str, ...],
        name: str | None = None,
        provides: str | None = None,
        serves: str | None = None,
    ) -> Part:
        short = package.split(":", 1)[1]
        part = override((*keys, world, short), position)
        if part is None:
            label = name or _name_for(short, plan.names() | taken)
            part = planner.framework(contract, package, label, position, provides, serves)
        plan.parts.append(part)
        return part

    for part in given:  # in the order given; a capability component behind its wrapper
        plan.parts.append(part)
        for interface, wrapper, wired in _wrappers_needed(part, contract):
            name = _name_for(f"{part.name}-{interface.split('/')[-1].split('@')[0]}", plan.names() | taken)
            added = add_default(wrapper.split(":", 1)[1], wrapper, "chain", (), name)
            added.wires[wired.split("@", 1)[0]] = part.name

    for position in ("transport", "terminal"):
        present = plan.at(position)
        if len(present) > 1:
            raise UsageError(f"{len(present)} components given are {position}s: {', '.join(p.name for p in present)}")
        if present:
            continue
        prefer = f"{transport or DEFAULT_TRANSPORT}-transport" if position == "transport" else None
        found = position_default(contract, position, prefer)
        if found is None:
            replacement = override((position,), position)
            if replacement is None:
                raise ConfigError(
                    f"{contract.package} names no default {position}", f"pass --with {position}=COMPONENT"
                )
            plan.parts.append(replacement)
            continue
        serves = (transport or DEFAULT_TRANSPORT) if position == "transport" else None
        add_default(found[0], found[1], position, (position,), serves=serves)
    _check_transport(plan.at("transport")[0], transport)
    _add_services(plan, add_default)
    order = {"transport": 0, "chain": 1, "terminal": 2, "service": 3}
    plan.parts.sort(key=lambda p: order[p.position])  # stable: the chain keeps the order given
    unused = sorted(set(overrides) - used_overrides)
    if unused:
        raise UsageError(
            f"--with {', '.join(unused)}: no such part in this server's framework",
            "name a role: transport, terminal, or one of: " + ", ".join(sorted(contract.defaults)),
        )
    return plan


def _wire_fixable(exc: McpkgError) -> bool:
    """A lock failure that a `wire` entry fixes (ops/wirehints.py)."""
    return isinstance(exc, IncompatibleError) and bool(exc.details and exc.details.get("wire-fixes"))


def _check_transport(part: Part, asked: str | None) -> None:
    """The transport serves what --transport asked for (a transport the user gave, with no
    --transport, serves what it serves)."""
    kinds = served_transports(part.model)
    if not kinds:
        raise IncompatibleError(
            f"the transport {part.name} ({part.source}) {_serves_text(part.model)}: it exports neither "
            "wasi:cli/run nor wasi:http/incoming-handler",
            "give a transport that serves stdio or http (--with transport=COMPONENT)",
        )
    wanted = asked if asked is not None else (DEFAULT_TRANSPORT if part.framework else None)
    if wanted is not None and wanted not in kinds:
        raise IncompatibleError(
            f"--transport {wanted}, but the transport {part.name} ({part.source}) {_serves_text(part.model)}",
            f"use --transport {kinds[0]}, or give an {wanted} transport: --with transport=COMPONENT",
        )


def _wrappers_needed(part: Part, contract: Contract) -> list[tuple[str, str, str]]:
    """(capability interface, wrapper package, wrapper import to wire) for each capability
    of `contract` the part exports; a capability without a wrapper is an error."""
    needed = []
    for found_contract, capability in capabilities_of(part.model):
        if found_contract.package != contract.package:
            continue
        wrapper = wrapper_for(contract, capability.interface)
        if wrapper is None:
            raise IncompatibleError(
                f"{part.name} provides {capability.interface}, and {contract.package} has no wrapper that puts "
                "that capability in the chain",
                "describe the server in mcpkg.toml with a chain member that imports it",
            )
        needed.append((capability.interface, wrapper[0], wrapper[1]))
    return needed


def _add_services(plan: Plan, add_default: Any) -> None:
    """Add the framework default of every contract interface imported and not exported,
    until nothing is missing."""
    contract = plan.contract
    assert contract.chain is not None  # plan_server refuses a contract without a chain
    chain_key = semver_key(contract.chain)
    for _ in range(64):  # a framework part may import another one; bounded
        missing: dict[str, tuple[str, str, str]] = {}  # package -> (defaults key, package, import)
        for part in plan.parts:
            for name, item in part.model.imports.items():
                if is_wasi(name) or semver_key(name) == chain_key or is_type_only(item):
                    continue
                if any(find_export(other.model, name) is not None for other in plan.parts if other is not part):
                    continue
                found = framework_default(contract, name)
                if found is None:
                    raise IncompatibleError(
                        f"{part.name} imports {name}, which no part exports and the {contract.package} framework "
                        "has no default for",
                        "pass the component that provides it as an argument, or describe the server in mcpkg.toml",
                    )
                missing.setdefault(found[1], (*found, name))
        if not missing:
            return
        for package, (key, _, wanted) in sorted(missing.items()):
            add_default(key, package, "service", (key,), provides=wanted)
    raise IncompatibleError("the framework's services keep importing new ones (a cycle?)")


def manifest_text(plan: Plan, base: Path | None) -> str:
    """The plan as `mcpkg.toml` (paths relative to `base` when given, else absolute)."""
    transport = plan.at("transport")[0].name
    terminal = plan.at("terminal")[0].name
    chain = [p.name for p in plan.at("chain")]
    lines = [
        "# Written by `mcpkg compose --save` from the components given and the framework of",
        f"# {plan.contract.package}; edit it freely (`mcpkg add`, `mcpkg remove`), then `mcpkg lock`.",
        "",
        "[server]",
        f'name = "{next((p.name for p in plan.parts if not p.framework), "server")}"',
        f'transport = "{transport}"',
        "chain = [" + ", ".join(f'"{n}"' for n in chain) + "]",
        f'terminal = "{terminal}"',
    ]
    for part in plan.parts:
        lines += ["", f"[components.{part.name}]" + (f"   # {part.role}" if part.role else "")]
        if part.is_path:
            path = Path(part.source)
            shown = path.relative_to(base) if base is not None and path.is_relative_to(base) else path
            lines.append(f"path = {_toml_string(str(shown))}")
        else:
            lines.append(f"ref = {_toml_string(part.source)}")
            if part.digest is not None:
                lines.append(f"digest = {_toml_string(part.digest)}")
            elif part.version is not None:
                lines.append(f"version = {_toml_string(part.version)}")
        if part.wires:
            pairs = ", ".join(f"{_toml_string(i)} = {_toml_string(p)}" for i, p in sorted(part.wires.items()))
            lines.append(f"wire = {{ {pairs} }}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def assemble(
    ctx: Context,
    components: list[str],
    output: Path,
    *,
    transport: str | None = None,
    overrides: dict[str, str] | None = None,
    save: bool = False,
    cwd: Path | None = None,
    precompile: Compiler | None = None,
    on_compile: Callable[[str], None] | None = None,
    offline: bool = False,
) -> AssembleResult:
    """`on_compile(name)`: called before a `precompile` compile (see `compose_project`).
    `offline`: the framework and every reference come from the cache (ops/offline.py)."""
    here = (cwd or Path.cwd()).resolve()
    if offline:
        ctx.offline = True
    if (here / MANIFEST_NAME).exists():
        raise UsageError(
            f"COMPONENT arguments build a server without {MANIFEST_NAME}, and there is one here",
            "add them to it with `mcpkg add NAME COMPONENT`, then `mcpkg compose`",
        )
    output = output if output.is_absolute() or str(output) == "-" else here / output
    plan = plan_server(ctx, components, transport, overrides or {}, here)
    if save:
        for name in (MANIFEST_NAME, LOCK_NAME):
            if (here / name).exists():
                raise ConflictError(f"{here / name} already exists", "--save writes a new project; remove it first")
        write_user_file(here / MANIFEST_NAME, manifest_text(plan, here).encode())
        try:
            locked = lock_project(ctx, here, offline=offline)
        except McpkgError as exc:
            if not _wire_fixable(exc):  # nothing half-written: the plan goes with its failure
                (here / MANIFEST_NAME).unlink(missing_ok=True)
                raise
            exc.hint = (
                f"{exc.hint}\n(the plan is kept in {here / MANIFEST_NAME}, without a lock: add the wire there, "
                "then `mcpkg compose`)"
            )
            raise
        composed = compose_project(
            ctx, here, output, locked=True, offline=offline, precompile=precompile, on_compile=on_compile
        )
        return AssembleResult(plan, locked, composed, here)
    with tempfile.TemporaryDirectory(prefix="mcpkg-compose-") as tmp:
        root = Path(tmp)
        (root / MANIFEST_NAME).write_text(manifest_text(plan, None))
        try:
            locked = lock_project(ctx, root, offline=offline)
        except IncompatibleError as exc:
            if _wire_fixable(exc):
                exc.hint = (
                    f"{exc.hint}\n(COMPONENT arguments have no mcpkg.toml to wire in: run the same command with "
                    "--save, which keeps the plan in mcpkg.toml when the wiring fails; add the wire there, then "
                    "`mcpkg compose`. Or replace a framework provider: --with ROLE=COMPONENT)"
                )
            raise
        composed = compose_project(
            ctx, root, output, locked=True, offline=offline, precompile=precompile, on_compile=on_compile
        )
    return AssembleResult(plan, locked, composed, None)
