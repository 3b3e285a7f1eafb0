"""Read and write the Component Model binary format (design/mvp/Binary.md), in pure Python.

`read_component` splits a component into sections and decodes those that composition
needs: imports (10), exports (11), aliases (6), component instances (5), types (7,
recursively: value types, function types, component and instance types, resources) and
nested components (4, recursively). Every other section (custom, core modules, core
instances, core types, canonical functions, start, values) is kept as a raw `Section` and
copied verbatim. `encode_component` writes sections back; decoding then encoding gives the
same bytes as long as the decoded parts use minimal LEB128 integers, as every encoder does.

Malformed input, and constructs this reader does not know (newer opcodes, GC core types
inside component types), raise `InvalidArtifactError` and nothing else; no count read from
the input allocates more than the remaining bytes could hold.

Encodings checked against wasm-tools 1.262 where Binary.md and the tools disagree or where
Binary.md is silent: a `value` externdesc is `0x02 valtype` (not a value bound); a type
index used as a `valtype` is an s33 (so 65 is `c1 00`) while every other index is a u32;
extern names are `0x00 name`, `0x01 name` (legacy interface names) or `0x02 name
vec(option)` with options `0x00 implements`, `0x01 version suffix`, `0x02 external id`;
a function with no result is `0x01 0x00`; `map` is `0x63 k v`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, TypeAlias, TypeVar

from mcpkg.compose.leb import Reader, encode_name, encode_s, encode_u, encode_u32, encode_vec, malformed
from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.preamble import COMPONENT_PREAMBLE, CORE_MODULE_PREAMBLE, check_preamble

PREAMBLE = COMPONENT_PREAMBLE
CORE_PREAMBLE = CORE_MODULE_PREAMBLE

# Deepest nesting of components in components, and of component/instance types in types.
MAX_DEPTH = 64
# Bytes of decoded sections (types, imports, exports, aliases, instances) in one component,
# nested ones included. Decoded, they take ~50x their size in Python objects; real
# components hold a few hundred KiB (core modules and custom sections are not decoded and
# not counted), so this bounds memory at a few hundred MiB whatever the input.
MAX_DECODED_BYTES = 4 * 1024 * 1024

# Section ids.
CUSTOM_SECTION = 0
CORE_MODULE_SECTION = 1
CORE_INSTANCE_SECTION = 2
CORE_TYPE_SECTION = 3
COMPONENT_SECTION = 4
INSTANCE_SECTION = 5
ALIAS_SECTION = 6
TYPE_SECTION = 7
CANON_SECTION = 8
START_SECTION = 9
IMPORT_SECTION = 10
EXPORT_SECTION = 11
VALUE_SECTION = 12

SECTION_NAMES = {
    CUSTOM_SECTION: "custom",
    CORE_MODULE_SECTION: "core module",
    CORE_INSTANCE_SECTION: "core instance",
    CORE_TYPE_SECTION: "core type",
    COMPONENT_SECTION: "component",
    INSTANCE_SECTION: "instance",
    ALIAS_SECTION: "alias",
    TYPE_SECTION: "type",
    CANON_SECTION: "canon",
    START_SECTION: "start",
    IMPORT_SECTION: "import",
    EXPORT_SECTION: "export",
    VALUE_SECTION: "value",
}

T = TypeVar("T")


# =======================================================================================
# Model
# =======================================================================================

CORE_SORTS = {
    0x00: "func",
    0x01: "table",
    0x02: "memory",
    0x03: "global",
    0x10: "type",
    0x11: "module",
    0x12: "instance",
}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}


@dataclass(frozen=True)
class Sort:
    """`sort`: `code` 0x01..0x05, or 0x00 with the `core` sort byte."""

    code: int
    core: int | None = None

    def __post_init__(self) -> None:
        if self.code == 0x00:
            if self.core not in CORE_SORTS:
                raise ValueError(f"bad core sort {self.core!r}")
        elif self.code not in SORTS or self.core is not None:
            raise ValueError(f"bad sort {self.code!r}/{self.core!r}")

    @property
    def name(self) -> str:
        return f"core {CORE_SORTS[self.core]}" if self.core is not None else SORTS[self.code]


FUNC = Sort(0x01)
VALUE = Sort(0x02)
TYPE = Sort(0x03)
COMPONENT = Sort(0x04)
INSTANCE = Sort(0x05)
CORE_FUNC = Sort(0x00, 0x00)
CORE_MODULE = Sort(0x00, 0x11)
CORE_INSTANCE = Sort(0x00, 0x12)
CORE_TYPE = Sort(0x00, 0x10)

NAME_IMPLEMENTS = 0x00
NAME_VERSION_SUFFIX = 0x01
NAME_EXTERNAL_ID = 0x02


@dataclass(frozen=True)
class NameOption:
    """An option of an extern name: `kind` 0x00 implements, 0x01 version suffix, 0x02 external id."""

    kind: int
    value: str


@dataclass(frozen=True)
class ExternName:
    """An import or export name. `tag` is the leading byte: 0x00 (plain), 0x01 (legacy
    interface name, same meaning) or 0x02 (followed by `options`)."""

    name: str
    tag: int = 0x00
    options: tuple[NameOption, ...] = ()

    def __str__(self) -> str:
        return self.name


# --- value types ----------------------------------------------------------------------

PRIMITIVES = {
    0x7F: "bool",
    0x7E: "s8",
    0x7D: "u8",
    0x7C: "s16",
    0x7B: "u16",
    0x7A: "s32",
    0x79: "u32",
    0x78: "s64",
    0x77: "u64",
    0x76: "f32",
    0x75: "f64",
    0x74: "char",
    0x73: "string",
    0x64: "error-context",
}


@dataclass(frozen=True)
class PrimValType:
    code: int

    @property
    def name(self) -> str:
        return PRIMITIVES[self.code]


# A value type: a primitive, or the index of a defined value type.
ValType: TypeAlias = PrimValType | int


@dataclass(frozen=True)
class Labeled:
    """A record field or function parameter."""

    label: str
    type: ValType


@dataclass(frozen=True)
class Case:
    label: str
    type: ValType | None = None


@dataclass(frozen=True)
class RecordType:
    fields: tuple[Labeled, ...]


@dataclass(frozen=True)
class VariantType:
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class ListType:
    element: ValType


@dataclass(frozen=True)
class FixedListType:
    element: ValType
    length: int


@dataclass(frozen=True)
class TupleType:
    types: tuple[ValType, ...]


@dataclass(frozen=True)
class FlagsType:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class EnumType:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class OptionType:
    type: ValType


@dataclass(frozen=True)
class ResultType:
    ok: ValType | None = None
    err: ValType | None = None


@dataclass(frozen=True)
class OwnType:
    resource: int


@dataclass(frozen=True)
class BorrowType:
    resource: int


@dataclass(frozen=True)
class StreamType:
    element: ValType | None = None


@dataclass(frozen=True)
class FutureType:
    element: ValType | None = None


@dataclass(frozen=True)
class MapType:
    key: ValType
    value: ValType


DefValType: TypeAlias = (
    PrimValType
    | RecordType
    | VariantType
    | ListType
    | FixedListType
    | TupleType
    | FlagsType
    | EnumType
    | OptionType
    | ResultType
    | OwnType
    | BorrowType
    | StreamType
    | FutureType
    | MapType
)


@dataclass(frozen=True)
class FuncType:
    params: tuple[Labeled, ...]
    result: ValType | None = None
    is_async: bool = False


@dataclass(frozen=True)
class ResourceType:
    """`(resource (rep i32) (dtor f)?)`; `rep` is the core value type byte (0x7f, i32)."""

    dtor: int | None = None
    rep: int = 0x7F


# --- core types (only as declarations inside component and instance types) --------------

CORE_NUMTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
# Abstract heap types, which are also the one-byte nullable reference types.
CORE_HEAPTYPES = {
    0x74: "noexn",
    0x73: "nofunc",
    0x72: "noextern",
    0x71: "none",
    0x70: "func",
    0x6F: "extern",
    0x6E: "any",
    0x6D: "eq",
    0x6C: "i31",
    0x6B: "struct",
    0x6A: "array",
    0x69: "exn",
}


@dataclass(frozen=True)
class CoreValType:
    """A core value type byte; for `ref` (0x64) and `ref null` (0x63), `heap` is the s33 heap type."""

    code: int
    heap: int | None = None


@dataclass(frozen=True)
class CoreFuncType:
    params: tuple[CoreValType, ...]
    results: tuple[CoreValType, ...]


@dataclass(frozen=True)
class Limits:
    """Table and memory limits; `flags` bit 0: has max, 1: shared, 2: 64-bit, 3: page size."""

    flags: int
    minimum: int
    maximum: int | None = None
    page_size_log2: int | None = None


@dataclass(frozen=True)
class CoreFuncRef:
    type_index: int


@dataclass(frozen=True)
class CoreTableType:
    element: CoreValType
    limits: Limits


@dataclass(frozen=True)
class CoreMemoryType:
    limits: Limits


@dataclass(frozen=True)
class CoreGlobalType:
    type: CoreValType
    mutable: bool


@dataclass(frozen=True)
class CoreTagType:
    type_index: int


CoreExternType: TypeAlias = CoreFuncRef | CoreTableType | CoreMemoryType | CoreGlobalType | CoreTagType


@dataclass(frozen=True)
class ModuleImportDecl:
    module: str
    name: str
    desc: CoreExternType


@dataclass(frozen=True)
class ModuleTypeDecl:
    type: CoreFuncType


@dataclass(frozen=True)
class ModuleAliasDecl:
    """`(alias outer count index (sort))`; `sort` is a core sort byte."""

    sort: int
    count: int
    index: int


@dataclass(frozen=True)
class ModuleExportDecl:
    name: str
    desc: CoreExternType


ModuleDecl: TypeAlias = ModuleImportDecl | ModuleTypeDecl | ModuleAliasDecl | ModuleExportDecl


@dataclass(frozen=True)
class CoreModuleType:
    decls: tuple[ModuleDecl, ...]


CoreType: TypeAlias = CoreFuncType | CoreModuleType


# --- extern descriptions --------------------------------------------------------------


@dataclass(frozen=True)
class CoreModuleDesc:
    type_index: int
    kind: ClassVar[str] = "core module"


@dataclass(frozen=True)
class FuncDesc:
    type_index: int
    kind: ClassVar[str] = "func"


@dataclass(frozen=True)
class ValueDesc:
    type: ValType
    kind: ClassVar[str] = "value"


@dataclass(frozen=True)
class TypeDesc:
    """`(type (eq i))`, or `(type (sub resource))` when `eq` is None."""

    eq: int | None = None
    kind: ClassVar[str] = "type"


@dataclass(frozen=True)
class ComponentDesc:
    type_index: int
    kind: ClassVar[str] = "component"


@dataclass(frozen=True)
class InstanceDesc:
    type_index: int
    kind: ClassVar[str] = "instance"


ExternDesc: TypeAlias = CoreModuleDesc | FuncDesc | ValueDesc | TypeDesc | ComponentDesc | InstanceDesc


# --- aliases --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportAlias:
    """`(alias export instance "name" (sort))`."""

    sort: Sort
    instance: int
    name: str


@dataclass(frozen=True)
class CoreExportAlias:
    """`(alias core export core-instance "name" (core sort))`."""

    sort: Sort
    instance: int
    name: str


@dataclass(frozen=True)
class OuterAlias:
    """`(alias outer count index (sort))`."""

    sort: Sort
    count: int
    index: int


Alias: TypeAlias = ExportAlias | CoreExportAlias | OuterAlias


# --- component and instance types -------------------------------------------------------


@dataclass(frozen=True)
class CoreTypeDecl:
    type: CoreType


@dataclass(frozen=True)
class TypeDecl:
    type: DefType


@dataclass(frozen=True)
class AliasDecl:
    alias: Alias


@dataclass(frozen=True)
class ImportDecl:
    name: ExternName
    desc: ExternDesc


@dataclass(frozen=True)
class ExportDecl:
    name: ExternName
    desc: ExternDesc


InstanceDecl: TypeAlias = CoreTypeDecl | TypeDecl | AliasDecl | ExportDecl
ComponentDecl: TypeAlias = InstanceDecl | ImportDecl


@dataclass(frozen=True)
class ComponentType:
    decls: tuple[ComponentDecl, ...]


@dataclass(frozen=True)
class InstanceType:
    decls: tuple[InstanceDecl, ...]


DefType: TypeAlias = DefValType | FuncType | ComponentType | InstanceType | ResourceType


# --- instances, imports, exports --------------------------------------------------------


@dataclass(frozen=True)
class InstantiateArg:
    name: str
    sort: Sort
    index: int


@dataclass(frozen=True)
class Instantiate:
    component: int
    args: tuple[InstantiateArg, ...]


@dataclass(frozen=True)
class InlineExport:
    name: ExternName
    sort: Sort
    index: int


@dataclass(frozen=True)
class FromExports:
    exports: tuple[InlineExport, ...]


Instance: TypeAlias = Instantiate | FromExports


@dataclass(frozen=True)
class Import:
    name: ExternName
    desc: ExternDesc


@dataclass(frozen=True)
class Export:
    name: ExternName
    sort: Sort
    index: int
    desc: ExternDesc | None = None


# --- canonical functions (decoded on demand by `decode_canons`) -------------------------

CANON_OPTIONS = {
    0x00: "string-encoding=utf8",
    0x01: "string-encoding=utf16",
    0x02: "string-encoding=latin1+utf16",
    0x03: "memory",
    0x04: "realloc",
    0x05: "post-return",
    0x06: "async",
    0x07: "callback",
}
_CANON_OPTIONS_WITH_INDEX = (0x03, 0x04, 0x05, 0x07)


@dataclass(frozen=True)
class CanonOption:
    code: int
    index: int | None = None


@dataclass(frozen=True)
class CanonLift:
    core_func: int
    options: tuple[CanonOption, ...]
    type_index: int


@dataclass(frozen=True)
class CanonLower:
    func: int
    options: tuple[CanonOption, ...]


@dataclass(frozen=True)
class CanonResourceNew:
    resource: int


@dataclass(frozen=True)
class CanonResourceDrop:
    resource: int


@dataclass(frozen=True)
class CanonResourceRep:
    resource: int


Canon: TypeAlias = CanonLift | CanonLower | CanonResourceNew | CanonResourceDrop | CanonResourceRep


# --- sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A section kept as raw bytes (custom, core module, canon...), copied verbatim."""

    id: int
    payload: bytes


