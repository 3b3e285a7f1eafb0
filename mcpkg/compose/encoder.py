"""The composer's encoder: one outer component from the chain's inner components.

Shape (what wac and `wasm-tools compose` emit; docs/compose.md, "The encoder"):

1. Outer imports, dependencies first. For every interface the host must provide, the
   instance type is the *merge* of what each inner component declared (their imports are
   trimmed to what each one uses): the union of functions, resources and named types,
   encoded from the type models wasmtime gave us. Resources another interface uses are
   aliased out of the importing instance and referred to with `alias outer`, so every
   component that shares `wasi:io/streams` receives the same resource types.
   Semver-compatible names (`@0.2.3`, `@0.2.8`) unify to the highest.
2. The inner components, embedded byte for byte as nested component sections.
3. Instantiations: services first, then the terminal, the chain from its last link up,
   and the transport; each inner import is given the outer import of that interface or the
   export of the instance the wiring names (aliased out of it).
4. Exports: the transport's exports.

The same inputs give the same bytes: everything is ordered by the components' order and
by name, never by hashing or timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcpkg.compose.binary import (
    COMPONENT_SECTION,
    FUNC,
    INSTANCE,
    TYPE,
    AliasDecl,
    AliasSection,
    BorrowType,
    Case,
    EnumType,
    Export,
    ExportAlias,
    ExportDecl,
    ExportSection,
    ExternName,
    FlagsType,
    FuncDesc,
    FuncType,
    Import,
    ImportSection,
    InstanceDecl,
    InstanceDesc,
    InstanceSection,
    InstanceType,
    Instantiate,
    InstantiateArg,
    Labeled,
    ListType,
    OptionType,
    OuterAlias,
    OwnType,
    PrimValType,
    RecordType,
    ResultType,
    Section,
    TupleType,
    TypeDecl,
    TypeDesc,
    TypeSection,
    ValType,
    VariantType,
    encode_chunks,
)
from mcpkg.errors import IncompatibleError
from mcpkg.wasm.model import ComponentModel, Item, Type, canonical_text, semver_key, types_equal, version_of

PRIM_CODES = {
    "bool": 0x7F, "s8": 0x7E, "u8": 0x7D, "s16": 0x7C, "u16": 0x7B, "s32": 0x7A, "u32": 0x79,
    "s64": 0x78, "u64": 0x77, "f32": 0x76, "f64": 0x75, "char": 0x74, "string": 0x73, "error-context": 0x64,
}  # fmt: skip


@dataclass
class Part:
    """One inner component: its label, exact bytes and type model."""

    name: str
    data: bytes
    model: ComponentModel


@dataclass
class _HostInterface:
    name: str  # the outer import name (highest semver-compatible version)
    functions: dict[str, Item] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)
    uses: list[dict[str, str]] = field(default_factory=list)
    types: dict[str, Type] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)


class _InstanceTypeBuilder:
    """Builds the declarations of one imported instance type."""

    def __init__(
        self,
        interface: str,
        outer_resources: dict[tuple[str, str], int],
        outer_named: dict[tuple[str, str], int],
        own_types: dict[str, Type],
    ) -> None:
        self.interface = interface
        self.outer_resources = outer_resources
        self.outer_named = outer_named
        # named types of this interface not yet declared, by structure: a compound type
        # used before its own declaration is declared (and named) on first use
        self.pending = {
            canonical_text(t): name for name, t in own_types.items() if t["k"] in ("record", "variant", "enum", "flags")
        }
        self.decls: list[InstanceDecl] = []
        self.count = 0  # the instance type's own type index space
        self.resources: dict[tuple[str, str], int] = {}
        self.compound: dict[str, int] = {}
        self.named: dict[str, int] = {}

    def _new_type(self, decl: InstanceDecl) -> int:
        self.decls.append(decl)
        self.count += 1
        return self.count - 1

    def use_resource(self, ref: dict[str, str]) -> None:
        key = (semver_key(ref["interface"]), ref["name"])
        exported_as = ref.get("as", ref["name"])
        if key in self.resources and exported_as == ref["name"]:
            return
        if key in self.resources:  # another name for one of this interface's resources
            self._new_type(ExportDecl(ExternName(exported_as), TypeDesc(self.resources[key])))
            return
        outer = self.outer_resources.get(key)
        if outer is None:
            raise IncompatibleError(f"{self.interface} uses resource {ref['name']} of {ref['interface']}, not imported")
        aliased = self._new_type(AliasDecl(OuterAlias(TYPE, 1, outer)))
        exported = self._new_type(ExportDecl(ExternName(exported_as), TypeDesc(aliased)))
        if exported_as == ref["name"]:
            self.resources[key] = exported

    def own_resource(self, name: str) -> None:
        self.resources[(semver_key(self.interface), name)] = self._new_type(
            ExportDecl(ExternName(name), TypeDesc(None))
        )

    def valtype(self, t: Type | None) -> ValType | None:
        if t is None:
            return None
        return self._valtype(t)

    def _valtype(self, t: Type) -> ValType:
        k = t["k"]
        if k in PRIM_CODES:
            return PrimValType(PRIM_CODES[k])
        text = canonical_text(t) if k in ("record", "variant", "enum", "flags") else repr(t)
        if text in self.named:
            return self.named[text]
        if text in self.pending:
            self.named_type(self.pending[text], t)
            return self.named[text]
        if text in self.compound:
            return self.compound[text]
        index = self._new_type(TypeDecl(self._defvaltype(t)))
        self.compound[text] = index
        return index

    def _defvaltype(
        self, t: Type
    ) -> (
        RecordType
        | VariantType
        | ListType
        | TupleType
        | FlagsType
        | EnumType
        | OptionType
        | ResultType
        | OwnType
        | BorrowType
    ):
        k = t["k"]
        if k == "list":
            return ListType(self._valtype(t["of"]))
        if k == "option":
            return OptionType(self._valtype(t["of"]))
        if k == "tuple":
            return TupleType(tuple(self._valtype(e) for e in t["of"]))
        if k == "result":
            return ResultType(self.valtype(t.get("ok")), self.valtype(t.get("err")))
        if k == "record":
            return RecordType(tuple(Labeled(n, self._valtype(ft)) for n, ft in t["fields"]))
        if k == "variant":
            return VariantType(tuple(Case(n, self.valtype(ct)) for n, ct in t["cases"]))
        if k == "enum":
            return EnumType(tuple(t["names"]))
        if k == "flags":
            return FlagsType(tuple(t["names"]))
        if k in ("own", "borrow"):
            ref = t["resource"]
            key = (semver_key(ref["interface"]), ref["name"])
            if key not in self.resources:
                self.use_resource(ref)
            return OwnType(self.resources[key]) if k == "own" else BorrowType(self.resources[key])
        raise IncompatibleError(f"{self.interface}: type {k!r} cannot be composed yet")

    def named_type(self, name: str, t: Type) -> None:
        if t["k"] in ("own", "borrow"):
            return
        nominal = t["k"] in ("record", "variant", "enum", "flags")
        if nominal:
            text = canonical_text(t)
            if text in self.named:
                return
            self.pending.pop(text, None)
            outer = self.outer_named.get((text, name))
            if outer is not None:
                # defined by another interface (a WIT `use`): alias it, never redefine it
                aliased = self._new_type(AliasDecl(OuterAlias(TYPE, 1, outer)))
                self.named[text] = self._new_type(ExportDecl(ExternName(name), TypeDesc(aliased)))
                return
        if t["k"] in PRIM_CODES:
            index = self._new_type(TypeDecl(PrimValType(PRIM_CODES[t["k"]])))
        else:
            inner = self._valtype(t)
            assert isinstance(inner, int)
            index = inner
        exported = self._new_type(ExportDecl(ExternName(name), TypeDesc(index)))
        if t["k"] in ("record", "variant", "enum", "flags"):
            self.named[canonical_text(t)] = exported

    def function(self, name: str, f: Item) -> None:
        params = tuple(Labeled(n, self._valtype(pt)) for n, pt in f["params"])
        functype = self._new_type(TypeDecl(FuncType(params, self.valtype(f.get("result")))))
        self.decls.append(ExportDecl(ExternName(name), FuncDesc(functype)))


def _same_function(a: Item, b: Item) -> bool:
    return (
        len(a["params"]) == len(b["params"])
        and all(types_equal(x[1], y[1]) for x, y in zip(a["params"], b["params"], strict=True))
        and types_equal(a.get("result"), b.get("result"))
    )


def _merge_host_interfaces(parts: list[Part], host: set[str]) -> list[_HostInterface]:
    """Union of every part's declaration of each host interface, dependencies first."""
    groups: dict[str, _HostInterface] = {}
    order: list[str] = []
    for part in parts:
        for name, item in part.model.imports.items():
            if name not in host or item["kind"] != "instance":
                continue
            key = semver_key(name)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _HostInterface(name)
                order.append(key)
            elif (version_of(name) or (0, 0, 0)) > (version_of(group.name) or (0, 0, 0)):
                group.name = name
            group.owners.append(part.name)
            for fname, f in item["functions"].items():
                known = group.functions.get(fname)
                if known is not None and not _same_function(known, f):
                    raise IncompatibleError(
                        f"{name}: function {fname} is declared differently by {', '.join(group.owners)}",
                        "the components were built against incompatible versions of this interface",
                    )
                group.functions.setdefault(fname, f)
            for resource in item.get("resources", []):
                if resource not in group.resources:
                    group.resources.append(resource)
            for ref in item.get("uses", []):
                if ref not in group.uses:
                    group.uses.append(ref)
            for tname, t in item.get("types", {}).items():
                group.types.setdefault(tname, t)
    # dependencies first: an interface after every interface whose resources it uses
    placed: list[str] = []

    def place(key: str, stack: tuple[str, ...] = ()) -> None:
        if key in placed:
            return
        if key in stack:
            raise IncompatibleError(f"interfaces use each other's resources in a cycle: {' -> '.join(stack)}")
        for ref in groups[key].uses:
            dep = semver_key(ref["interface"])
            if dep in groups and dep != key:
                place(dep, (*stack, key))
        placed.append(key)

    for key in order:
        place(key)
    return [groups[key] for key in placed]


