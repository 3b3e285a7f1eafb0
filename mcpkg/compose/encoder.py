"""The composer's encoder: one outer component from the chain's inner components.

Shape (what wac and `wasm-tools compose` emit; docs/compose.md, "The encoder"):

1. Outer imports, dependencies first. For every interface the host must provide, the
   instance type is the *merge* of what each inner component declared
   (`instancetypes.py`). Resources and named types another interface uses are aliased out
   of the importing instance and referred to with `alias outer`, so every component that
   shares `wasi:io/streams` receives the same resource types. Semver-compatible names
   (`@0.2.3`, `@0.2.8`) unify to the highest. Then world-level type imports (a world's
   `use`, read from the binaries by `typeimports.py`) and world-level function imports
   that no service provides, one of each name.
2. The core modules that occur in two or more inner components, defined once
   (`sharing.py`), then the inner components, embedded byte for byte as nested
   component sections except that each shared module is an `alias outer` to its one
   definition.
3. Instantiations: services first, then the terminal, the chain from its last link up,
   and the transport; each inner import is given the outer import of that interface,
   type or function, or the export of the instance the wiring names (aliased out of it).
4. Exports: the transport's exports, instances and functions, once checked to use only
   types the composed component imports or exports.

The same inputs give the same bytes: everything is ordered by the components' order and
by name, never by hashing or timing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from mcpkg.compose.instancetypes import (
    NOMINAL,
    PRIM_CODES,
    HostInterface,
    InstanceTypeBuilder,
    defvaltype,
    merge_host_interfaces,
    resource_exported_as,
    same_function,
    type_key,
)
from mcpkg.compose.sharing import Sharing, share_modules
from mcpkg.compose.typeimports import TypeImport, type_imports
from mcpkg.errors import IncompatibleError
from mcpkg.wasm.binary.encode import encode_chunks
from mcpkg.wasm.binary.types import (
    COMPONENT_SECTION,
    CORE_MODULE_SECTION,
    FUNC,
    INSTANCE,
    TYPE,
    AliasSection,
    AnySection,
    DefType,
    Export,
    ExportAlias,
    ExportSection,
    ExternName,
    FuncDesc,
    FuncType,
    Import,
    ImportSection,
    InstanceDesc,
    InstanceSection,
    InstanceType,
    Instantiate,
    InstantiateArg,
    Labeled,
    PrimValType,
    Section,
    Sort,
    TypeDesc,
    TypeSection,
    ValType,
)
from mcpkg.wasm.compat import used_services
from mcpkg.wasm.model import (
    ComponentModel,
    Item,
    Type,
    render_func,
    render_type,
    semver_key,
)


@dataclass
class Part:
    """One inner component: its label, exact bytes and type model."""

    name: str
    data: bytes
    model: ComponentModel

    @cached_property
    def type_imports(self) -> list[TypeImport]:
        """World-level type imports (wasmtime does not list them), from the binary."""
        return type_imports(self.data, self.name)


INTERNAL_TYPE = "internal type"


def internal_type_error(where: str, what: str) -> IncompatibleError:
    """The composed component's imports and exports may only use types it imports or
    exports (the component model's rule): not one a component inside defines, such as a
    service's resource. Neither mcpkg nor `wasm-tools compose` can compose that."""
    return IncompatibleError(
        f"{where}: it uses {what}, which only a component inside the server defines; the composed "
        "component's imports and exports can only use types it imports or exports",
        "a world-level function or an export of the transport cannot use a service's types: "
        "move the type to an interface of types alone, or to one the host provides",
        {"reason": INTERNAL_TYPE, "type": what},
    )


class _OuterTypes:
    """Value types in the composed component's own type index space, for the world-level
    function imports: named types and resources are the outer ones already imported."""

    def __init__(self, composer: _Composer) -> None:
        self.composer = composer
        self.compound: dict[str, int] = {}

    def valtype(self, t: Type, where: str) -> ValType:
        k = t["k"]
        if k in PRIM_CODES:
            return PrimValType(PRIM_CODES[k])
        c = self.composer
        if k in NOMINAL:
            key = type_key(t)
            index = c.world_named.get(key, c.named_by_structure.get(key))
            if index is None:
                raise internal_type_error(where, f"type {render_type(t)}")
            return index
        text = repr(t)
        if text not in self.compound:
            definition = defvaltype(
                t, lambda part: self.valtype(part, where), lambda ref: self.handle(ref, where), where
            )
            self.compound[text] = c.add_types(definition)
        return self.compound[text]

    def define(self, t: Type, where: str) -> int:
        """A new outer type of `t`'s structure (the definition itself, even when `t` is a
        record or another named kind); its parts as `valtype` gives them."""
        if t["k"] in PRIM_CODES:
            return self.composer.add_types(PrimValType(PRIM_CODES[t["k"]]))
        definition = defvaltype(t, lambda part: self.valtype(part, where), lambda ref: self.handle(ref, where), where)
        return self.composer.add_types(definition)

    def handle(self, ref: dict[str, str], where: str) -> int:
        key = (semver_key(ref["interface"]), ref["name"])
        index = self.composer.world_resources.get(key, self.composer.outer_resources.get(key))
        if index is None:
            raise internal_type_error(where, f"resource {ref['name']} of {ref['interface']}")
        return index


class _Composer:
    """The composed component's sections and its index spaces (types, instances, funcs)."""

    def __init__(self, parts: dict[str, Part], links: dict[tuple[str, str], tuple[str, str]]) -> None:
        self.parts = parts
        self.links = links
        self.sections: list[AnySection] = []
        self.types = 0
        self.instances = 0
        self.funcs = 0
        self.outer_resources: dict[tuple[str, str], int] = {}
        self.outer_named: dict[tuple[str, str], int] = {}
        self.named_by_structure: dict[str, int] = {}  # the first outer named type of each structure
        # world-level type imports, which world-level functions refer to first (as the inner ones do)
        self.world_named: dict[str, int] = {}
        self.world_resources: dict[tuple[str, str], int] = {}
        self.outer_types = _OuterTypes(self)
        self.host_instance: dict[str, int] = {}  # semver key -> outer instance
        # type import name -> (index, (semver key, export), first importer, its interface import)
        self.host_types: dict[str, tuple[int, tuple[str, str], str, str]] = {}
        self.host_funcs: dict[str, tuple[int, Item, str]] = {}  # name -> (index, type, importer)

    def add_types(self, *types: DefType) -> int:
        """Define types in a type section; the index of the last."""
        self.sections.append(TypeSection(types))
        self.types += len(types)
        return self.types - 1

    def alias(self, sort: Sort, instance: int, name: str) -> int:
        self.sections.append(AliasSection((ExportAlias(sort, instance, name),)))
        if sort == TYPE:
            self.types += 1
            return self.types - 1
        if sort == FUNC:
            self.funcs += 1
            return self.funcs - 1
        self.instances += 1
        return self.instances - 1

    def import_interfaces(self, interfaces: list[HostInterface]) -> None:
        for iface in interfaces:
            builder = InstanceTypeBuilder(iface.name, self.outer_resources, self.outer_named, iface.types, iface.owners)
            own = semver_key(iface.name)
            for ref in iface.uses:
                if semver_key(ref["interface"]) != own:
                    builder.use_resource(ref)
            for resource in iface.resources:
                builder.own_resource(resource)
            for ref in iface.uses:  # other names for its own resources, once they exist
                if semver_key(ref["interface"]) == own:
                    builder.use_resource(ref)
            for tname, t in iface.types.items():
                builder.named_type(tname, t)
            for fname, f in iface.functions.items():
                builder.function(fname, f)
            type_index = self.add_types(InstanceType(tuple(builder.decls)))
            self.sections.append(ImportSection((Import(ExternName(iface.name), InstanceDesc(type_index)),)))
            instance = self.host_instance[own] = self.instances
            self.instances += 1
            # resources and named types that later imports refer to, aliased out of this one
            for resource in iface.resources:
                self.outer_resources[(own, resource)] = self.alias(TYPE, instance, resource)
            for name, t in iface.types.items():
                key = type_key(t)
                if (key, name) in self.outer_named:
                    continue
                index = self.outer_named[(key, name)] = self.alias(TYPE, instance, name)
                if t["k"] in NOMINAL:
                    self.named_by_structure.setdefault(key, index)

    def import_world_types(self, ordered: list[str], host: set[tuple[str, str]]) -> None:
        """World-level type imports: one outer import of each name. Bound to an interface
        the host provides, it is `(eq <that interface's export>)`, as the inner ones are;
        bound to one a service provides, it is `(eq <a definition of the same structure>)`
        (value types are structural), unless it holds a resource or a named type the
        composed component does not import: that one has no name outside, and each
        importer gets the provider's own type when instantiated."""
        for label in ordered:
            for item in self.parts[label].type_imports:
                if item.interface is None or item.export is None:
                    raise IncompatibleError(
                        f"{label}: type import {item.name} is not bound to an export of an imported interface",
                        "mcpkg composes type imports that come from a WIT `use` in a world",
                    )
                interface = self.parts[label].model.imports.get(item.interface, {})
                t = interface.get("types", {}).get(item.export)
                linked = (label, item.interface) not in host
                if linked and (t is None or not self._definable(t)):
                    continue
                source = (semver_key(item.interface), item.export)
                known = self.host_types.get(item.name)
                if known is not None:
                    if known[1] != source:
                        raise IncompatibleError(
                            f"type import {item.name}: {known[2]} binds it to {known[1][1]} of {known[3]}, "
                            f"{label} to {item.export} of {item.interface}",
                            "one composed component cannot import two types under one name",
                        )
                    continue
                if linked:
                    assert t is not None
                    where = f"{label}, type import {item.name}"
                    bound = self.outer_types.define(t, where)
                else:
                    bound = self.alias(TYPE, self.host_instance[source[0]], item.export)
                self.sections.append(ImportSection((Import(ExternName(item.name), TypeDesc(bound)),)))
                self.types += 1
                self.host_types[item.name] = (self.types - 1, source, label, item.interface)
                if t is not None and t["k"] in NOMINAL:
                    self.world_named.setdefault(type_key(t), self.types - 1)
                resource = resource_exported_as(interface, item.interface, item.export)
                if resource is not None:
                    self.world_resources.setdefault(resource, self.types - 1)

    def _definable(self, t: Type) -> bool:
        """Whether the composed component can define a type of `t`'s structure: every
        resource and named type in it is one it imports."""
        resources = {*self.outer_resources, *self.world_resources}
        nominal = {*self.named_by_structure, *self.world_named}
        parts = [t] if t["k"] in ("own", "borrow") else _parts(t)
        return all(_first_unnamed(part, resources, nominal) is None for part in parts)

    def import_functions(self, ordered: list[str], host: set[tuple[str, str]]) -> None:
        """World-level function imports no service provides: one outer import of each name."""
        outer = self.outer_types
        for label in ordered:
            for name, item in self.parts[label].model.imports.items():
                if item["kind"] != "func" or (label, name) not in host:
                    continue
                known = self.host_funcs.get(name)
                if known is not None:
                    if not same_function(known[1], item):
                        raise IncompatibleError(
                            f"function import {name}: {known[2]} imports {render_func(known[1])}, "
                            f"{label} imports {render_func(item)}",
                            "the components were built against different worlds",
                        )
                    continue
                where = f"{label}, function import {name}"
                params = tuple(Labeled(n, outer.valtype(pt, where)) for n, pt in item["params"])
                result = item.get("result")
                functype = self.add_types(FuncType(params, None if result is None else outer.valtype(result, where)))
                self.sections.append(ImportSection((Import(ExternName(name), FuncDesc(functype)),)))
                self.host_funcs[name] = (self.funcs, item, label)
                self.funcs += 1

    def instantiate(self, label: str, component: int, instance_of: dict[str, int]) -> int:
        part = self.parts[label]
        args: list[InstantiateArg] = []
        given: dict[str, int] = {}  # interface import -> the instance it receives
        for name, item in part.model.imports.items():
            kind = item["kind"]
            if kind in ("type", "resource"):
                continue  # a type import: from the binary, below
            if (label, name) in self.links:
                provider, export = self.links[(label, name)]
                if provider not in instance_of:
                    raise IncompatibleError(f"{label}: import {name} needs {provider} instantiated first (a cycle?)")
                provided = self.parts[provider].model.exports.get(export, {}).get("kind")
                if kind not in ("instance", "func") or provided != kind:
                    raise IncompatibleError(
                        f"{label}: import {name} (a {kind}) cannot be wired to export {export} of {provider} "
                        f"(a {provided})"
                    )
                sort = INSTANCE if kind == "instance" else FUNC
                index = self.alias(sort, instance_of[provider], export)
                args.append(InstantiateArg(name, sort, index))
                if sort == INSTANCE:
                    given[name] = index
            elif kind == "instance":
                index = self.host_instance[semver_key(name)]
                args.append(InstantiateArg(name, INSTANCE, index))
                given[name] = index
            elif kind == "func":
                args.append(InstantiateArg(name, FUNC, self.host_funcs[name][0]))
            else:
                raise IncompatibleError(f"{label}: import {name} is a {kind}, which mcpkg cannot compose")
        for bound in part.type_imports:
            assert bound.interface is not None and bound.export is not None
            outer = self.host_types.get(bound.name)
            if outer is not None and outer[1] == (semver_key(bound.interface), bound.export):
                index = outer[0]
            else:
                if bound.interface not in given:
                    raise IncompatibleError(
                        f"{label}: type import {bound.name} is {bound.export} of {bound.interface}, "
                        "which it does not import as an instance"
                    )
                index = self.alias(TYPE, given[bound.interface], bound.export)
            args.append(InstantiateArg(bound.name, TYPE, index))
        self.sections.append(InstanceSection((Instantiate(component, tuple(args)),)))
        self.instances += 1
        return self.instances - 1

    def export_all(self, label: str, instance: int) -> None:
        """Re-export every export of the transport's instance under its own name."""
        exports: list[Export] = []
        for name, item in self.parts[label].model.exports.items():
            self._check_named(f"{label}, export {name}", label, name, item)
            if item["kind"] == "instance":
                exports.append(Export(ExternName(name), INSTANCE, self.alias(INSTANCE, instance, name)))
            elif item["kind"] == "func":
                exports.append(Export(ExternName(name), FUNC, self.alias(FUNC, instance, name)))
            else:
                raise IncompatibleError(f"{label}: export {name} is a {item['kind']}, which mcpkg cannot re-export")
        self.sections.append(ExportSection(tuple(exports)))

    def _linked_types(self, label: str) -> set[tuple[str, str]]:
        """(name, type key) of the named types of the interfaces another component
        provides to `label`."""
        found: set[tuple[str, str]] = set()
        for name, item in self.parts[label].model.imports.items():
            if (label, name) in self.links and item["kind"] == "instance":
                found |= {(tname, type_key(t)) for tname, t in item.get("types", {}).items()}
        return found

    def _check_named(self, where: str, importer: str, name: str, item: Item) -> None:
        """Every resource and record, variant, enum or flags type the export uses must be
        one the composed component imports, or one the export itself exports."""
        outer_resources = {*self.outer_resources, *self.world_resources}
        outer_nominal = {*self.named_by_structure, *self.world_named}
        resources, nominal = set(outer_resources), set(outer_nominal)
        types: list[Type] = []
        if item["kind"] == "instance":
            # the export's own names name what its functions refer to; but a type it
            # `use`s from an interface a service provides keeps that interface's
            # definition, whose named parts (records..., resources) are that interface's
            # own names, which nothing outside names (wasmparser refuses the export)
            resources |= {(semver_key(name), r) for r in item.get("resources", [])}
            resources |= {(semver_key(ref["interface"]), ref["name"]) for ref in item.get("uses", [])}
            nominal |= {type_key(t) for t in item.get("types", {}).values()}
            internal = self._linked_types(importer)
            for tname, t in item.get("types", {}).items():
                key = type_key(t)
                # the same name and structure in an interface the host provides: its definition
                # (what a chain interface `use`s from an interface of types alone, say)
                if (tname, key) in internal and (key, tname) not in self.outer_named:
                    for part in [t] if t["k"] in ("own", "borrow") else _parts(t):
                        unnamed = _first_unnamed(part, set(), set())
                        if unnamed is not None:
                            raise internal_type_error(where, f"{unnamed} (in {tname})")
            functions = list(item.get("functions", {}).values())
        else:
            functions = [item]
        for f in functions:
            types += [t for _, t in f["params"]]
            types += [f["result"]] if f.get("result") is not None else []
        for t in types:
            unnamed = _first_unnamed(t, resources, nominal)
            if unnamed is not None:
                raise internal_type_error(where, unnamed)


def _first_unnamed(t: Type, resources: set[tuple[str, str]], nominal: set[str]) -> str | None:
    """The first part of `t` that is neither a known resource nor a known named type."""
    k = t["k"]
    if k in ("own", "borrow"):
        ref = t["resource"]
        known = (semver_key(ref["interface"]), ref["name"]) in resources
        return None if known else f"resource {ref['name']} of {ref['interface']}"
    if k in NOMINAL and type_key(t) not in nominal:
        return f"type {render_type(t)}"
    for part in _parts(t):
        found = _first_unnamed(part, resources, nominal)
        if found is not None:
            return found
    return None


def _parts(t: Type) -> list[Type]:
    """The types a compound type is made of."""
    k = t["k"]
    parts: list[Type | None] = []
    if k in ("list", "option", "future", "stream"):
        parts = [t.get("of")]
    elif k == "tuple":
        parts = list(t["of"])
    elif k == "result":
        parts = [t.get("ok"), t.get("err")]
    elif k == "record":
        parts = [ft for _, ft in t["fields"]]
    elif k == "variant":
        parts = [ct for _, ct in t["cases"]]
    return [part for part in parts if part is not None]


@dataclass(frozen=True)
class Composition:
    chunks: list[bytes]  # the composed component, to write in order
    sharing: Sharing  # the core modules defined once and aliased


def compose(
    transport: str,
    chain: list[str],
    terminal: str,
    services: list[str],
    parts: dict[str, Part],
    links: dict[tuple[str, str], tuple[str, str]],
) -> Composition:
    """The composed component, as chunks to write in order (inner components that share
    nothing are not copied), and what it shares. `links` maps (importer, import) to
    (provider, export); every other import becomes an import of the composed component.
    Services nothing imports from are left out."""
    services = used_services(transport, chain, terminal, services, links)
    ordered = [transport, *chain, terminal, *services]
    host = {(label, name) for label in ordered for name in parts[label].model.imports if (label, name) not in links}
    composer = _Composer(parts, links)
    composer.import_interfaces(merge_host_interfaces([(n, parts[n].model) for n in ordered], host))
    composer.import_world_types(ordered, host)
    composer.import_functions(ordered, host)
    # one component section per distinct component: a component that appears twice (the
    # same wrapper wired to two providers) is embedded once and instantiated twice
    component_index: dict[str, int] = {}
    embedded: dict[bytes, int] = {}
    distinct: list[bytes] = []
    for label in ordered:
        data = parts[label].data
        key = hashlib.sha256(data).digest()
        if key not in embedded:
            embedded[key] = len(embedded)
            distinct.append(data)
        component_index[label] = embedded[key]
    # core modules in two or more places are defined once, here, and aliased (sharing.py)
    sharing = share_modules(distinct)
    composer.sections += [Section(CORE_MODULE_SECTION, module) for module in sharing.modules]
    composer.sections += [Section(COMPONENT_SECTION, data) for data in sharing.components]
    instance_of: dict[str, int] = {}
    for label in _instantiation_order([*services, terminal, *reversed(chain), transport], links):
        instance_of[label] = composer.instantiate(label, component_index[label], instance_of)
    composer.export_all(transport, instance_of[transport])
    return Composition(encode_chunks(composer.sections), sharing)


def _instantiation_order(preferred: list[str], links: dict[tuple[str, str], tuple[str, str]]) -> list[str]:
    """Every label after all it imports from (services first, then the terminal, the chain
    from its end, the transport, as far as the links allow: a capability service that
    imports the chain interface comes after the terminal it is wired to)."""
    labels = set(preferred)
    done: list[str] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in stack:
            raise IncompatibleError("components import each other in a cycle: " + " -> ".join((*stack, name)))
        for (importer, _), (provider, _) in sorted(links.items()):
            if importer == name and provider in labels:
                visit(provider, (*stack, name))
        done.append(name)

    for label in preferred:
        visit(label, ())
    return done