@dataclass(frozen=True)
class ComponentSection:
    component: Component
    id: ClassVar[int] = COMPONENT_SECTION


@dataclass(frozen=True)
class InstanceSection:
    instances: tuple[Instance, ...]
    id: ClassVar[int] = INSTANCE_SECTION


@dataclass(frozen=True)
class AliasSection:
    aliases: tuple[Alias, ...]
    id: ClassVar[int] = ALIAS_SECTION


@dataclass(frozen=True)
class TypeSection:
    types: tuple[DefType, ...]
    id: ClassVar[int] = TYPE_SECTION


@dataclass(frozen=True)
class ImportSection:
    imports: tuple[Import, ...]
    id: ClassVar[int] = IMPORT_SECTION


@dataclass(frozen=True)
class ExportSection:
    exports: tuple[Export, ...]
    id: ClassVar[int] = EXPORT_SECTION


AnySection: TypeAlias = (
    Section | ComponentSection | InstanceSection | AliasSection | TypeSection | ImportSection | ExportSection
)


@dataclass(frozen=True)
class Component:
    sections: tuple[AnySection, ...]

    @property
    def imports(self) -> tuple[Import, ...]:
        return tuple(i for s in self.sections if isinstance(s, ImportSection) for i in s.imports)

    @property
    def exports(self) -> tuple[Export, ...]:
        return tuple(e for s in self.sections if isinstance(s, ExportSection) for e in s.exports)

    def to_bytes(self) -> bytes:
        return encode_component(self.sections)


