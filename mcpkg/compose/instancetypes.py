"""The instance types of the composed component's imports, built from type models.

Each inner component imports only the parts of an interface it uses (wit-component trims
them), so the composed component's import of an interface is the *merge* of the inner
ones: the union of functions, resources and named types (`merge_host_interfaces`), encoded
as an instance type from the type models wasmtime gave (`InstanceTypeBuilder`). Types
are compared by structure (`type_key`), resources by the interface that defines them, with
semver-compatible versions unified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpkg.errors import IncompatibleError
from mcpkg.wasm.binary.types import (
    TYPE,
    AliasDecl,
    BorrowType,
    Case,
    DefValType,
    EnumType,
    ExportDecl,
    ExternName,
    FlagsType,
    FuncDesc,
    FuncType,
    InstanceDecl,
    Labeled,
    ListType,
    OptionType,
    OuterAlias,
    OwnType,
    PrimValType,
    RecordType,
    ResultType,
    TupleType,
    TypeDecl,
    TypeDesc,
    ValType,
    VariantType,
)
from mcpkg.wasm.model import ComponentModel, Item, Type, render_type, semver_key, types_equal, version_of

PRIM_CODES = {
    "bool": 0x7F, "s8": 0x7E, "u8": 0x7D, "s16": 0x7C, "u16": 0x7B, "s32": 0x7A, "u32": 0x79,
    "s64": 0x78, "u64": 0x77, "f32": 0x76, "f64": 0x75, "char": 0x74, "string": 0x73, "error-context": 0x64,
}  # fmt: skip


@dataclass
class HostInterface:
    name: str  # the outer import name (highest semver-compatible version)
    functions: dict[str, Item] = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)
    uses: list[dict[str, str]] = field(default_factory=list)
    types: dict[str, Type] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)


NOMINAL = ("record", "variant", "enum", "flags")


class InstanceTypeBuilder:
    """Builds the declarations of one imported instance type.

    Every type name the merged interface exports is declared under that name, even when
    two names have the same structure (`image-content` and `audio-content`, or
    `type kelp = pine-rec`): wasmtime reports types structurally, so the model cannot tell
    a twin from an alias, and both are declared the way wit-component declares an alias,
    the second name exported as `(eq <the first>)`. Functions refer to the first name
    declared with their parameter's structure, which is the same type."""

    def __init__(
        self,
        interface: str,
        outer_resources: dict[tuple[str, str], int],
        outer_named: dict[tuple[str, str], int],
        own_types: dict[str, Type],
        importers: list[str] | None = None,
    ) -> None:
        self.interface = interface
        # for messages: the interface, and which components import it
        self.where = f"interface {interface}" + (f" (imported by {', '.join(importers)})" if importers else "")
        self.outer_resources = outer_resources
        self.outer_named = outer_named
        # named types of this interface not yet declared, by structure (the first name of
        # each): a compound type used before its own declaration is declared on first use
        self.pending: dict[str, str] = {}
        for name, t in own_types.items():
            if t["k"] in NOMINAL:
                self.pending.setdefault(type_key(t), name)
        self.decls: list[InstanceDecl] = []
        self.count = 0  # the instance type's own type index space
        self.resources: dict[tuple[str, str], int] = {}
        self.compound: dict[str, int] = {}
        self.named: dict[str, int] = {}  # type key -> the first export of that structure
        self.exported: set[str] = set()

    def _new_type(self, decl: InstanceDecl) -> int:
        self.decls.append(decl)
        self.count += 1
        return self.count - 1

    def _export_type(self, name: str, index: int | None) -> int:
        self.exported.add(name)
        return self._new_type(ExportDecl(ExternName(name), TypeDesc(index)))

    def use_resource(self, ref: dict[str, str]) -> None:
        key = (semver_key(ref["interface"]), ref["name"])
        exported_as = ref.get("as", ref["name"])
        if exported_as in self.exported:
            return
        if key in self.resources:  # another name for a resource this type already exports
            self._export_type(exported_as, self.resources[key])
            return
        outer = self.outer_resources.get(key)
        if outer is None:
            raise IncompatibleError(
                f"{self.where}: resource {exported_as} is {ref['name']} of {ref['interface']}, "
                "which is not an import of the composed component"
            )
        aliased = self._new_type(AliasDecl(OuterAlias(TYPE, 1, outer)))
        self.resources[key] = self._export_type(exported_as, aliased)

    def own_resource(self, name: str) -> None:
        self.resources[(semver_key(self.interface), name)] = self._export_type(name, None)

    def valtype(self, t: Type | None) -> ValType | None:
        if t is None:
            return None
        return self._valtype(t)

    def _valtype(self, t: Type) -> ValType:
        k = t["k"]
        if k in PRIM_CODES:
            return PrimValType(PRIM_CODES[k])
        key = type_key(t)
        if key not in self.named and key in self.pending:
            self.named_type(self.pending[key], t)
        if key in self.named:  # refer to a compound type by a name it has here
            return self.named[key]
        if key in self.compound:
            return self.compound[key]
        index = self._new_type(TypeDecl(defvaltype(t, self._valtype, self._handle, self.where)))
        self.compound[key] = index
        return index

    def _handle(self, ref: dict[str, str]) -> int:
        key = (semver_key(ref["interface"]), ref["name"])
        if key in self.resources:
            return self.resources[key]
        # a resource this interface does not export (reached through another
        # interface's type alias, `type h = option<r>`): refer to it, do not export it
        outer = self.outer_resources.get(key)
        if outer is None:
            raise IncompatibleError(
                f"{self.where}: resource {ref['name']} of {ref['interface']} is not an import of the composed component"
            )
        self.resources[key] = self._new_type(AliasDecl(OuterAlias(TYPE, 1, outer)))
        return self.resources[key]

    def named_type(self, name: str, t: Type) -> None:
        if name in self.exported:
            return
        key = type_key(t)
        if self.pending.get(key) == name:
            del self.pending[key]
        outer = self.outer_named.get((key, name))
        if outer is not None:  # defined by another interface (a WIT `use`): alias it
            index = self._export_type(name, self._new_type(AliasDecl(OuterAlias(TYPE, 1, outer))))
        elif key in self.named:  # a twin of a type already exported here, or an alias of one
            index = self._export_type(name, self.named[key])
        elif t["k"] in PRIM_CODES:
            index = self._export_type(name, self._new_type(TypeDecl(PrimValType(PRIM_CODES[t["k"]]))))
        elif t["k"] in NOMINAL:
            index = self._export_type(
                name, self._new_type(TypeDecl(defvaltype(t, self._valtype, self._handle, self.where)))
            )
        else:
            value = self._valtype(t)
            assert isinstance(value, int)
            index = self._export_type(name, value)
        self.named.setdefault(key, index)

    def function(self, name: str, f: Item) -> None:
        params = tuple(Labeled(n, self._valtype(pt)) for n, pt in f["params"])
        functype = self._new_type(TypeDecl(FuncType(params, self.valtype(f.get("result")))))
        self.decls.append(ExportDecl(ExternName(name), FuncDesc(functype)))


