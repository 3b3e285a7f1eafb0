"""Whether components fit together (pure: works on `ComponentModel`s, no wasmtime).

- `check_link`: may an export satisfy an import? An instance may export more than the
  import asks for; every function the import names must exist with equal parameter and
  result types; resources the import names must exist. Semver-compatible interface names
  (`@0.2.3` vs `@0.2.8`) match when their types agree.
- `check_chain`: the wiring rules (docs/project.md, "How the parts are wired") for
  transport -> chain -> terminal plus services, with every mismatch reported precisely.
  Explicit wires (`[components.NAME.wire]`) choose the provider of an import before the
  default rule (the one service exporting it) is applied, so two services may export the
  same interface when every importer of it names its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from mcpkg.wasm.model import (
    ComponentModel,
    Item,
    is_wasi,
    render_func,
    render_type,
    semver_key,
    types_equal,
    version_of,
)


@dataclass(frozen=True)
class Problem:
    """One incompatibility: who, which interface/function/parameter, expected vs found."""

    component: str
    message: str
    interface: str | None = None
    function: str | None = None
    item: str | None = None  # "parameter NAME" | "result" | "parameter count"
    expected: str | None = None
    found: str | None = None

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.component,
                f"interface {self.interface}" if self.interface else None,
                f"function {self.function}" if self.function else None,
                self.item,
            )
            if part
        )
        text = f"{where}: {self.message}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {self.expected}, found {self.found})"
        return text

    def to_json(self) -> dict[str, str | None]:
        return {
            "component": self.component,
            "interface": self.interface,
            "function": self.function,
            "item": self.item,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
        }


def find_export(model: ComponentModel, name: str) -> tuple[str, Item] | None:
    """The export of `model` with `name`, or a semver-compatible one (highest version)."""
    if name in model.exports:
        return name, model.exports[name]
    key = semver_key(name)
    candidates = [n for n in model.exports if semver_key(n) == key]
    if not candidates:
        return None
    best = max(candidates, key=lambda n: version_of(n) or (0, 0, 0))
    return best, model.exports[best]


def is_type_only(item: Item) -> bool:
    return item["kind"] == "instance" and not item["functions"] and not item.get("resources")


def check_link(importer: str, imported: Item, exporter: str, exported: Item, interface: str) -> list[Problem]:
    """Problems with satisfying `importer`'s import `interface` by `exporter`'s export."""
    where = f"{importer} <- {exporter}"
    if imported["kind"] != exported["kind"]:
        return [Problem(where, "kinds differ", interface, expected=imported["kind"], found=exported["kind"])]
    if imported["kind"] == "func":
        return _check_func(where, None, interface, imported, exported)
    if imported["kind"] != "instance":
        return []
    problems: list[Problem] = []
    for resource in imported.get("resources", []):
        if resource not in exported.get("resources", []):
            problems.append(Problem(where, f"resource {resource} is not exported", interface))
    for name, wanted in imported["functions"].items():
        got = exported["functions"].get(name)
        if got is None:
            problems.append(
                Problem(where, "function is missing from the export", interface, name, expected=render_func(wanted))
            )
            continue
        problems.extend(_check_func(where, interface, name, wanted, got))
    return problems


def _check_func(where: str, interface: str | None, name: str | None, wanted: Item, got: Item) -> list[Problem]:
    problems: list[Problem] = []
    wanted_params, got_params = wanted["params"], got["params"]
    if len(wanted_params) != len(got_params):
        problems.append(
            Problem(
                where, "parameter lists differ", interface, name, "parameters",
                expected=render_func(wanted), found=render_func(got),
            )
        )  # fmt: skip
    else:
        for (pname, ptype), (gname, gtype) in zip(wanted_params, got_params, strict=True):
            if not types_equal(ptype, gtype):
                problems.append(
                    Problem(
                        where, "parameter types differ", interface, name, f"parameter {pname}",
                        expected=render_type(ptype), found=render_type(gtype),
                    )
                )  # fmt: skip
            elif pname != gname:
                problems.append(
                    Problem(where, "parameter names differ", interface, name, f"parameter {pname}", pname, gname)
                )
    if not types_equal(wanted.get("result"), got.get("result")):
        problems.append(
            Problem(
                where, "result types differ", interface, name, "result",
                expected=render_type(wanted.get("result")), found=render_type(got.get("result")),
            )
        )  # fmt: skip
    return problems


def wire_matches(key: str, import_name: str) -> bool:
    """Whether a wire's interface key names the import `import_name`: an unversioned key
    names any version of that interface; a versioned one, the semver-compatible ones."""
    if "@" not in key:
        return import_name.split("@", 1)[0] == key
    return key == import_name or semver_key(key) == semver_key(import_name)


def wire_for(wires: Mapping[str, str], import_name: str) -> tuple[str, str] | None:
    return next(((key, provider) for key, provider in sorted(wires.items()) if wire_matches(key, import_name)), None)


def _offered(model: ComponentModel) -> str:
    return "[" + ", ".join(n for n in sorted(model.exports) if not is_wasi(n)) + "]"


@dataclass
class Wiring:
    """Who satisfies each import: (component, import name) -> (component, export name),
    or the host for what stays an import of the composed server."""

    links: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    host_imports: dict[str, list[str]] = field(default_factory=dict)  # import -> importers
    type_only: dict[str, list[str]] = field(default_factory=dict)  # interfaces of types alone
    chain_interface: str | None = None
    unused_services: list[str] = field(default_factory=list)  # nothing imports from them: left out


@dataclass
class ChainReport:
    problems: list[Problem]
    wiring: Wiring

    @property
    def ok(self) -> bool:
        return not self.problems


def _chain_interface(
    transport: tuple[str, ComponentModel], terminal: tuple[str, ComponentModel]
) -> tuple[str | None, list[Problem]]:
    tname, tmodel = transport
    xname, xmodel = terminal
    candidates = sorted(
        name
        for name, item in tmodel.imports.items()
        if item["kind"] == "instance" and not is_wasi(name) and find_export(xmodel, name) is not None
    )
    if len(candidates) == 1:
        return candidates[0], []
    if not candidates:
        wanted = ", ".join(n for n in tmodel.imports if not is_wasi(n)) or "nothing"
        offered = ", ".join(n for n in xmodel.exports if not is_wasi(n)) or "nothing"
        return None, [
            Problem(
                f"{tname} -> {xname}",
                "no chain interface: the transport imports no interface the terminal exports",
                expected=f"one of [{wanted}]",
                found=f"[{offered}]",
            )
        ]
    return None, [Problem(f"{tname} -> {xname}", f"ambiguous chain interface: {', '.join(candidates)}")]


def check_chain(
    transport: tuple[str, ComponentModel],
    chain: list[tuple[str, ComponentModel]],
    terminal: tuple[str, ComponentModel],
    services: list[tuple[str, ComponentModel]] | None = None,
    wires: Mapping[str, Mapping[str, str]] | None = None,
) -> ChainReport:
    """Check the whole server against the wiring rules. Names label components; `wires`
    maps a component to its explicit wires (interface key -> providing service)."""
    services = services or []
    wires = wires or {}
    service_models = dict(services)
    used_wires: set[tuple[str, str]] = set()
    problems: list[Problem] = []
    wiring = Wiring()
    chain_iface, found = _chain_interface(transport, terminal)
    problems.extend(found)
    if chain_iface is None:
        return ChainReport(problems, wiring)
    wiring.chain_interface = chain_iface
    chain_key = semver_key(chain_iface)

    links = [transport, *chain, terminal]
    for member_name, member in chain:
        if not any(semver_key(n) == chain_key for n in member.imports):
            problems.append(Problem(member_name, "a chain member must import the chain interface", chain_iface))
        if find_export(member, chain_iface) is None:
            problems.append(Problem(member_name, "a chain member must export the chain interface", chain_iface))
    # each link's chain import is satisfied by the next link's chain export
    for (upper_name, upper), (lower_name, lower) in itertools.pairwise(links):
        imported_name = next((n for n in upper.imports if semver_key(n) == chain_key), None)
        exported = find_export(lower, chain_iface)
        if imported_name is None or exported is None:
            continue
        problems.extend(check_link(upper_name, upper.imports[imported_name], lower_name, exported[1], imported_name))
        wiring.links[(upper_name, imported_name)] = (lower_name, exported[0])

    # every other import: exactly one service export, else the host (WASI, a world-level
    # function, an interface of types alone), else error
    everyone = [*links, *services]
    functions: dict[str, tuple[str, Item]] = {}  # world-level function imports: the first importer
    for importer_name, importer in everyone:
        own_wires = wires.get(importer_name, {})
        for name, item in importer.imports.items():
            wired = wire_for(own_wires, name)
            if semver_key(name) == chain_key and (importer_name, importer) in links:
                if wired is not None:
                    used_wires.add((importer_name, wired[0]))
                    problems.append(
                        Problem(
                            importer_name,
                            f"the chain interface cannot be wired ({wired[0]} = {wired[1]!r}): "
                            "its order is [server]'s transport, chain and terminal",
                            name,
                        )
                    )
                continue
            if wired is not None:
                used_wires.add((importer_name, wired[0]))
                problems.extend(_explicit_link(importer_name, name, item, wired[1], service_models, wiring))
                continue
            if semver_key(name) == chain_key:
                # a service that imports the chain interface (a capability component whose
                # types come from it): the end of the chain serves it, as the chain's last
                # link is served
                exported = find_export(terminal[1], chain_iface)
                if exported is not None:
                    problems.extend(check_link(importer_name, item, terminal[0], exported[1], name))
                    wiring.links[(importer_name, name)] = (terminal[0], exported[0])
                    continue
            if item["kind"] == "func":
                first = functions.setdefault(name, (importer_name, item))
                if first[0] != importer_name:
                    problems.extend(_check_func(f"{first[0]} / {importer_name}", None, name, first[1], item))
            providers = [
                (sname, found_export)
                for sname, smodel in services
                if sname != importer_name and (found_export := find_export(smodel, name)) is not None
            ]
            if len(providers) > 1:
                problems.append(
                    Problem(
                        importer_name,
                        "ambiguous: several services export this interface: " + ", ".join(p for p, _ in providers),
                        name,
                    )
                )
                continue
            if providers:
                provider, (export_name, export_item) = providers[0]
                problems.extend(check_link(importer_name, item, provider, export_item, name))
                wiring.links[(importer_name, name)] = (provider, export_name)
            elif is_wasi(name) or item["kind"] == "func":
                # a world-level function nobody provides stays an import, as WASI does
                wiring.host_imports.setdefault(name, []).append(importer_name)
            elif is_type_only(item) or item["kind"] in ("type", "resource"):
                # an interface of types alone (`mcpkg:mcp/types`) carries no behaviour:
                # nothing needs to provide it, the types travel with the functions; so
                # does a type a world `use`s (a resource one is listed by wasmtime)
                wiring.type_only.setdefault(name, []).append(importer_name)
            else:
                problems.append(
                    Problem(importer_name, "import is not satisfied by any service and is not a host interface", name)
                )
    for importer_name, own_wires in sorted(wires.items()):
        for key, provider in sorted(own_wires.items()):
            if (importer_name, key) not in used_wires:
                own = dict(everyone).get(importer_name, ComponentModel({}, {}))
                wanted = ", ".join(n for n in sorted(own.imports) if not is_wasi(n))
                problems.append(
                    Problem(
                        importer_name,
                        f"wire {key} = {provider!r} names an interface this component does not import",
                        key,
                        expected=f"one of [{wanted}]",
                        found=key,
                    )
                )
    problems.extend(_service_cycles(services, wiring))
    used = used_services(transport[0], [n for n, _ in chain], terminal[0], [n for n, _ in services], wiring.links)
    wiring.unused_services = [name for name, _ in services if name not in used]
    for imported in (wiring.host_imports, wiring.type_only):
        for name, importers in list(imported.items()):
            importers[:] = [i for i in importers if i not in wiring.unused_services]
            if not importers:
                del imported[name]
    return ChainReport(problems, wiring)


def _explicit_link(
    importer: str, name: str, item: Item, provider: str, services: dict[str, ComponentModel], wiring: Wiring
) -> list[Problem]:
    """Wire `importer`'s import `name` to the service `provider`, as its wire says."""
    model = services.get(provider)
    if model is None:
        return [Problem(importer, f"wired to {provider!r}, which is not a service of this server", name)]
    found = find_export(model, name)
    if found is None:
        return [
            Problem(
                f"{importer} <- {provider}",
                f"wired to {provider}, which does not export this interface",
                name,
                expected=name,
                found=_offered(model),
            )
        ]
    export_name, export_item = found
    wiring.links[(importer, name)] = (provider, export_name)
    return check_link(importer, item, provider, export_item, name)


def used_services(
    transport: str, chain: list[str], terminal: str, services: list[str], links: dict[tuple[str, str], tuple[str, str]]
) -> list[str]:
    """The services the server uses: those the chain imports from, directly or through
    other services. Nothing reaches the others, so they are left out of the composed
    component (as `wasm-tools compose` and wac leave out what nothing instantiates), and
    so are the imports only they need."""
    used: set[str] = set()
    todo = [transport, *chain, terminal]
    while todo:
        importer = todo.pop()
        for (who, _), (provider, _) in sorted(links.items()):
            if who == importer and provider in services and provider not in used:
                used.add(provider)
                todo.append(provider)
    return [s for s in services if s in used]


def _service_cycles(services: list[tuple[str, ComponentModel]], wiring: Wiring) -> list[Problem]:
    names = {name for name, _ in services}
    edges: dict[str, set[str]] = {name: set() for name in names}
    for (importer, _), (provider, _) in wiring.links.items():
        if importer in names and provider in names:
            edges[importer].add(provider)
    problems: list[Problem] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
                problems.append(Problem(node, "services import each other in a cycle: " + " -> ".join(cycle)))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(names):
        if name not in state:
            visit(name, [name])
    return problems
