"""`compose` says which grants the server it wrote needs to run (`needs`, text and JSON)."""

from __future__ import annotations

from mcpkg.ops.compose import ComposeResult

CLIENT = ["wasi:http/outgoing-handler@0.2.9", "wasi:http/types@0.2.9", "wasi:io/poll@0.2.9"]


def result(imports: list[str], exports: list[str]) -> ComposeResult:
    return ComposeResult("server.wasm", "sha256:" + "0" * 64, 1, imports, exports, False, True)


def test_a_stdio_server_calling_out_needs_allow_http() -> None:
    composed = result(CLIENT, ["wasi:cli/run@0.2.9"])
    assert composed.needs == ["--allow-http"]
    assert composed.to_json()["needs"] == ["--allow-http"]


def test_an_http_server_and_a_server_not_calling_out_need_nothing() -> None:
    assert result(CLIENT, ["wasi:http/incoming-handler@0.2.9"]).needs == []  # wasmtime serve provides it
    assert result(["wasi:http/types@0.2.9"], ["wasi:cli/run@0.2.9"]).needs == []
    assert result(["wasi:sockets/tcp@0.2.9"], ["wasi:cli/run@0.2.9"]).to_json()["needs"] == []
