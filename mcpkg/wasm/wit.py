"""Render a component model as WIT text, in the shape `wasm-tools component wit` prints:
a `root` world naming every import and export, then each package with its interfaces
(uses, named types, resources with their methods, free functions). Pure.

wasmtime reports types structurally, so type names come from the names each interface
exports; a named type already defined by an earlier interface of the same package is
rendered as a `use` of it.
"""

from __future__ import annotations

from mcpkg.wasm.model import ComponentModel, Item, Type, canonical_text, render_type

INDENT = "  "


def _package_of(name: str) -> tuple[str, str] | None:
    """`wasi:io/streams@0.2.9` -> (`wasi:io@0.2.9`, `streams`)."""
    if ":" not in name or "/" not in name:
        return None
    base, _, version = name.partition("@")
    pkg, _, iface = base.partition("/")
    return (f"{pkg}@{version}" if version else pkg), iface


def _render_definition(name: str, t: Type, names: dict[str, str]) -> list[str]:
    k = t["k"]
    if k == "record":
        fields = [f"{INDENT}{n}: {render_type(ft, names)}," for n, ft in t["fields"]]
        return [f"record {name} {{", *fields, "}"]
    if k == "variant":
        cases = [f"{INDENT}{n}," if ct is None else f"{INDENT}{n}({render_type(ct, names)})," for n, ct in t["cases"]]
        return [f"variant {name} {{", *cases, "}"]
    if k in ("enum", "flags"):
        return [f"{k} {name} {{", *(f"{INDENT}{n}," for n in t["names"]), "}"]
    return [f"type {name} = {render_type(t, names)};"]


def _render_interface(full: str, item: Item, defined: dict[str, tuple[str, str]]) -> list[str]:
    """Lines of one interface body. `defined` maps canonical type text -> (interface, name)
    for named types defined earlier; updated with this interface's definitions."""
    _, _short = _package_of(full) or ("", full)
    pkg = (_package_of(full) or ("", ""))[0]
    lines: list[str] = []
    uses: dict[str, list[str]] = {}
    aliases: list[str] = []
    for ref in item.get("uses", []):
        if "as" in ref and ref["interface"] == full:
            aliases.append(f"type {ref['as']} = {ref['name']};")
        elif "as" in ref:
            uses.setdefault(ref["interface"], []).append(f"{ref['name']} as {ref['as']}")
        else:
            uses.setdefault(ref["interface"], []).append(ref["name"])
    names: dict[str, str] = {}
    own_types: list[tuple[str, Type]] = []
    for tname, t in item.get("types", {}).items():
        canonical = canonical_text(t)
        if t["k"] in ("record", "variant", "enum", "flags"):
            names[canonical] = tname
            origin = defined.get(canonical)
            if origin is not None and origin[0] != full and origin[1] == tname:
                uses.setdefault(origin[0], []).append(tname)
                continue
            defined.setdefault(canonical, (full, tname))
        own_types.append((tname, t))
    for iface, used in uses.items():
        target = iface
        other = _package_of(iface)
        if other and other[0] == pkg:
            target = other[1]
        lines.append(f"use {target}.{{{', '.join(dict.fromkeys(used))}}};")
    if uses:
        lines.append("")
    for tname, t in own_types:
        lines.extend(_render_definition(tname, t, names))
        lines.append("")
    functions = item.get("functions", {})
    for resource in item.get("resources", []):
        members: list[str] = []
        for fname, f in functions.items():
            params = [f"{n}: {render_type(pt, names)}" for n, pt in f["params"]]
            result = f.get("result")
            arrow = f" -> {render_type(result, names)}" if result is not None else ""
            if fname == f"[constructor]{resource}":
                members.append(f"constructor({', '.join(params)});")
            elif fname.startswith(f"[method]{resource}."):
                members.append(f"{fname.split('.', 1)[1]}: func({', '.join(params[1:])}){arrow};")
            elif fname.startswith(f"[static]{resource}."):
                members.append(f"{fname.split('.', 1)[1]}: static func({', '.join(params)}){arrow};")
        if members:
            lines.extend([f"resource {resource} {{", *(INDENT + m for m in members), "}"])
        else:
            lines.append(f"resource {resource};")
        lines.append("")
    for fname, f in functions.items():
        if fname.startswith("["):
            continue
        joined = ", ".join(f"{n}: {render_type(pt, names)}" for n, pt in f["params"])
        result = f.get("result")
        arrow = f" -> {render_type(result, names)}" if result is not None else ""
        lines.append(f"{fname}: func({joined}){arrow};")
    if aliases:
        lines.extend([*aliases, ""])
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def render_wit(model: ComponentModel) -> str:
    out = ["package root:component;", "", "world root {"]
    for name, item in model.imports.items():
        out.append(f"{INDENT}import {name};" if _package_of(name) else f"{INDENT}import {name}: {_kind(item)};")
    if model.imports and model.exports:
        out.append("")
    for name, item in model.exports.items():
        out.append(f"{INDENT}export {name};" if _package_of(name) else f"{INDENT}export {name}: {_kind(item)};")
    out.append("}")
    packages: dict[str, list[tuple[str, str, Item]]] = {}
    for name, item in [*model.imports.items(), *model.exports.items()]:
        parsed = _package_of(name)
        if parsed is None or item["kind"] != "instance":
            continue
        packages.setdefault(parsed[0], []).append((parsed[1], name, item))
    defined: dict[str, tuple[str, str]] = {}
    for pkg, interfaces in packages.items():
        out.append(f"package {pkg} {{")
        seen: set[str] = set()
        for short, full, item in interfaces:
            if short in seen:
                continue
            seen.add(short)
            body = _render_interface(full, item, defined)
            out.append(f"{INDENT}interface {short} {{")
            out.extend(f"{INDENT * 2}{line}" if line else "" for line in body)
            out.append(f"{INDENT}}}")
        out.append("}")
    return "\n".join(out) + "\n"


def _kind(item: Item) -> str:
    if item["kind"] == "func":
        params = ", ".join(f"{n}: {render_type(t)}" for n, t in item["params"])
        result = item.get("result")
        return f"func({params})" + (f" -> {render_type(result)}" if result is not None else "")
    if item["kind"] == "instance":
        return "interface { ... }"
    return str(item["kind"])
