"""Generated MCP-server-shaped WIT: hypothesis strategies for the composer's differential
tests (`testing/differential.py`).

One drawn `Case` is a WIT package tree (a root package with one world per component, and
dependency packages) plus the server's layout: a transport, 0 to 3 chain members drawn
from one or two middle worlds (so the same middle appears twice), a terminal and services.
What the drawn interfaces hold, to cover the type grammar and the composition rules:

- every primitive, `char`, `string`, lists, options, results with and without ok/err,
  tuples, records, variants, enums, flags and type aliases, nested;
- named types of identical structure (twins) and aliases of named types
  (`type kelp = pine-rec;`), resource aliases (`type h = r;`);
- resources with constructors, methods and static functions; `own` and `borrow` handles
  in parameters, `own` in results and inside other types;
- `use` across interfaces and across packages; interfaces of types alone;
- WASI-like host interfaces (`wasi:` namespace, left as imports of the composed component)
  published at several patch versions, each component importing the version it likes,
  later versions adding functions as WASI minor releases do;
- service interfaces, each exported by one service and imported by whoever likes,
  services importing earlier services' interfaces (never a cycle);
- world-level function imports and exports next to interface ones, with world-level `use`
  of named types and resources: imports nobody provides stay imports, imports a service
  exports are wired to it (`wasm-tools compose` cannot express that), the transport's
  exports are re-exported;
- versioned and unversioned packages.

Names are unique across a case (a prefix per kind and a counter), so that a type used at
world level names one type everywhere. Hypothesis shrinks a failing case towards fewer
interfaces, components and items, and towards primitives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

PRIMITIVES = ("u32", "bool", "s8", "u8", "s16", "u16", "s32", "s64", "u64", "f32", "f64", "char", "string")
HOST_PATCHES = (3, 8, 9)
MAX_DEPTH = 2


@dataclass(frozen=True)
class Case:
    """A generated server: WIT files (path under the WIT directory -> text) and the
    layout, as world names of the root package (`chain` may repeat a world)."""

    files: dict[str, str]
    transport: str
    chain: tuple[str, ...]
    terminal: str
    services: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "transport": self.transport,
            "chain": list(self.chain),
            "terminal": self.terminal,
            "services": list(self.services),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(
            dict(data["files"]), data["transport"], tuple(data["chain"]), data["terminal"], tuple(data["services"])
        )

    def __str__(self) -> str:
        return json.dumps(self.to_json(), indent=1)


@dataclass(eq=False)
class Package:
    namespace: str
    name: str
    versions: tuple[str | None, ...]  # host packages: several patch versions; others: one

    def qualified(self, interface: str, version: str | None) -> str:
        base = f"{self.namespace}:{self.name}/{interface}"
        return f"{base}@{version}" if version else base


@dataclass(eq=False)
class Interface:
    package: Package
    name: str
    kind: str  # "host" | "types" | "service" | "chain" | "entry"
    uses: list[tuple[Interface, str | None, list[str]]] = field(default_factory=list)  # (from, version, names)
    items: list[str] = field(default_factory=list)  # WIT lines of definitions, in order
    extras: list[str] = field(default_factory=list)  # host: functions of later patch versions only
    values: list[str] = field(default_factory=list)  # value types in scope (defined here or used)
    resources: list[str] = field(default_factory=list)  # resources in scope (defined, aliased or used)
    own_values: list[str] = field(default_factory=list)
    own_resources: list[str] = field(default_factory=list)  # defined or aliased here (usable by others)
    defs: dict[str, str] = field(default_factory=dict)  # nominal type -> "record { ... }" (for twins)
    has_functions: bool = False


@dataclass(frozen=True)
class WorldFunction:
    name: str
    signature: str
    uses: tuple[tuple[str, str], ...]  # (interface as the root package names it, type name) the signature needs
    service_types: bool = False  # uses a service interface's type: services neither import nor export it


class _Drawer:
    """Draws one case; `draw` is hypothesis's."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def boolean(self, p_true: float = 0.5) -> bool:
        # integers shrink towards 0: False is the simple choice
        return self.draw(st.integers(0, 99)) < p_true * 100

    def count(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def subset(self, options: list[Any], most: int) -> list[Any]:
        if not options:
            return []
        chosen = self.draw(st.lists(st.sampled_from(options), max_size=most, unique_by=id))
        return [o for o in options if any(o is c for c in chosen)]

    # --- types -------------------------------------------------------------------------

    def valtype(self, values: list[str], resources: list[str], depth: int, borrow: bool = False) -> str:
        kinds = ["prim"]
        if values:
            kinds.append("named")
        if resources:
            kinds.append("own")
            if borrow:
                kinds.append("borrow")
        if depth < MAX_DEPTH:
            kinds += ["list", "option", "result", "tuple"]
        kind = self.pick(kinds)

        def inner() -> str:
            return self.valtype(values, resources, depth + 1)

        if kind == "prim":
            return str(self.pick(list(PRIMITIVES)))
        if kind == "named":
            return str(self.pick(values))
        if kind == "own":
            return str(self.pick(resources))
        if kind == "borrow":
            return f"borrow<{self.pick(resources)}>"
        if kind in ("list", "option"):
            return f"{kind}<{inner()}>"
        if kind == "tuple":
            return f"tuple<{', '.join(inner() for _ in range(self.count(1, 3)))}>"
        shape = self.pick(["ok-err", "ok", "err", "none"])
        if shape == "ok-err":
            return f"result<{inner()}, {inner()}>"
        if shape == "ok":
            return f"result<{inner()}>"
        if shape == "err":
            return f"result<_, {inner()}>"
        return "result"

    def signature(self, values: list[str], resources: list[str]) -> str:
        params = ", ".join(
            f"{self.fresh('p')}: {self.valtype(values, resources, 0, borrow=True)}" for _ in range(self.count(0, 3))
        )
        result = f" -> {self.valtype(values, resources, 0)}" if self.boolean(0.6) else ""
        return f"func({params}){result}"

    def named_type(self, iface: Interface) -> None:
        """A type definition in `iface`: a new nominal type, a twin of one, or an alias."""
        twins = list(iface.defs)
        kinds = ["record", "variant", "enum", "flags", "alias"]
        if twins:
            kinds.append("twin")
        if iface.resources:
            kinds.append("resource-alias")
        kind = self.pick(kinds)
        values, resources = iface.values, iface.resources
        if kind == "resource-alias":
            name = self.fresh("rz")
            iface.items.append(f"type {name} = {self.pick(resources)};")
            iface.resources.append(name)
            iface.own_resources.append(name)
            return
        if kind == "twin":
            source = self.pick(twins)
            name = self.fresh({"r": "rec", "v": "var", "e": "enm", "f": "flg"}[iface.defs[source][0]])
            body = iface.defs[source]
        elif kind == "alias":
            name = self.fresh("ali")
            target = self.pick(values) if values and self.boolean() else self.valtype(values, resources, 1)
            iface.items.append(f"type {name} = {target};")
            iface.values.append(name)
            iface.own_values.append(name)
            return
        elif kind == "record":
            name = self.fresh("rec")
            fields = ", ".join(f"f{i}: {self.valtype(values, resources, 1)}" for i in range(self.count(1, 3)))
            body = f"record {{ {fields} }}"
        elif kind == "variant":
            name = self.fresh("var")
            cases = []
            for i in range(self.count(1, 3)):
                cases.append(f"c{i}({self.valtype(values, resources, 1)})" if self.boolean(0.6) else f"c{i}")
            body = f"variant {{ {', '.join(cases)} }}"
        else:
            name = self.fresh(kind[:3] if kind != "flags" else "flg")
            body = f"{kind} {{ {', '.join(f'{kind[0]}{i}' for i in range(self.count(1, 3)))} }}"
        keyword, rest = body.split(" ", 1)
        iface.items.append(f"{keyword} {name} {rest}")
        iface.defs[name] = body
        iface.values.append(name)
        iface.own_values.append(name)

    def resource(self, iface: Interface) -> None:
        name = self.fresh("res")
        iface.resources.append(name)
        iface.own_resources.append(name)
        members = []
        if self.boolean():
            params = ", ".join(
                f"{self.fresh('p')}: {self.valtype(iface.values, iface.resources, 0, borrow=True)}"
                for _ in range(self.count(0, 2))
            )
            members.append(f"constructor({params});")
        for _ in range(self.count(0, 2)):
            members.append(f"{self.fresh('meth')}: {self.signature(iface.values, iface.resources)};")
        if self.boolean(0.3):
            members.append(f"{self.fresh('stat')}: static {self.signature(iface.values, iface.resources)};")
        if members:
            iface.items.append(f"resource {name} {{ {' '.join(members)} }}")
        else:
            iface.items.append(f"resource {name};")
        iface.has_functions = iface.has_functions or bool(members)

    def function(self, iface: Interface) -> None:
        iface.items.append(f"{self.fresh('fn')}: {self.signature(iface.values, iface.resources)};")
        iface.has_functions = True

    def use(self, iface: Interface, sources: list[Interface], version_of: dict[int, str | None]) -> None:
        """`use` a few names of some earlier interfaces in `iface`."""
        for source in self.subset([s for s in sources if s.own_values or s.own_resources], 2):
            names = self.subset([*source.own_values, *source.own_resources], 3)
            if not names:
                continue
            iface.uses.append((source, version_of.get(id(source)), names))
            for n in names:
                (iface.resources if n in source.own_resources else iface.values).append(n)

    def body(self, iface: Interface, functions: bool, resources: bool, most: int = 4) -> None:
        kinds = ["type"]
        if functions:
            kinds.append("function")
        if resources:
            kinds.append("resource")
        for _ in range(self.count(0 if not functions else 1, most)):
            kind = self.pick(kinds)
            if kind == "type":
                self.named_type(iface)
            elif kind == "resource":
                self.resource(iface)
            else:
                self.function(iface)


def _render_interface(iface: Interface, version: str | None, with_extras: bool) -> str:
    lines = []
    for source, source_version, names in iface.uses:
        if source.package is iface.package:
            lines.append(f"use {source.name}.{{{', '.join(names)}}};")
        else:
            lines.append(f"use {source.package.qualified(source.name, source_version)}.{{{', '.join(names)}}};")
    lines += iface.items
    if with_extras:
        lines += iface.extras
    body = "".join(f"  {line}\n" for line in lines)
    return f"interface {iface.name} {{\n{body}}}\n"


@dataclass
class _World:
    name: str
    imports: list[str] = field(default_factory=list)  # WIT import lines' targets
    exports: list[str] = field(default_factory=list)
    functions_in: list[WorldFunction] = field(default_factory=list)
    functions_out: list[WorldFunction] = field(default_factory=list)

    def render(self) -> str:
        uses: dict[str, list[str]] = {}
        for f in [*self.functions_in, *self.functions_out]:
            for interface, name in f.uses:
                if name not in uses.setdefault(interface, []):
                    uses[interface].append(name)
        lines = [f"use {i}.{{{', '.join(names)}}};" for i, names in uses.items()]
        lines += [f"import {i};" for i in dict.fromkeys(self.imports)]
        lines += [f"import {f.name}: {f.signature};" for f in self.functions_in]
        lines += [f"export {e};" for e in dict.fromkeys(self.exports)]
        lines += [f"export {f.name}: {f.signature};" for f in self.functions_out]
        body = "".join(f"  {line}\n" for line in lines)
        return f"world {self.name} {{\n{body}}}\n"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A generated server (see the module docstring)."""
    d = _Drawer(draw)
    root_version = "0.1.0" if d.boolean(0.7) else None
    root = Package("gen", "chain", (root_version,))
    others = Package("gen", "svc", ("1.2.0" if d.boolean(0.5) else None,))
    types_pkg = Package("gen", "types", ("2.0.1" if d.boolean(0.5) else None,))
    hosts = [
        Package("wasi", name, tuple(f"0.2.{p}" for p in d.subset(list(HOST_PATCHES), 3) or [HOST_PATCHES[0]]))
        for name in ["hio", "hclk"][: d.count(0, 2)]
    ]

    def host_version(iface: Interface) -> str | None:
        return d.pick(list(iface.package.versions)) if iface.kind == "host" else iface.package.versions[0]

    # host interfaces: resources and functions; later patch versions add functions
    host_ifaces: list[Interface] = []
    for package in hosts:
        local: list[Interface] = []
        for _ in range(d.count(1, 2)):
            iface = Interface(package, d.fresh("host"), "host")
            d.use(iface, local, {})
            d.body(iface, functions=True, resources=True, most=3)
            if len(package.versions) > 1 and d.boolean(0.4):
                iface.extras.append(f"{d.fresh('fx')}: {d.signature(iface.values, iface.resources)};")
            local.append(iface)
        host_ifaces += local

    def used_version(source: Interface) -> str | None:
        return host_version(source) if source.kind == "host" else source.package.versions[0]

    def use_from(iface: Interface, sources: list[Interface]) -> None:
        if iface.package is not root:  # packages depend on each other without a cycle: never on the root
            sources = [s for s in sources if s.package is not root]
        versions = {id(s): used_version(s) for s in sources}
        d.use(iface, sources, versions)

    # interfaces of types alone
    types_ifaces: list[Interface] = []
    for _ in range(d.count(0, 2)):
        iface = Interface(types_pkg if d.boolean() else root, d.fresh("types"), "types")
        use_from(iface, [*host_ifaces, *types_ifaces])
        d.body(iface, functions=False, resources=False, most=4)
        if not iface.items and not iface.uses:
            iface.items.append(f"type {d.fresh('ali')} = u32;")
        types_ifaces.append(iface)

    # services: each exports a contiguous block of service interfaces
    service_blocks: list[list[Interface]] = []
    service_ifaces: list[Interface] = []
    for _ in range(d.count(0, 2)):
        block = []
        for _ in range(d.count(1, 2)):
            iface = Interface(others if d.boolean() else root, d.fresh("svc"), "service")
            use_from(iface, [*host_ifaces, *types_ifaces, *service_ifaces])
            d.body(iface, functions=True, resources=True, most=3)
            if not iface.has_functions:
                d.function(iface)
            block.append(iface)
            service_ifaces.append(iface)
        service_blocks.append(block)

    # the chain interface and the transport's own export
    chain = Interface(root, "handler", "chain")
    use_from(chain, [*host_ifaces, *types_ifaces, *service_ifaces])
    d.body(chain, functions=True, resources=True, most=3)
    if not chain.has_functions:
        d.function(chain)
    entry: Interface | None = None
    if d.boolean(0.6):
        entry = Interface(root, "entry", "entry")
        use_from(entry, [*host_ifaces, *types_ifaces, *service_ifaces])
        d.body(entry, functions=True, resources=True, most=2)
        if not entry.has_functions:
            d.function(entry)

    def reference(iface: Interface, version: str | None = None) -> str:
        if iface.package is root:
            return iface.name
        return iface.package.qualified(iface.name, version or host_version(iface))

    # world-level functions: their types from host and types interfaces (a world-level
    # `use`, at one version per interface so that a type name means one type)
    world_functions: list[WorldFunction] = []
    world_use_version: dict[int, str | None] = {}
    for _ in range(d.count(0, 3)):
        values: list[str] = []
        resources: list[str] = []
        needs: dict[str, tuple[str, str]] = {}
        for source in d.subset([*host_ifaces, *types_ifaces, *service_ifaces], 2):
            version = world_use_version.setdefault(id(source), used_version(source))
            for n in d.subset([*source.own_values, *source.own_resources], 2):
                needs[n] = (reference(source, version), n)
                (resources if n in source.own_resources else values).append(n)
        signature = d.signature(values, resources)
        used = tuple(v for n, v in needs.items() if _mentions(signature, n))
        from_services = {reference(s, world_use_version.get(id(s))) for s in service_ifaces}
        world_functions.append(WorldFunction(d.fresh("wf"), signature, used, any(i in from_services for i, _ in used)))

    # each world-level function is exported by one service at most, and imported by a
    # service only from an earlier one (services never import each other in a cycle)
    service_of: dict[str, int] = {}
    for_services = [f for f in world_functions if not f.service_types]
    for index in range(len(service_blocks)):
        if d.boolean(0.3):
            for f in d.subset(for_services, 1):
                service_of.setdefault(f.name, index)

    def extra_imports(world: _World, allowed: list[Interface], service: int | None = None) -> None:
        for iface in d.subset(allowed, 3):
            world.imports.append(reference(iface))
        taken = {f.name for f in world.functions_out}
        for f in d.subset(world_functions if service is None else for_services, 2):
            provider = service_of.get(f.name)
            if f.name not in taken and (service is None or provider is None or provider < service):
                world.functions_in.append(f)

    worlds: list[_World] = []
    transport = _World("transport", imports=[reference(chain)])
    if entry is not None:
        transport.exports.append(reference(entry))
    transport.functions_out += d.subset(world_functions, 2)
    if not transport.exports and not transport.functions_out:
        transport.functions_out.append(WorldFunction(d.fresh("run"), "func() -> u32", ()))
    extra_imports(transport, [*host_ifaces, *types_ifaces, *service_ifaces])
    worlds.append(transport)
    middles = []
    for _ in range(d.count(0, 2)):
        middle = _World(d.fresh("middle"), imports=[reference(chain)], exports=[reference(chain)])
        middle.functions_out += d.subset(world_functions, 1)
        extra_imports(middle, [*host_ifaces, *types_ifaces, *service_ifaces])
        middles.append(middle)
    worlds += middles
    terminal = _World("terminal", exports=[reference(chain)])
    terminal.functions_out += d.subset(world_functions, 1)
    extra_imports(terminal, [*host_ifaces, *types_ifaces, *service_ifaces])
    worlds.append(terminal)
    services = []
    earlier: list[Interface] = []
    for index, block in enumerate(service_blocks):
        service = _World(d.fresh("service"), exports=[reference(i) for i in block])
        service.functions_out += [f for f in world_functions if service_of.get(f.name) == index]
        extra_imports(service, [*host_ifaces, *types_ifaces, *earlier], index)
        earlier += block
        services.append(service)
    worlds += services
    layout = [m.name for m in middles]
    chain_members = tuple(d.pick(layout) for _ in range(d.count(0, 3))) if layout else ()

    # the files: the root package with the worlds, one file per other package version
    files: dict[str, str] = {}
    all_ifaces = [*host_ifaces, *types_ifaces, *service_ifaces, chain, *([entry] if entry else [])]
    for package in [root, others, types_pkg, *hosts]:
        members = [i for i in all_ifaces if i.package is package]
        if not members and package is not root:
            continue
        for index, version in enumerate(package.versions):
            head = f"package {package.namespace}:{package.name}{'@' + version if version else ''};\n\n"
            text = head + "\n".join(_render_interface(i, version, with_extras=index > 0) for i in members)
            if package is root:
                files["root.wit"] = text + "\n" + "\n".join(w.render() for w in worlds)
            else:
                files[f"deps/{package.namespace}-{package.name}-{version or 'unversioned'}.wit"] = text
    return Case(files, transport.name, chain_members, terminal.name, tuple(s.name for s in services))


def _mentions(text: str, name: str) -> bool:
    """Whether the WIT `text` mentions the identifier `name`."""
    import re

    return re.search(rf"(?<![a-z0-9-]){re.escape(name)}(?![a-z0-9-])", text) is not None
