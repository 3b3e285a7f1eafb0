"""What `mcpkg run` can provide: WASI preview 2 only; everything else is named, with the
wasmtime CLI options that provide it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.errors import McpkgError
from mcpkg.host.runner import cli_options, refuse_unprovided, serve_command, unprovided_imports
from mcpkg.wasm.model import ComponentModel

FUNC = {
    "kind": "instance",
    "functions": {"f": {"params": [], "result": None}},
    "resources": [],
    "uses": [],
    "types": {},
}
TYPES_ONLY = {"kind": "instance", "functions": {}, "resources": [], "uses": [], "types": {"t": {"k": "string"}}}


def model(*names: str, types_only: tuple[str, ...] = ()) -> ComponentModel:
    imports = {name: FUNC for name in names} | {name: TYPES_ONLY for name in types_only}
    return ComponentModel(imports, {"wasi:cli/run@0.2.9": FUNC})


def test_wasi_p2_and_type_only_interfaces_are_provided() -> None:
    found = model(
        "wasi:io/streams@0.2.8", "wasi:cli/stdin@0.2.9", "wasi:sockets/tcp@0.2.3", types_only=("x:y/types@1.0.0",)
    )
    assert unprovided_imports(found) == []
    refuse_unprovided(found, Path("server.wasm"))  # nothing to refuse


def test_keyvalue_and_http_are_named_with_their_options() -> None:
    found = model("wasi:keyvalue/store@0.2.0-draft", "wasi:http/outgoing-handler@0.2.8", "wasi:io/poll@0.2.8")
    missing = unprovided_imports(found)
    assert missing == ["wasi:http/outgoing-handler@0.2.8", "wasi:keyvalue/store@0.2.0-draft"]
    assert cli_options(missing) == ["http", "keyvalue"]
    assert cli_options(missing, serve=True) == ["keyvalue"]
    assert (
        serve_command(Path("s.wasm"), ["keyvalue"])
        == "wasmtime serve -O pooling-allocator=n -Scommon -S keyvalue --addr 127.0.0.1:8080 s.wasm"
    )
    with pytest.raises(McpkgError) as refused:
        refuse_unprovided(found, Path("s.wasm"))
    assert "wasi:keyvalue/store@0.2.0-draft" in refused.value.message
    assert refused.value.hint == "run it with the wasmtime CLI instead: wasmtime run -S http -S keyvalue s.wasm"


def test_an_uncomposed_part_has_no_option() -> None:
    found = model("wasmcp:mcp-v20251125/server-io@0.1.1", "wasi:keyvalue/store@0.2.0-draft")
    with pytest.raises(McpkgError) as refused:
        refuse_unprovided(found, Path("s.wasm"))
    assert "wasmcp:mcp-v20251125/server-io@0.1.1" in refused.value.message
    assert refused.value.hint is not None and "must be composed in" in refused.value.hint
