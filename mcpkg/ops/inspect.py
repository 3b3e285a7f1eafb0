"""`mcpkg inspect REF`: what a registry artifact is (a file: `describe.py`).

Types always come from wasmtime's reading of the binary (cached by digest); for a
registry artifact they are compared with what the publisher declared in the config.
"""

from __future__ import annotations

import json
from typing import Any

from mcpkg.ops.context import Context
from mcpkg.ops.describe import model_report, shared_report
from mcpkg.ops.pull import pull
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel
from mcpkg.wasm.wit import render_wit


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
        "shared-modules": shared_report(pulled.layer_path),
        "warnings": warnings,
    }
    return report, model


def inspect_target(ctx: Context, target: str, *, with_wit: bool = False) -> tuple[dict[str, Any], str | None]:
    """`mcpkg inspect REF`: the report (and the WIT text when asked)."""
    report, model = inspect_reference(ctx, target)
    return report, render_wit(model) if with_wit else None
