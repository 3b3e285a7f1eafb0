"""Validate a component with wasmtime and learn its full type model.

No full compile: wasmtime validates every core module of the component
(`Module.validate`, every function body) and compiles the reduced copy of `reduce.py`
(the same component structure, imports, exports and types; bodies `unreachable`, only
exported functions) to read its types. The model is cached by the file's sha256 under
`<cache>/types/<hex>.json`, and a warm lookup does not import wasmtime at all.
`compile_model` is the full compile, kept as the reference the reduced copy is tested
against.
"""

from __future__ import annotations

import json
from pathlib import Path

from mcpkg.cache import Cache, CacheArea
from mcpkg.errors import InvalidArtifactError
from mcpkg.progress import step
from mcpkg.reference import Digest
from mcpkg.wasm.extract import extract_model
from mcpkg.wasm.model import ComponentModel
from mcpkg.wasm.preamble import check_preamble
from mcpkg.wasm.reduce import reduce_component

MODEL_VERSION = 3


def _types(cache: Cache) -> CacheArea:
    return cache.area("types")


def _invalid(what: str, exc: Exception) -> InvalidArtifactError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
    return InvalidArtifactError(
        f"{what} is not a valid component: {first_line}",
        "rebuild it with a component toolchain (wasm-tools, componentize-py, cargo-component)",
    )


def compile_model(path: Path, what: str) -> ComponentModel:
    """The model from a full wasmtime compile of the component (slow: the reference the
    reduced copy is tested against; unoptimized, which changes no type)."""
    import wasmtime
    import wasmtime.component

    config = wasmtime.Config()
    config.cranelift_opt_level = "none"
    engine = wasmtime.Engine(config)
    try:
        component = wasmtime.component.Component.from_file(engine, str(path))
    except wasmtime.WasmtimeError as exc:
        raise _invalid(what, exc) from exc
    return extract_model(engine, component)


def validated_model(data: bytes, what: str) -> ComponentModel:
    """Validate the component binary `data` with wasmtime and return its type model, with
    no full compile: every core module validated, the reduced copy compiled for types."""
    import wasmtime
    import wasmtime.component

    check_preamble(data[:8], what)
    engine = wasmtime.Engine()
    try:
        reduced = reduce_component(data)
    except InvalidArtifactError:
        # a binary the section walker cannot follow: wasmtime's own verdict (a parse error
        # is found at once; should wasmtime accept it, this is the full compile)
        try:
            return extract_model(engine, wasmtime.component.Component(engine, data))
        except wasmtime.WasmtimeError as exc:
            raise _invalid(what, exc) from exc
    try:
        for module in reduced.modules:
            wasmtime.Module.validate(engine, module)
    except wasmtime.WasmtimeError as exc:
        raise _invalid(what, exc) from exc
    try:
        component = wasmtime.component.Component(engine, reduced.component)
    except wasmtime.WasmtimeError:
        # the cut (exported functions only) is an optimization: wasmtime's verdict is the
        # one on the copy that keeps every function
        try:
            component = wasmtime.component.Component(engine, reduce_component(data, cut=False).component)
        except wasmtime.WasmtimeError as exc:
            raise _invalid(what, exc) from exc
    return extract_model(engine, component)


def cached_model(cache: Cache, digest: Digest) -> ComponentModel | None:
    try:
        data = json.loads(_types(cache).read_bytes(f"{digest.hex}.json") or b"")
        if data.get("model") == MODEL_VERSION:
            return ComponentModel.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def record_model(cache: Cache, digest: Digest, model: ComponentModel) -> None:
    """Keep the model of the component whose sha256 is `digest` in the types cache."""
    _types(cache).write(f"{digest.hex}.json", json.dumps({"model": MODEL_VERSION, **model.to_json()}).encode())


def component_model(path: Path, digest: Digest, cache: Cache, what: str) -> ComponentModel:
    """Validate `path` (whose sha256 is `digest`) and return its type model (cached)."""
    model = cached_model(cache, digest)
    if model is not None:
        return model
    with path.open("rb") as f:
        check_preamble(f.read(8), what)
    with step(f"reading the types of {what} (once: then cached)"):
        model = validated_model(path.read_bytes(), what)
    record_model(cache, digest, model)
    return model
