"""`mcpkg run`'s notes and refusals about grants, before anything is compiled."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.errors import UsageError
from mcpkg.ops.run import refuse_grants, serve_note, unused_grant
from mcpkg.wasm.model import ComponentModel

FUNC = {
    "kind": "instance",
    "functions": {"f": {"params": [], "result": None}},
    "resources": [],
    "uses": [],
    "types": {},
}
CLIENT = ("wasi:http/outgoing-handler@0.2.9", "wasi:http/types@0.2.9", "wasi:sockets/tcp@0.2.9")


def model(*imports: str, export: str = "wasi:cli/run@0.2.9") -> ComponentModel:
    return ComponentModel(dict.fromkeys(imports, FUNC), {export: FUNC})


def test_an_http_server_calling_out_is_noted_since_serve_grants_it_unasked() -> None:
    server = model(*CLIENT, export="wasi:http/incoming-handler@0.2.9")
    note = serve_note(server, Path("dir/s.wasm"))
    assert note is not None and note.startswith("s.wasm calls out over HTTP: `wasmtime serve` lets it reach any host")
    assert serve_note(model("wasi:http/types@0.2.9"), Path("s.wasm")) is None


def test_an_unused_grant_is_noted() -> None:
    assert unused_grant(model(*CLIENT), Path("s.wasm"), allow_http=True) is None
    assert unused_grant(model(*CLIENT), Path("s.wasm"), allow_http=False) is None
    assert unused_grant(model("wasi:cli/stdin@0.2.9"), Path("d/s.wasm"), allow_http=True) == (
        "--allow-http: s.wasm does not import wasi:http/outgoing-handler, so the grant is unused"
    )


def test_allow_network_is_refused_with_the_cli_only_for_a_composed_server() -> None:
    refuse_grants(model(*CLIENT), Path("s.wasm"), allow_network=False)  # nothing asked, nothing refused
    with pytest.raises(UsageError) as composed:
        refuse_grants(model(*CLIENT), Path("s.wasm"), allow_network=True)
    assert composed.value.hint is not None
    assert composed.value.hint.endswith("wasmtime run -S inherit-network -S http s.wasm")
    backend = model(*CLIENT, "wasi:mcp/runtime@0.1.0-preview2")
    with pytest.raises(UsageError) as hosted:
        refuse_grants(backend, Path("b.wasm"), allow_network=True)
    assert hosted.value.hint is not None and "wasmtime run" not in hosted.value.hint
    assert "mcpkg run --allow-http b.wasm" in hosted.value.hint
