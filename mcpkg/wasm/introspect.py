"""Validate a component with wasmtime and learn its full type model.

Compiling a large component takes seconds, so the model is cached by the file's sha256
under `<cache>/types/<hex>.json`: a component is compiled once, ever, and a warm lookup
does not import wasmtime at all.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcpkg.cache import Cache, CacheArea
from mcpkg.errors import InvalidArtifactError
from mcpkg.reference import Digest
from mcpkg.wasm.extract import extract_model
from mcpkg.wasm.model import ComponentModel
from mcpkg.wasm.preamble import check_preamble

MODEL_VERSION = 3


def _types(cache: Cache) -> CacheArea:
    return cache.area("types")


def _compile_model(path: Path, what: str) -> ComponentModel:
    import wasmtime
    import wasmtime.component

    engine = wasmtime.Engine()
    try:
        component = wasmtime.component.Component.from_file(engine, str(path))
    except wasmtime.WasmtimeError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise InvalidArtifactError(
            f"{what} is not a valid component: {first_line}",
            "rebuild it with a component toolchain (wasm-tools, componentize-py, cargo-component)",
        ) from exc
    return extract_model(engine, component)


def cached_model(cache: Cache, digest: Digest) -> ComponentModel | None:
    try:
        data = json.loads(_types(cache).read_bytes(f"{digest.hex}.json") or b"")
        if data.get("model") == MODEL_VERSION:
            return ComponentModel.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def component_model(path: Path, digest: Digest, cache: Cache, what: str) -> ComponentModel:
    """Validate `path` (whose sha256 is `digest`) and return its type model (cached)."""
    model = cached_model(cache, digest)
    if model is not None:
        return model
    with path.open("rb") as f:
        check_preamble(f.read(8), what)
    model = _compile_model(path, what)
    _types(cache).write(f"{digest.hex}.json", json.dumps({"model": MODEL_VERSION, **model.to_json()}).encode())
    return model
