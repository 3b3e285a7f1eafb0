"""Validate a component with wasmtime and read its top-level import and export names.

Compiling a large component takes seconds, so what is learnt is cached by the file's
sha256 under `<cache>/types/<hex>.json`; a warm lookup does not import wasmtime.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcpkg.artifact import ComponentInfo, check_preamble
from mcpkg.cache import Cache, atomic_write_bytes
from mcpkg.errors import InvalidArtifactError
from mcpkg.reference import Digest

MODEL_VERSION = 1


def _types_path(cache: Cache, digest: Digest) -> Path:
    return cache.root / "types" / f"{digest.hex}.json"


def _compile_names(path: Path, what: str) -> ComponentInfo:
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
    component_type = component.type
    imports = tuple(sorted(component_type.imports(engine)))
    exports = tuple(sorted(component_type.exports(engine)))
    return ComponentInfo(imports, exports)


def describe_component(path: Path, digest: Digest, cache: Cache, what: str) -> ComponentInfo:
    """Validate `path` (whose sha256 is `digest`) and return its import/export names."""
    cached = _types_path(cache, digest)
    try:
        data = json.loads(cached.read_text(encoding="utf-8"))
        if data.get("model") == MODEL_VERSION:
            return ComponentInfo(tuple(data["imports"]), tuple(data["exports"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    with path.open("rb") as f:
        check_preamble(f.read(8), what)
    info = _compile_names(path, what)
    cached.parent.mkdir(parents=True, exist_ok=True)
    body = {"model": MODEL_VERSION, "imports": list(info.imports), "exports": list(info.exports)}
    atomic_write_bytes(cached, json.dumps(body).encode())
    return info
