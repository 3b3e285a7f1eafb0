"""What a component is, from its type model: roles, interfaces and function signatures as
`mcpkg inspect` shows them; `inspect FILE` itself (no registry involved)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcpkg.cache import Cache
from mcpkg.compose.sharing import shared_in_file
from mcpkg.host.grants import grants_needed
from mcpkg.infile import readable_file
from mcpkg.wasm.backend import backend_contract, backend_problems, entry_export, is_backend_candidate
from mcpkg.wasm.contracts import classify
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel, canonical_text, render_func
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
    report: dict[str, Any] = {"roles": [r.to_json() for r in roles]}
    if is_backend_candidate(model):  # uses wasi:mcp: can `mcpkg run` host it?
        problems = backend_problems(model, "it")
        report["backend"] = {
            "hostable": not problems,
            "entry": entry_export(model, backend_contract().entry),
            "problems": problems,
            "needs": grants_needed(model.imports),  # the grants `mcpkg run` needs to host it
        }
    return {
        **report,
        "imports": list(model.import_names),
        "exports": list(model.export_names),
        "types": {"imports": _interfaces(model.imports, names), "exports": _interfaces(model.exports, names)},
    }


def shared_report(path: Path) -> dict[str, int] | None:
    """The core modules a composed component defines once for its nested components to
    alias (docs/compose.md, "Shared core modules"); None when it shares none. Reads
    section headers and alias sections only."""
    with path.open("rb") as f:
        shared = shared_in_file(f, os.fstat(f.fileno()).st_size)
    return shared.to_json() if shared.modules else None


def describe_file(cache: Cache, path: Path, *, with_wit: bool = False) -> tuple[dict[str, Any], str | None]:
    """`mcpkg inspect FILE`: the report (and the WIT text when asked). Needs no registry
    and, once the types are cached, no wasmtime."""
    readable_file(path, "component", "check the path (a registry component is named [registry/]repo[:tag] or ns:name)")
    digest, size = cache.file_digest(path)
    model = component_model(path, digest, cache, str(path))
    report = {"file": str(path), "layer-digest": str(digest), "size": size, **model_report(model)}
    report["shared-modules"] = shared_report(path)
    return report, render_wit(model) if with_wit else None
