"""`mcpkg inspect`: what a component is, from its file or its registry artifact.

The import/export names always come from wasmtime's reading of the binary; for a
registry artifact they are compared with what the publisher declared in the config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpkg.cache import hash_file
from mcpkg.context import Context
from mcpkg.errors import NotFoundError
from mcpkg.pull import pull
from mcpkg.wasm.inspect import describe_component


def inspect_file(ctx: Context, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise NotFoundError(f"{path} is not a file")
    digest, size = hash_file(path)
    info = describe_component(path, digest, ctx.cache, str(path))
    return {
        "file": str(path),
        "layer-digest": str(digest),
        "size": size,
        "imports": list(info.imports),
        "exports": list(info.exports),
    }


def inspect_reference(ctx: Context, text: str) -> dict[str, Any]:
    pulled = pull(ctx, text)
    manifest_bytes = ctx.cache.read_blob(pulled.reference.digest) if pulled.reference.digest else None
    layer = pulled.manifest.layer
    info = describe_component(pulled.layer_path, layer.digest, ctx.cache, str(pulled.reference))
    warnings = []
    declared = pulled.declared
    if declared is not None and (
        sorted(declared.imports) != list(info.imports) or sorted(declared.exports) != list(info.exports)
    ):
        warnings.append("the imports/exports declared in the config differ from the binary's")
    return {
        "reference": str(pulled.reference.with_digest(None)),
        "digest": str(pulled.reference.digest),
        "manifest": json.loads(manifest_bytes) if manifest_bytes else None,
        "annotations": pulled.manifest.annotations,
        "config": pulled.config.raw,
        "layer-digest": str(layer.digest),
        "size": layer.size,
        "signature": pulled.signature,
        "imports": list(info.imports),
        "exports": list(info.exports),
        "warnings": warnings,
    }
