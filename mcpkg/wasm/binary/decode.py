"""Reading a component binary: `read_component` (bounded, see `types.MAX_DEPTH` and
`MAX_DECODED_BYTES`), `decode_canons`."""

from __future__ import annotations

from collections.abc import Callable

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.binary.leb import Reader, malformed
from mcpkg.wasm.binary.types import (
    _CANON_OPTIONS_WITH_INDEX,
    ALIAS_SECTION,
    CANON_OPTIONS,
    COMPONENT_SECTION,
    CORE_HEAPTYPES,
    CORE_MODULE_SECTION,
    CORE_NUMTYPES,
    CORE_PREAMBLE,
    CORE_SORTS,
    CUSTOM_SECTION,
    EXPORT_SECTION,
    IMPORT_SECTION,
    INSTANCE_SECTION,
    MAX_DECODED_BYTES,
    MAX_DEPTH,
    NAME_EXTERNAL_ID,
    NAME_IMPLEMENTS,
    NAME_VERSION_SUFFIX,
    PREAMBLE,
    PRIMITIVES,
    SECTION_NAMES,
    SORTS,
    TYPE_SECTION,
    Alias,
    AliasDecl,
    AliasSection,
    AnySection,
    BorrowType,
    Canon,
    CanonLift,
    CanonLower,
    CanonOption,
    CanonResourceDrop,
    CanonResourceNew,
    CanonResourceRep,
    Case,
    Component,
    ComponentDecl,
    ComponentDesc,
    ComponentSection,
    ComponentType,
    CoreExportAlias,
    CoreExternType,
    CoreFuncRef,
    CoreFuncType,
    CoreGlobalType,
    CoreMemoryType,
    CoreModuleDesc,
    CoreModuleType,
    CoreTableType,
    CoreTagType,
    CoreType,
    CoreTypeDecl,
    CoreValType,
    DefType,
    DefValType,
    EnumType,
    Export,
    ExportAlias,
    ExportDecl,
    ExportSection,
    ExternDesc,
    ExternName,
    FixedListType,
    FlagsType,
    FromExports,
    FuncDesc,
    FuncType,
    FutureType,
    Import,
    ImportDecl,
    ImportSection,
    InlineExport,
    Instance,
    InstanceDecl,
    InstanceDesc,
    InstanceSection,
    InstanceType,
    Instantiate,
    InstantiateArg,
    Labeled,
    Limits,
    ListType,
    MapType,
    ModuleAliasDecl,
    ModuleDecl,
    ModuleExportDecl,
    ModuleImportDecl,
    ModuleTypeDecl,
    NameOption,
    OptionType,
    OuterAlias,
    OwnType,
    PrimValType,
    RecordType,
    ResourceType,
    ResultType,
    Section,
    Sort,
    StreamType,
    T,
    TupleType,
    TypeDecl,
    TypeDesc,
    TypeSection,
    ValType,
    ValueDesc,
    VariantType,
)
from mcpkg.wasm.preamble import check_preamble


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