def defvaltype(
    t: Type, valtype: Callable[[Type], ValType], handle: Callable[[dict[str, str]], int], where: str
) -> DefValType:
    """The definition of a compound type; `valtype` gives the index of each part, `handle`
    the index of a resource."""

    def optional(part: Type | None) -> ValType | None:
        return None if part is None else valtype(part)

    k = t["k"]
    if k == "list":
        return ListType(valtype(t["of"]))
    if k == "option":
        return OptionType(valtype(t["of"]))
    if k == "tuple":
        return TupleType(tuple(valtype(e) for e in t["of"]))
    if k == "result":
        return ResultType(optional(t.get("ok")), optional(t.get("err")))
    if k == "record":
        return RecordType(tuple(Labeled(n, valtype(ft)) for n, ft in t["fields"]))
    if k == "variant":
        return VariantType(tuple(Case(n, optional(ct)) for n, ct in t["cases"]))
    if k == "enum":
        return EnumType(tuple(t["names"]))
    if k == "flags":
        return FlagsType(tuple(t["names"]))
    if k == "own":
        return OwnType(handle(t["resource"]))
    if k == "borrow":
        return BorrowType(handle(t["resource"]))
    raise IncompatibleError(f"{where}: type {render_type(t)} cannot be composed yet")


def type_key(t: Type) -> str:
    """A type's structure as a string, resources named by the semver key of their
    interface: what makes two named types the same type."""

    def normal(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"interface", "name"}:
                return {"interface": semver_key(value["interface"]), "name": value["name"]}
            return {k: normal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [normal(v) for v in value]
        return value

    return json.dumps(normal(t), sort_keys=True)


def resource_exported_as(interface: Item, name: str, export: str) -> tuple[str, str] | None:
    """The resource (semver key of its interface, name) that `interface` (imported as
    `name`) exports as `export`, if it is one."""
    if export in interface.get("resources", []):
        return semver_key(name), export
    for ref in interface.get("uses", []):
        if ref.get("as", ref["name"]) == export:
            return semver_key(ref["interface"]), ref["name"]
    return None


def same_function(a: Item, b: Item) -> bool:
    return (
        len(a["params"]) == len(b["params"])
        and all(types_equal(x[1], y[1]) for x, y in zip(a["params"], b["params"], strict=True))
        and types_equal(a.get("result"), b.get("result"))
    )


def merge_host_interfaces(parts: list[tuple[str, ComponentModel]], host: set[tuple[str, str]]) -> list[HostInterface]:
    """Union of every part's declaration of each interface the host provides (`host`
    holds (component, import) pairs), dependencies first."""
    groups: dict[str, HostInterface] = {}
    order: list[str] = []
    for label, model in parts:
        for name, item in model.imports.items():
            if (label, name) not in host or item["kind"] != "instance":
                continue
            key = semver_key(name)
            group = groups.get(key)
            if group is None:
                group = groups[key] = HostInterface(name)
                order.append(key)
            elif (version_of(name) or (0, 0, 0)) > (version_of(group.name) or (0, 0, 0)):
                group.name = name
            group.owners.append(label)
            for fname, f in item["functions"].items():
                known = group.functions.get(fname)
                if known is not None and not same_function(known, f):
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
