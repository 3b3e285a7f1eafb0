"""A component's world-level type imports, read from its binary.

A WIT world that `use`s a type at world level (`use types.{kelp};`, then
`import f: func(x: kelp);`) gives the component a *type* import: wit-component writes
`(alias export $types "kelp" (type $t))` then `(import "kelp" (type (eq $t)))`. wasmtime
does not list type imports among a component's imports, so the composer learns them from
the binary: each one's name and the interface export it is bound to.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpkg.wasm.binary.decode import read_component
from mcpkg.wasm.binary.types import (
    INSTANCE,
    TYPE,
    AliasSection,
    ExportAlias,
    ExportSection,
    ImportSection,
    InstanceDesc,
    InstanceSection,
    TypeDesc,
    TypeSection,
)


@dataclass(frozen=True)
class TypeImport:
    """`name` is bound to export `export` of the component's import `interface`; both
    None when the binary binds it to something else (a type of its own)."""

    name: str
    interface: str | None
    export: str | None


def type_imports(data: bytes, what: str = "the component") -> list[TypeImport]:
    """The top-level type imports of a component binary, in order."""
    component = read_component(data, what)
    instance_names: list[str | None] = []  # the instance index space: import name or None
    type_origin: list[tuple[str, str] | None] = []  # the type index space: (interface, export) or None
    found: list[TypeImport] = []
    for section in component.sections:
        if isinstance(section, TypeSection):
            type_origin.extend(None for _ in section.types)
        elif isinstance(section, InstanceSection):
            instance_names.extend(None for _ in section.instances)
        elif isinstance(section, AliasSection):
            for alias in section.aliases:
                if alias.sort == TYPE:
                    source = None
                    if isinstance(alias, ExportAlias) and alias.instance < len(instance_names):
                        interface = instance_names[alias.instance]
                        source = None if interface is None else (interface, alias.name)
                    type_origin.append(source)
                elif alias.sort == INSTANCE:
                    instance_names.append(None)
        elif isinstance(section, ImportSection):
            for item in section.imports:
                if isinstance(item.desc, InstanceDesc):
                    instance_names.append(item.name.name)
                elif isinstance(item.desc, TypeDesc):
                    eq = item.desc.eq
                    origin = type_origin[eq] if eq is not None and eq < len(type_origin) else None
                    found.append(TypeImport(item.name.name, *(origin or (None, None))))
                    type_origin.append(origin)
        elif isinstance(section, ExportSection):
            for export in section.exports:
                if export.sort == TYPE:
                    type_origin.append(None)
                elif export.sort == INSTANCE:
                    instance_names.append(None)
    return found
