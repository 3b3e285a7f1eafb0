"""Writing a component binary: `encode_component`, `encode_chunks` (large payloads
referenced, never copied), and the encoders of every decoded construct."""

from __future__ import annotations

from collections.abc import Iterable

from mcpkg.wasm.binary.leb import encode_name, encode_s, encode_u, encode_u32, encode_vec
from mcpkg.wasm.binary.types import (
    PREAMBLE,
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
    Instance,
    InstanceDesc,
    InstanceSection,
    InstanceType,
    Instantiate,
    Labeled,
    Limits,
    ListType,
    MapType,
    ModuleAliasDecl,
    ModuleDecl,
    ModuleExportDecl,
    ModuleImportDecl,
    ModuleTypeDecl,
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
    TupleType,
    TypeDecl,
    TypeDesc,
    TypeSection,
    ValType,
    ValueDesc,
    VariantType,
)


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