# =======================================================================================
# Decoding
# =======================================================================================


def _vec(r: Reader, what: str, read: Callable[[Reader], T], min_item_size: int = 1) -> tuple[T, ...]:
    n = r.count(what, min_item_size)
    return tuple(read(r) for _ in range(n))


def _optional(r: Reader, what: str, read: Callable[[Reader], T]) -> T | None:
    flag = r.byte(what)
    if flag == 0x00:
        return None
    if flag == 0x01:
        return read(r)
    raise malformed(f"invalid presence flag 0x{flag:02x} for {what} at offset {r.pos - 1}")


def _unsupported(r: Reader, what: str, code: int) -> InvalidArtifactError:
    return malformed(f"unsupported or invalid {what} 0x{code:02x} at offset {r.pos - 1}")


def _read_u32(r: Reader) -> int:
    return r.u32("an index")


def _read_label(r: Reader) -> str:
    return r.name("a label")


def read_extern_name(r: Reader) -> ExternName:
    tag = r.byte("an import or export name")
    if tag in (0x00, 0x01):
        return ExternName(r.name("an import or export name"), tag)
    if tag == 0x02:
        name = r.name("an import or export name")
        return ExternName(name, tag, _vec(r, "name options", _read_name_option, 2))
    raise _unsupported(r, "import/export name kind", tag)