def encode_composition(
    transport: str,
    chain: list[str],
    terminal: str,
    services: list[str],
    parts: dict[str, Part],
    links: dict[tuple[str, str], tuple[str, str]],
) -> list[bytes]:
    """The composed component, as chunks to write in order (the inner components are not
    copied). `links` maps (importer, import) to (provider, export); every other import
    becomes an import of the composed component."""
    ordered = [transport, *chain, terminal, *services]
    host = {name for label in ordered for name in parts[label].model.imports if (label, name) not in links}
    sections: list[object] = []
    outer_types = 0
    outer_instances = 0
    outer_resources: dict[tuple[str, str], int] = {}
    outer_named: dict[tuple[str, str], int] = {}
    host_instance: dict[str, int] = {}
    for iface in _merge_host_interfaces([parts[n] for n in ordered], host):
        builder = _InstanceTypeBuilder(iface.name, outer_resources, outer_named, iface.types)
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
        sections.append(TypeSection((InstanceType(tuple(builder.decls)),)))
        type_index = outer_types
        outer_types += 1
        sections.append(ImportSection((Import(ExternName(iface.name), InstanceDesc(type_index)),)))
        host_instance[semver_key(iface.name)] = outer_instances
        outer_instances += 1
        nominal = [
            (name, t)
            for name, t in iface.types.items()
            if t["k"] in ("record", "variant", "enum", "flags") and (canonical_text(t), name) not in outer_named
        ]
        aliases = [*iface.resources, *(name for name, _ in nominal)]
        if aliases:
            instance = host_instance[semver_key(iface.name)]
            sections.append(AliasSection(tuple(ExportAlias(TYPE, instance, a) for a in aliases)))
            for resource in iface.resources:
                outer_resources[(semver_key(iface.name), resource)] = outer_types
                outer_types += 1
            for name, t in nominal:
                outer_named[(canonical_text(t), name)] = outer_types
                outer_types += 1
    component_index: dict[str, int] = {}
    for index, label in enumerate(ordered):
        sections.append(Section(COMPONENT_SECTION, parts[label].data))
        component_index[label] = index
    instance_of: dict[str, int] = {}
    for label in [*_service_order(services, links), terminal, *reversed(chain), transport]:
        args: list[InstantiateArg] = []
        for name, item in parts[label].model.imports.items():
            if (label, name) in links:
                provider, export = links[(label, name)]
                if provider not in instance_of:
                    raise IncompatibleError(f"{label} needs {provider} instantiated first (a cycle?)")
                sort = INSTANCE if parts[provider].model.exports[export]["kind"] == "instance" else FUNC
                sections.append(AliasSection((ExportAlias(sort, instance_of[provider], export),)))
                if sort is INSTANCE:
                    args.append(InstantiateArg(name, INSTANCE, outer_instances))
                    outer_instances += 1
                else:
                    raise IncompatibleError(f"{label}: wiring a bare function import ({name}) is not supported")
            elif item["kind"] == "instance":
                args.append(InstantiateArg(name, INSTANCE, host_instance[semver_key(name)]))
            else:
                raise IncompatibleError(f"{label}: import {name} is a {item['kind']}, which mcpkg cannot compose")
        sections.append(InstanceSection((Instantiate(component_index[label], tuple(args)),)))
        instance_of[label] = outer_instances
        outer_instances += 1
    exports: list[Export] = []
    for name, item in parts[transport].model.exports.items():
        if item["kind"] != "instance":
            continue
        sections.append(AliasSection((ExportAlias(INSTANCE, instance_of[transport], name),)))
        exports.append(Export(ExternName(name), INSTANCE, outer_instances))
        outer_instances += 1
    sections.append(ExportSection(tuple(exports)))
    return encode_chunks(sections)  # type: ignore[arg-type]


def _service_order(services: list[str], links: dict[tuple[str, str], tuple[str, str]]) -> list[str]:
    done: list[str] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in stack:
            raise IncompatibleError("services import each other in a cycle: " + " -> ".join((*stack, name)))
        for (importer, _), (provider, _) in sorted(links.items()):
            if importer == name and provider in services:
                visit(provider, (*stack, name))
        done.append(name)

    for service in services:
        visit(service, ())
    return done
