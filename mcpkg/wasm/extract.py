"""Read a compiled component's type with wasmtime into the plain model of `model.py`.

Resources are named by the first interface in which they appear, walking imports then
exports in the component's own order: wit-component emits dependencies first, so an
imported `output-stream` is found in `wasi:io/streams` before any interface that merely
`use`s it. Handles are matched to those resources with wasmtime's own resource equality,
which holds within one component.
"""

from __future__ import annotations

from typing import Any

from mcpkg.wasm.model import ComponentModel, Item, Type


class _Extractor:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.resources: list[tuple[Any, dict[str, str]]] = []

    def resource_ref(self, resource: Any) -> dict[str, str]:
        for known, ref in self.resources:
            if known == resource:
                return ref
        return {"interface": "?", "name": "?"}

    def register(self, interface: str, instance: Any) -> None:
        from wasmtime.component import ResourceType

        for name, ext in instance.exports(self.engine).items():
            ty = ext.ty
            if isinstance(ty, ResourceType) and not any(known == ty for known, _ in self.resources):
                self.resources.append((ty, {"interface": interface, "name": name}))

    def valtype(self, t: Any) -> Type:
        import wasmtime.component as wc

        simple = {
            wc.Bool: "bool", wc.S8: "s8", wc.S16: "s16", wc.S32: "s32", wc.S64: "s64",
            wc.U8: "u8", wc.U16: "u16", wc.U32: "u32", wc.U64: "u64", wc.F32: "f32",
            wc.F64: "f64", wc.Char: "char", wc.String: "string", wc.ErrorContext: "error-context",
        }  # fmt: skip
        for cls, name in simple.items():
            if isinstance(t, cls):
                return {"k": name}
        if isinstance(t, wc.ListType):
            return {"k": "list", "of": self.valtype(t.element)}
        if isinstance(t, wc.OptionType):
            return {"k": "option", "of": self.valtype(t.payload)}
        if isinstance(t, wc.ResultType):
            return {"k": "result", "ok": self.opt(t.ok), "err": self.opt(t.err)}
        if isinstance(t, wc.TupleType):
            return {"k": "tuple", "of": [self.valtype(e) for e in t.elements]}
        if isinstance(t, wc.RecordType):
            return {"k": "record", "fields": [[n, self.valtype(ft)] for n, ft in t.fields]}
        if isinstance(t, wc.VariantType):
            return {"k": "variant", "cases": [[n, self.opt(ct)] for n, ct in t.cases]}
        if isinstance(t, wc.EnumType):
            return {"k": "enum", "names": list(t.names)}
        if isinstance(t, wc.FlagsType):
            return {"k": "flags", "names": list(t.names)}
        if isinstance(t, wc.OwnType):
            return {"k": "own", "resource": self.resource_ref(t.ty)}
        if isinstance(t, wc.BorrowType):
            return {"k": "borrow", "resource": self.resource_ref(t.ty)}
        if isinstance(t, wc.FutureType):
            return {"k": "future", "of": self.opt(t.payload)}
        if isinstance(t, wc.StreamType):
            return {"k": "stream", "of": self.opt(t.payload)}
        return {"k": "unknown"}

    def opt(self, t: Any) -> Type | None:
        return None if t is None else self.valtype(t)

    def func(self, f: Any) -> Item:
        return {"params": [[n, self.valtype(pt)] for n, pt in f.params], "result": self.opt(f.result)}

    def item(self, own_name: str, ext: Any) -> Item:
        import wasmtime.component as wc

        ty = ext.ty
        if isinstance(ty, wc.ComponentInstanceType):
            functions: dict[str, Item] = {}
            resources: list[str] = []
            uses: list[dict[str, str]] = []
            types: dict[str, Type] = {}
            for name, inner in ty.exports(self.engine).items():
                inner_ty = inner.ty
                if isinstance(inner_ty, wc.FuncType):
                    functions[name] = self.func(inner_ty)
                elif isinstance(inner_ty, wc.ResourceType):
                    ref = self.resource_ref(inner_ty)
                    if ref["interface"] == own_name and ref["name"] == name:
                        resources.append(name)
                    elif ref["name"] == name:
                        uses.append(ref)
                    else:  # another name for a resource (`type headers = fields`)
                        uses.append({**ref, "as": name})
                elif isinstance(inner_ty, (wc.ComponentType, wc.ModuleType, wc.ComponentInstanceType)):
                    continue
                else:
                    types[name] = self.valtype(inner_ty)
            return {"kind": "instance", "functions": functions, "resources": resources, "uses": uses, "types": types}
        if isinstance(ty, wc.FuncType):
            return {"kind": "func", **self.func(ty)}
        if isinstance(ty, wc.ResourceType):
            return {"kind": "resource"}
        if isinstance(ty, wc.ComponentType):
            return {"kind": "component"}
        if isinstance(ty, wc.ModuleType):
            return {"kind": "module"}
        return {"kind": "type"}


def extract_model(engine: Any, component: Any) -> ComponentModel:
    """The model of a compiled `wasmtime.component.Component`."""

    import wasmtime.component as wc

    component_type = component.type
    imports = component_type.imports(engine)
    exports = component_type.exports(engine)
    extractor = _Extractor(engine)
    for name, ext in [*imports.items(), *exports.items()]:
        if isinstance(ext.ty, wc.ComponentInstanceType):
            extractor.register(name, ext.ty)
    return ComponentModel(
        {name: extractor.item(name, ext) for name, ext in imports.items()},
        {name: extractor.item(name, ext) for name, ext in exports.items()},
    )
