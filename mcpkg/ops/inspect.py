"""`mcpkg inspect`: what a component is, from its file or its registry artifact.

Types always come from wasmtime's reading of the binary (cached by digest); for a
registry artifact they are compared with what the publisher declared in the config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpkg.cache import hash_file
from mcpkg.infile import looks_like_path, readable_file
from mcpkg.ops.context import Context
from mcpkg.ops.pull import pull
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel, canonical_text, render_func
from mcpkg.wasm.roles import classify, wasmcp_roles, world_target
from mcpkg.wasm.wit import render_wit


def type_names(model: ComponentModel) -> dict[str, str]:
    """Canonical text -> the name an interface gives it (first one wins), for display."""
    names: dict[str, str] = {}
    for item in [*model.imports.values(), *model.exports.values()]:
        for name, t in item.get("types", {}).items():
            if t["k"] in ("record", "variant", "enum", "flags"):
                names.setdefault(canonical_text(t), name)
    return names


def _interfaces(items: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in items.items():
        if item["kind"] == "instance":
            out[name] = {
                "resources": item.get("resources", []),
                "functions": {f: render_func(sig, names) for f, sig in item["functions"].items()},
            }
        elif item["kind"] == "func":
            out[name] = {"func": render_func(item, names)}
        else:
            out[name] = {"kind": item["kind"]}
    return out


def model_report(model: ComponentModel) -> dict[str, Any]:
    roles = classify(model)
    names = type_names(model)
    return {
        "roles": [{"world": r.world, "target": world_target(r.world), "position": r.position} for r in roles],
        "wasmcp": wasmcp_roles(model),
        "imports": list(model.import_names),
        "exports": list(model.export_names),
        "types": {"imports": _interfaces(model.imports, names), "exports": _interfaces(model.exports, names)},
    }


def inspect_file(ctx: Context, path: Path) -> tuple[dict[str, Any], ComponentModel]:
    readable_file(path, "component")
    digest, size = hash_file(path)
    model = component_model(path, digest, ctx.cache, str(path))
    return {"file": str(path), "layer-digest": str(digest), "size": size, **model_report(model)}, model


def inspect_reference(ctx: Context, text: str) -> tuple[dict[str, Any], ComponentModel]:
    pulled = pull(ctx, text)
    manifest_bytes = ctx.cache.read_blob(pulled.reference.digest) if pulled.reference.digest else None
    layer = pulled.manifest.layer
    model = component_model(pulled.layer_path, layer.digest, ctx.cache, str(pulled.reference))
    warnings = []
    declared = pulled.declared
    if declared is not None and (
        sorted(declared.imports) != list(model.import_names) or sorted(declared.exports) != list(model.export_names)
    ):
        warnings.append("the imports/exports declared in the config differ from the binary's")
    report = {
        "reference": str(pulled.reference.with_digest(None)),
        "digest": str(pulled.reference.digest),
        "manifest": json.loads(manifest_bytes) if manifest_bytes else None,
        "annotations": pulled.manifest.annotations,
        "config": pulled.config.raw,
        "layer-digest": str(layer.digest),
        "size": layer.size,
        "signature": pulled.signature,
        **model_report(model),
        "warnings": warnings,
    }
    return report, model


def inspect_target(ctx: Context, target: str, *, with_wit: bool = False) -> tuple[dict[str, Any], str | None]:
    """`mcpkg inspect`: a file (an existing path, `*.wasm`, or something that starts like
    a path) or a reference; the report, and the WIT text when asked."""
    if looks_like_path(target):
        report, model = inspect_file(ctx, Path(target))
    else:
        report, model = inspect_reference(ctx, target)
    return report, render_wit(model) if with_wit else None
