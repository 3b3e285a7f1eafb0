"""The component binary format's model: section ids, sorts, value and core types,
declarations, aliases, instances, canonical functions and sections, as frozen dataclasses;
the constants and limits the reader enforces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias, TypeVar

from mcpkg.wasm.binary.sections import (  # re-exported: the model's constants live there
    ALIAS_SECTION,
    CANON_SECTION,
    COMPONENT_SECTION,
    CORE_INSTANCE_SECTION,
    CORE_MODULE_SECTION,
    CORE_PREAMBLE,
    CORE_TYPE_SECTION,
    CUSTOM_SECTION,
    EXPORT_SECTION,
    IMPORT_SECTION,
    INSTANCE_SECTION,
    MAX_DECODED_BYTES,
    MAX_DEPTH,
    PREAMBLE,
    SECTION_NAMES,
    START_SECTION,
    TYPE_SECTION,
    VALUE_SECTION,
)

__all__ = [
    "ALIAS_SECTION",
    "CANON_SECTION",
    "COMPONENT_SECTION",
    "CORE_INSTANCE_SECTION",
    "CORE_MODULE_SECTION",
    "CORE_PREAMBLE",
    "CORE_TYPE_SECTION",
    "CUSTOM_SECTION",
    "EXPORT_SECTION",
    "IMPORT_SECTION",
    "INSTANCE_SECTION",
    "MAX_DECODED_BYTES",
    "MAX_DEPTH",
    "PREAMBLE",
    "SECTION_NAMES",
    "START_SECTION",
    "TYPE_SECTION",
    "VALUE_SECTION",
]

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