def _read_name_option(r: Reader) -> NameOption:
    kind = r.byte("a name option")
    if kind not in (NAME_IMPLEMENTS, NAME_VERSION_SUFFIX, NAME_EXTERNAL_ID):
        raise _unsupported(r, "name option", kind)
    return NameOption(kind, r.name("a name option"))


def read_sort(r: Reader) -> Sort:
    code = r.byte("a sort")
    if code == 0x00:
        core = r.byte("a core sort")
        if core not in CORE_SORTS:
            raise _unsupported(r, "core sort", core)
        return Sort(0x00, core)
    if code not in SORTS:
        raise _unsupported(r, "sort", code)
    return Sort(code)


def read_valtype(r: Reader) -> ValType:
    code = r.peek("a value type")
    if code in PRIMITIVES:
        r.pos += 1
        return PrimValType(code)
    start = r.pos
    index = r.s(33, "a value type")
    if index < 0:
        r.pos = start + 1
        raise _unsupported(r, "value type", code)
    if index >= 1 << 32:
        raise malformed(f"type index {index} out of range at offset {start}")
    return index


def read_extern_desc(r: Reader) -> ExternDesc:
    kind = r.byte("an extern description")
    if kind == 0x00:
        core = r.byte("a core module extern description")
        if core != 0x11:
            raise _unsupported(r, "core extern description", core)
        return CoreModuleDesc(r.u32("a core type index"))
    if kind == 0x01:
        return FuncDesc(r.u32("a type index"))
    if kind == 0x02:
        return ValueDesc(read_valtype(r))
    if kind == 0x03:
        bound = r.byte("a type bound")
        if bound == 0x00:
            return TypeDesc(r.u32("a type index"))
        if bound == 0x01:
            return TypeDesc(None)
        raise _unsupported(r, "type bound", bound)
    if kind == 0x04:
        return ComponentDesc(r.u32("a type index"))
    if kind == 0x05:
        return InstanceDesc(r.u32("a type index"))
    raise _unsupported(r, "extern description", kind)


def read_alias(r: Reader) -> Alias:
    sort = read_sort(r)
    target = r.byte("an alias target")
    if target == 0x00:
        return ExportAlias(sort, r.u32("an instance index"), r.name("an export name"))
    if target == 0x01:
        return CoreExportAlias(sort, r.u32("a core instance index"), r.name("a core export name"))
    if target == 0x02:
        return OuterAlias(sort, r.u32("an outer count"), r.u32("an outer index"))
    raise _unsupported(r, "alias target", target)


def _read_instantiate_arg(r: Reader) -> InstantiateArg:
    return InstantiateArg(r.name("an instantiation argument name"), read_sort(r), r.u32("an index"))


def _read_inline_export(r: Reader) -> InlineExport:
    return InlineExport(read_extern_name(r), read_sort(r), r.u32("an index"))


def read_instance(r: Reader) -> Instance:
    kind = r.byte("an instance expression")
    if kind == 0x00:
        component = r.u32("a component index")
        return Instantiate(component, _vec(r, "instantiation arguments", _read_instantiate_arg, 3))
    if kind == 0x01:
        return FromExports(_vec(r, "inline exports", _read_inline_export, 4))
    raise _unsupported(r, "instance expression", kind)


def read_import(r: Reader) -> Import:
    return Import(read_extern_name(r), read_extern_desc(r))


def read_export(r: Reader) -> Export:
    name = read_extern_name(r)
    sort = read_sort(r)
    index = r.u32("an index")
    return Export(name, sort, index, _optional(r, "an export type ascription", read_extern_desc))


# --- types ----------------------------------------------------------------------------


def _read_labeled(r: Reader) -> Labeled:
    return Labeled(_read_label(r), read_valtype(r))


def _read_case(r: Reader) -> Case:
    label = _read_label(r)
    case = Case(label, _optional(r, "a case type", read_valtype))
    refines = r.byte("a case's trailing byte")
    if refines != 0x00:
        raise _unsupported(r, "variant case trailer (refines)", refines)
    return case


def _read_defvaltype(r: Reader, code: int) -> DefValType:
    if code in PRIMITIVES:
        return PrimValType(code)
    if code == 0x72:
        return RecordType(_vec(r, "record fields", _read_labeled, 2))
    if code == 0x71:
        return VariantType(_vec(r, "variant cases", _read_case, 3))
    if code == 0x70:
        return ListType(read_valtype(r))
    if code == 0x67:
        return FixedListType(read_valtype(r), r.u32("a list length"))
    if code == 0x6F:
        return TupleType(_vec(r, "tuple types", read_valtype))
    if code == 0x6E:
        return FlagsType(_vec(r, "flags", _read_label))
    if code == 0x6D:
        return EnumType(_vec(r, "enum cases", _read_label))
    if code == 0x6B:
        return OptionType(read_valtype(r))
    if code == 0x6A:
        ok = _optional(r, "a result type", read_valtype)
        return ResultType(ok, _optional(r, "an error type", read_valtype))
    if code == 0x69:
        return OwnType(r.u32("a resource type index"))
    if code == 0x68:
        return BorrowType(r.u32("a resource type index"))
    if code == 0x66:
        return StreamType(_optional(r, "a stream element type", read_valtype))
    if code == 0x65:
        return FutureType(_optional(r, "a future element type", read_valtype))
    if code == 0x63:
        return MapType(read_valtype(r), read_valtype(r))
    raise _unsupported(r, "type", code)


def _read_functype(r: Reader, is_async: bool) -> FuncType:
    params = _vec(r, "function parameters", _read_labeled, 2)
    kind = r.byte("a function result")
    if kind == 0x00:
        return FuncType(params, read_valtype(r), is_async)
    if kind == 0x01:
        count = r.byte("a function result")
        if count == 0x00:
            return FuncType(params, None, is_async)
        raise malformed(f"named function results (an old encoding) are not supported, at offset {r.pos - 1}")
    raise _unsupported(r, "function result list", kind)


def _read_resource(r: Reader) -> ResourceType:
    rep = r.byte("a resource representation")
    if rep != 0x7F:
        raise _unsupported(r, "resource representation", rep)
    return ResourceType(_optional(r, "a resource destructor", _read_u32), rep)


def _check_depth(r: Reader, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise malformed(f"types or components nested more than {MAX_DEPTH} deep at offset {r.pos}")


def _read_instance_decl(r: Reader, depth: int, tag: int) -> InstanceDecl:
    if tag == 0x00:
        return CoreTypeDecl(read_core_type(r))
    if tag == 0x01:
        return TypeDecl(read_deftype(r, depth))
    if tag == 0x02:
        return AliasDecl(read_alias(r))
    if tag == 0x04:
        return ExportDecl(read_extern_name(r), read_extern_desc(r))
    raise _unsupported(r, "instance type declaration", tag)


def _read_component_decl(r: Reader, depth: int) -> ComponentDecl:
    tag = r.byte("a component type declaration")
    if tag == 0x03:
        return ImportDecl(read_extern_name(r), read_extern_desc(r))
    return _read_instance_decl(r, depth, tag)


def _read_instance_type_decl(r: Reader, depth: int) -> InstanceDecl:
    return _read_instance_decl(r, depth, r.byte("an instance type declaration"))


def read_deftype(r: Reader, depth: int = 0) -> DefType:
    """One `type` (the items of a type section)."""
    _check_depth(r, depth)
    code = r.byte("a type")
    if code in (0x40, 0x43):
        return _read_functype(r, code == 0x43)
    if code == 0x41:
        n = r.count("component type declarations", 2)
        return ComponentType(tuple(_read_component_decl(r, depth + 1) for _ in range(n)))
    if code == 0x42:
        n = r.count("instance type declarations", 2)
        return InstanceType(tuple(_read_instance_type_decl(r, depth + 1) for _ in range(n)))
    if code == 0x3F:
        return _read_resource(r)
    return _read_defvaltype(r, code)


# --- core types -----------------------------------------------------------------------


def read_core_valtype(r: Reader) -> CoreValType:
    code = r.byte("a core value type")
    if code in CORE_NUMTYPES or code in CORE_HEAPTYPES:
        return CoreValType(code)
    if code in (0x63, 0x64):
        start = r.pos
        heap = r.s(33, "a heap type")
        if heap < 0 and heap + 0x80 not in CORE_HEAPTYPES:
            raise malformed(f"unsupported heap type {heap} at offset {start}")
        return CoreValType(code, heap)
    raise _unsupported(r, "core value type", code)


def _read_limits(r: Reader) -> Limits:
    flags = r.byte("limits")
    if flags & ~0x0F:
        raise _unsupported(r, "limits flags", flags)
    bits = 64 if flags & 0x04 else 32
    minimum = r.u(bits, "a minimum")
    maximum = r.u(bits, "a maximum") if flags & 0x01 else None
    page = r.u32("a page size") if flags & 0x08 else None
    return Limits(flags, minimum, maximum, page)


def _read_core_extern_type(r: Reader) -> CoreExternType:
    kind = r.byte("a core import description")
    if kind == 0x00:
        return CoreFuncRef(r.u32("a core type index"))
    if kind == 0x01:
        element = read_core_valtype(r)
        return CoreTableType(element, _read_limits(r))
    if kind == 0x02:
        return CoreMemoryType(_read_limits(r))
    if kind == 0x03:
        valtype = read_core_valtype(r)
        mutable = r.byte("a global mutability")
        if mutable not in (0x00, 0x01):
            raise _unsupported(r, "global mutability", mutable)
        return CoreGlobalType(valtype, mutable == 0x01)
    if kind == 0x04:
        attribute = r.byte("a tag attribute")
        if attribute != 0x00:
            raise _unsupported(r, "tag attribute", attribute)
        return CoreTagType(r.u32("a core type index"))
    raise _unsupported(r, "core import description", kind)


def _read_core_functype_body(r: Reader) -> CoreFuncType:
    params = _vec(r, "core function parameters", read_core_valtype)
    return CoreFuncType(params, _vec(r, "core function results", read_core_valtype))


def _read_module_decl(r: Reader) -> ModuleDecl:
    tag = r.byte("a module type declaration")
    if tag == 0x00:
        return ModuleImportDecl(r.name("a module name"), r.name("an import name"), _read_core_extern_type(r))
    if tag == 0x01:
        code = r.byte("a core type")
        if code != 0x60:
            raise _unsupported(r, "core type in a module type (only function types are supported)", code)
        return ModuleTypeDecl(_read_core_functype_body(r))
    if tag == 0x02:
        sort = r.byte("a core sort")
        if sort not in CORE_SORTS:
            raise _unsupported(r, "core sort", sort)
        target = r.byte("a core alias target")
        if target != 0x01:
            raise _unsupported(r, "core alias target", target)
        return ModuleAliasDecl(sort, r.u32("an outer count"), r.u32("an outer index"))
    if tag == 0x03:
        return ModuleExportDecl(r.name("an export name"), _read_core_extern_type(r))
    raise _unsupported(r, "module type declaration", tag)


def read_core_type(r: Reader) -> CoreType:
    """A core type as declared in a component or instance type: a function or module type
    (GC types, recursion groups and subtypes are not supported)."""
    code = r.byte("a core type")
    if code == 0x60:
        return _read_core_functype_body(r)
    if code == 0x50:
        return CoreModuleType(_vec(r, "module type declarations", _read_module_decl, 2))
    raise _unsupported(r, "core type (only function and module types are supported)", code)


# --- canonical functions ----------------------------------------------------------------


def _read_canon_option(r: Reader) -> CanonOption:
    code = r.byte("a canonical option")
    if code not in CANON_OPTIONS:
        raise _unsupported(r, "canonical option", code)
    return CanonOption(code, r.u32("an index") if code in _CANON_OPTIONS_WITH_INDEX else None)


def read_canon(r: Reader) -> Canon:
    code = r.byte("a canonical function")
    if code in (0x00, 0x01):
        sort = r.byte("a canonical function sort")
        if sort != 0x00:
            raise _unsupported(r, "canonical function sort", sort)
        index = r.u32("a function index")
        options = _vec(r, "canonical options", _read_canon_option)
        if code == 0x00:
            return CanonLift(index, options, r.u32("a type index"))
        return CanonLower(index, options)
    if code == 0x02:
        return CanonResourceNew(r.u32("a type index"))
    if code == 0x03:
        return CanonResourceDrop(r.u32("a type index"))
    if code == 0x04:
        return CanonResourceRep(r.u32("a type index"))
    raise _unsupported(r, "canonical function (async and thread built-ins are not supported)", code)


def decode_canons(payload: bytes) -> tuple[Canon, ...]:
    """The items of a canon section (lift, lower, resource.new/drop/rep only)."""
    r = Reader(payload)
    items = _vec(r, "canonical functions", read_canon, 2)
    r.expect_end("the canon section")
    return items


# --- sections and components --------------------------------------------------------------


def _section_items(r: Reader, what: str, read: Callable[[Reader], T], min_item_size: int) -> tuple[T, ...]:
    items = _vec(r, f"{what} section items", read, min_item_size)
    r.expect_end(f"the {what} section")
    return items


class _Budget:
    """What is left of `MAX_DECODED_BYTES` for one `read_component` call."""

    def __init__(self) -> None:
        self.left = MAX_DECODED_BYTES

    def spend(self, size: int, sid: int, start: int) -> None:
        self.left -= size
        if self.left < 0:
            raise InvalidArtifactError(
                f"the {SECTION_NAMES[sid]} section at offset {start} takes the component's type, import "
                f"and export sections over {MAX_DECODED_BYTES // (1024 * 1024)} MiB, mcpkg's limit",
                "real components hold a few hundred KiB of these; this one is not one mcpkg can compose",
            )


def _decode_section(data: bytes, sid: int, start: int, end: int, depth: int, budget: _Budget) -> AnySection:
    r = Reader(data, start, end)
    if sid == COMPONENT_SECTION:
        return ComponentSection(_read_component(data, start, end, depth + 1, budget))
    if sid in (INSTANCE_SECTION, ALIAS_SECTION, TYPE_SECTION, IMPORT_SECTION, EXPORT_SECTION):
        budget.spend(end - start, sid, start)
    if sid == INSTANCE_SECTION:
        return InstanceSection(_section_items(r, "instance", read_instance, 2))
    if sid == ALIAS_SECTION:
        return AliasSection(_section_items(r, "alias", read_alias, 4))
    if sid == TYPE_SECTION:
        return TypeSection(_section_items(r, "type", lambda r: read_deftype(r, depth), 1))
    if sid == IMPORT_SECTION:
        return ImportSection(_section_items(r, "import", read_import, 4))
    if sid == EXPORT_SECTION:
        return ExportSection(_section_items(r, "export", read_export, 5))
    if sid == CUSTOM_SECTION:
        r.name("a custom section name")
    elif sid == CORE_MODULE_SECTION and data[start : start + 8] != CORE_PREAMBLE:
        raise malformed(f"the core module section at offset {start} does not hold a core module")
    elif sid not in SECTION_NAMES:
        raise malformed(f"unknown section id {sid} at offset {start}")
    return Section(sid, data[start:end])


def _read_component(data: bytes, start: int, end: int, depth: int, budget: _Budget) -> Component:
    r = Reader(data, start, end)
    _check_depth(r, depth)
    head = data[start : min(end, start + 8)]
    if head != PREAMBLE:
        check_preamble(head, f"the nested component at offset {start}")
        raise malformed(f"the nested component at offset {start} has no valid preamble")
    r.pos += 8
    sections: list[AnySection] = []
    while not r.at_end():
        sid = r.byte("a section id")
        size = r.u32("a section size")
        if size > r.remaining:
            raise malformed(
                f"the {SECTION_NAMES.get(sid, 'unknown')} section at offset {r.pos} claims {size} bytes, "
                f"only {r.remaining} remain"
            )
        sections.append(_decode_section(data, sid, r.pos, r.pos + size, depth, budget))
        r.pos += size
    return Component(tuple(sections))


def read_component(data: bytes, what: str = "the input") -> Component:
    """Split a component binary into sections, decoding those that composition needs."""
    data = bytes(data)
    check_preamble(data[:8], what)
    return _read_component(data, 0, len(data), 0, _Budget())


def top_level(component: Component) -> tuple[dict[str, str], dict[str, str]]:
    """The top-level import and export names, each with its kind ("instance", "func",
    "type", "component", "value", "core module")."""
    imports = {i.name.name: i.desc.kind for i in component.imports}
    exports = {e.name.name: e.desc.kind if e.desc is not None else e.sort.name for e in component.exports}
    return imports, exports


# =======================================================================================
# Encoding
# =======================================================================================


def _opt_valtype(t: ValType | None) -> bytes:
    return b"\x00" if t is None else b"\x01" + encode_valtype(t)


def encode_extern_name(name: ExternName) -> bytes:
    if name.tag in (0x00, 0x01):
        if name.options:
            raise ValueError("name options need the 0x02 name tag")
        return bytes([name.tag]) + encode_name(name.name)
    if name.tag == 0x02:
        options = [bytes([o.kind]) + encode_name(o.value) for o in name.options]
        return b"\x02" + encode_name(name.name) + encode_vec(options)
    raise ValueError(f"bad extern name tag {name.tag}")


def encode_sort(sort: Sort) -> bytes:
    return bytes([0x00, sort.core]) if sort.core is not None else bytes([sort.code])


def encode_valtype(t: ValType) -> bytes:
    if isinstance(t, PrimValType):
        return bytes([t.code])
    if not 0 <= t < 1 << 32:
        raise ValueError(f"type index {t} out of range")
    return encode_s(t, 33)  # a type index is an s33 here, so that it cannot be taken for a primitive


def encode_extern_desc(desc: ExternDesc) -> bytes:
    match desc:
        case CoreModuleDesc(type_index=i):
            return b"\x00\x11" + encode_u32(i)
        case FuncDesc(type_index=i):
            return b"\x01" + encode_u32(i)
        case ValueDesc(type=t):
            return b"\x02" + encode_valtype(t)
        case TypeDesc(eq=None):
            return b"\x03\x01"
        case TypeDesc(eq=int(i)):
            return b"\x03\x00" + encode_u32(i)
        case ComponentDesc(type_index=i):
            return b"\x04" + encode_u32(i)
        case InstanceDesc(type_index=i):
            return b"\x05" + encode_u32(i)
    raise TypeError(f"not an extern description: {desc!r}")


def encode_alias(alias: Alias) -> bytes:
    match alias:
        case ExportAlias(sort=sort, instance=i, name=name):
            return encode_sort(sort) + b"\x00" + encode_u32(i) + encode_name(name)
        case CoreExportAlias(sort=sort, instance=i, name=name):
            return encode_sort(sort) + b"\x01" + encode_u32(i) + encode_name(name)
        case OuterAlias(sort=sort, count=count, index=i):
            return encode_sort(sort) + b"\x02" + encode_u32(count) + encode_u32(i)
    raise TypeError(f"not an alias: {alias!r}")


def encode_instance(instance: Instance) -> bytes:
    match instance:
        case Instantiate(component=c, args=args):
            items = [encode_name(a.name) + encode_sort(a.sort) + encode_u32(a.index) for a in args]
            return b"\x00" + encode_u32(c) + encode_vec(items)
        case FromExports(exports=exports):
            items = [encode_extern_name(e.name) + encode_sort(e.sort) + encode_u32(e.index) for e in exports]
            return b"\x01" + encode_vec(items)
    raise TypeError(f"not an instance: {instance!r}")


def encode_import(item: Import) -> bytes:
    return encode_extern_name(item.name) + encode_extern_desc(item.desc)


def encode_export(item: Export) -> bytes:
    head = encode_extern_name(item.name) + encode_sort(item.sort) + encode_u32(item.index)
    return head + (b"\x00" if item.desc is None else b"\x01" + encode_extern_desc(item.desc))


def _labeled(items: tuple[Labeled, ...]) -> bytes:
    return encode_vec([encode_name(f.label) + encode_valtype(f.type) for f in items])


def _labels(labels: tuple[str, ...]) -> bytes:
    return encode_vec([encode_name(label) for label in labels])


def encode_defvaltype(t: DefValType) -> bytes:
    match t:
        case PrimValType(code=code):
            return bytes([code])
        case RecordType(fields=fields):
            return b"\x72" + _labeled(fields)
        case VariantType(cases=cases):
            return b"\x71" + encode_vec([encode_name(c.label) + _opt_valtype(c.type) + b"\x00" for c in cases])
        case ListType(element=e):
            return b"\x70" + encode_valtype(e)
        case FixedListType(element=e, length=n):
            return b"\x67" + encode_valtype(e) + encode_u32(n)
        case TupleType(types=types):
            return b"\x6f" + encode_vec([encode_valtype(x) for x in types])
        case FlagsType(labels=labels):
            return b"\x6e" + _labels(labels)
        case EnumType(labels=labels):
            return b"\x6d" + _labels(labels)
        case OptionType(type=x):
            return b"\x6b" + encode_valtype(x)
        case ResultType(ok=ok, err=err):
            return b"\x6a" + _opt_valtype(ok) + _opt_valtype(err)
        case OwnType(resource=i):
            return b"\x69" + encode_u32(i)
        case BorrowType(resource=i):
            return b"\x68" + encode_u32(i)
        case StreamType(element=e):
            return b"\x66" + _opt_valtype(e)
        case FutureType(element=e):
            return b"\x65" + _opt_valtype(e)
        case MapType(key=k, value=v):
            return b"\x63" + encode_valtype(k) + encode_valtype(v)
    raise TypeError(f"not a value type definition: {t!r}")


def _encode_decl(decl: ComponentDecl) -> bytes:
    match decl:
        case CoreTypeDecl(type=t):
            return b"\x00" + encode_core_type(t)
        case TypeDecl(type=t):
            return b"\x01" + encode_deftype(t)
        case AliasDecl(alias=a):
            return b"\x02" + encode_alias(a)
        case ImportDecl(name=name, desc=desc):
            return b"\x03" + encode_extern_name(name) + encode_extern_desc(desc)
        case ExportDecl(name=name, desc=desc):
            return b"\x04" + encode_extern_name(name) + encode_extern_desc(desc)
    raise TypeError(f"not a declaration: {decl!r}")


def encode_deftype(t: DefType) -> bytes:
    match t:
        case FuncType(params=params, result=result, is_async=is_async):
            results = b"\x01\x00" if result is None else b"\x00" + encode_valtype(result)
            return (b"\x43" if is_async else b"\x40") + _labeled(params) + results
        case ComponentType(decls=decls):
            return b"\x41" + encode_vec([_encode_decl(d) for d in decls])
        case InstanceType(decls=idecls):
            if any(isinstance(d, ImportDecl) for d in idecls):
                raise ValueError("an instance type cannot declare imports")
            return b"\x42" + encode_vec([_encode_decl(d) for d in idecls])
        case ResourceType(dtor=dtor, rep=rep):
            return b"\x3f" + bytes([rep]) + (b"\x00" if dtor is None else b"\x01" + encode_u32(dtor))
    return encode_defvaltype(t)


def encode_core_valtype(t: CoreValType) -> bytes:
    return bytes([t.code]) if t.heap is None else bytes([t.code]) + encode_s(t.heap, 33)


def _encode_limits(limits: Limits) -> bytes:
    bits = 64 if limits.flags & 0x04 else 32
    if (limits.maximum is not None) != bool(limits.flags & 0x01):
        raise ValueError("limits: the has-maximum flag and the maximum disagree")
    if (limits.page_size_log2 is not None) != bool(limits.flags & 0x08):
        raise ValueError("limits: the page-size flag and the page size disagree")
    out = bytes([limits.flags]) + encode_u(limits.minimum, bits)
    if limits.maximum is not None:
        out += encode_u(limits.maximum, bits)
    if limits.page_size_log2 is not None:
        out += encode_u32(limits.page_size_log2)
    return out


def _encode_core_extern_type(desc: CoreExternType) -> bytes:
    match desc:
        case CoreFuncRef(type_index=i):
            return b"\x00" + encode_u32(i)
        case CoreTableType(element=e, limits=limits):
            return b"\x01" + encode_core_valtype(e) + _encode_limits(limits)
        case CoreMemoryType(limits=limits):
            return b"\x02" + _encode_limits(limits)
        case CoreGlobalType(type=t, mutable=mutable):
            return b"\x03" + encode_core_valtype(t) + (b"\x01" if mutable else b"\x00")
        case CoreTagType(type_index=i):
            return b"\x04\x00" + encode_u32(i)
    raise TypeError(f"not a core extern type: {desc!r}")


def _encode_core_functype_body(t: CoreFuncType) -> bytes:
    return encode_vec([encode_core_valtype(p) for p in t.params]) + encode_vec(
        [encode_core_valtype(p) for p in t.results]
    )


def _encode_module_decl(decl: ModuleDecl) -> bytes:
    match decl:
        case ModuleImportDecl(module=module, name=name, desc=desc):
            return b"\x00" + encode_name(module) + encode_name(name) + _encode_core_extern_type(desc)
        case ModuleTypeDecl(type=t):
            return b"\x01\x60" + _encode_core_functype_body(t)
        case ModuleAliasDecl(sort=sort, count=count, index=i):
            return b"\x02" + bytes([sort]) + b"\x01" + encode_u32(count) + encode_u32(i)
        case ModuleExportDecl(name=name, desc=desc):
            return b"\x03" + encode_name(name) + _encode_core_extern_type(desc)
    raise TypeError(f"not a module type declaration: {decl!r}")


def encode_core_type(t: CoreType) -> bytes:
    match t:
        case CoreFuncType():
            return b"\x60" + _encode_core_functype_body(t)
        case CoreModuleType(decls=decls):
            return b"\x50" + encode_vec([_encode_module_decl(d) for d in decls])
    raise TypeError(f"not a core type: {t!r}")


def _encode_canon_options(options: tuple[CanonOption, ...]) -> bytes:
    return encode_vec([bytes([o.code]) + (b"" if o.index is None else encode_u32(o.index)) for o in options])


def encode_canon(canon: Canon) -> bytes:
    match canon:
        case CanonLift(core_func=f, options=options, type_index=t):
            return b"\x00\x00" + encode_u32(f) + _encode_canon_options(options) + encode_u32(t)
        case CanonLower(func=f, options=options):
            return b"\x01\x00" + encode_u32(f) + _encode_canon_options(options)
        case CanonResourceNew(resource=t):
            return b"\x02" + encode_u32(t)
        case CanonResourceDrop(resource=t):
            return b"\x03" + encode_u32(t)
        case CanonResourceRep(resource=t):
            return b"\x04" + encode_u32(t)
    raise TypeError(f"not a canonical function: {canon!r}")


def encode_canons(canons: Iterable[Canon]) -> bytes:
    """The payload of a canon section."""
    return encode_vec([encode_canon(c) for c in canons])


def section_payload(section: AnySection) -> bytes:
    """The payload bytes of a section, raw or decoded."""
    match section:
        case Section(payload=payload):
            return payload
        case ComponentSection(component=component):
            return encode_component(component.sections)
        case InstanceSection(instances=instances):
            return encode_vec([encode_instance(i) for i in instances])
        case AliasSection(aliases=aliases):
            return encode_vec([encode_alias(a) for a in aliases])
        case TypeSection(types=types):
            return encode_vec([encode_deftype(t) for t in types])
        case ImportSection(imports=imports):
            return encode_vec([encode_import(i) for i in imports])
        case ExportSection(exports=exports):
            return encode_vec([encode_export(e) for e in exports])
    raise TypeError(f"not a section: {section!r}")


def raw_section(section: AnySection) -> Section:
    """The section as id + payload bytes."""
    return section if isinstance(section, Section) else Section(section.id, section_payload(section))


def encode_chunks(sections: Iterable[AnySection]) -> list[bytes]:
    """The component binary as a list of chunks whose concatenation is the binary: raw
    payloads (nested components of many MB) are referenced, never copied."""
    chunks = [PREAMBLE]
    for section in sections:
        payload = section_payload(section)
        chunks.append(bytes([section.id]) + encode_u32(len(payload)))
        chunks.append(payload)
    return chunks


def encode_component(sections: Iterable[AnySection] | Component) -> bytes:
    """A component binary: the preamble, then each section as id, u32 size, payload."""
    if isinstance(sections, Component):
        sections = sections.sections
    out = bytearray(PREAMBLE)
    for section in sections:
        payload = section_payload(section)
        out.append(section.id)
        out += encode_u32(len(payload))
        out += payload
    return bytes(out)
