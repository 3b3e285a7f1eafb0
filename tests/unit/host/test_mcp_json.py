"""The pure MCP JSON <-> wasi:mcp value mapping (docs/wasi-mcp.md), the JSON-RPC session's
answers to bad input, and wasmtime-py's value shapes for the contract's types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcpkg.host.backend_host import to_plain, to_wasmtime
from mcpkg.host.mcp_json import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RESOURCE_NOT_FOUND,
    Case,
    RpcError,
    capabilities_json,
    completion_arguments,
    content_json,
    error_from_wit,
    notifications_json,
    prompt_get_arguments,
    prompt_message_json,
    resource_contents_json,
    tool_call_arguments,
    tool_json,
    tool_result_json,
)
from mcpkg.host.mcp_session import BackendTrap, Session


def text(value: str, annotations: dict[str, Any] | None = None) -> Case:
    return Case("text", {"content-type": "text", "text": value, "annotations": annotations})


def test_tool_definition_to_mcp_tool() -> None:
    tool = {
        "name": "add",
        "title": None,
        "description": "Add",
        "input-schema": b'{"type":"object","required":["a"]}',
        "output-schema": None,
        "annotations": {"title": "Adder", "read-only-hint": True, "destructive-hint": None,
                        "idempotent-hint": None, "open-world-hint": False},
    }  # fmt: skip
    assert tool_json(tool) == {
        "name": "add",
        "description": "Add",
        "inputSchema": {"type": "object", "required": ["a"]},
        "annotations": {"title": "Adder", "readOnlyHint": True, "openWorldHint": False},
    }
    with pytest.raises(ValueError, match="input-schema is not a JSON object"):
        tool_json({**tool, "input-schema": b"[1]"})
    with pytest.raises(ValueError, match="not JSON"):
        tool_json({**tool, "input-schema": b"{"})


def test_content_blocks() -> None:
    notes = {"priority": 0.5, "audience": ["user"], "custom": b'{"lang":"en"}'}
    assert content_json(text("hi", notes)) == {
        "type": "text",
        "text": "hi",
        "annotations": {"lang": "en", "audience": ["user"], "priority": 0.5},
    }
    image = Case("image", {"content-type": "image", "data": "AAAA", "mime-type": "image/png", "annotations": None})
    assert content_json(image) == {"type": "image", "data": "AAAA", "mimeType": "image/png"}
    embedded = Case(
        "embedded-resource",
        {"content-type": "resource", "uri": "x://a", "mime-type": None, "text": None, "blob": "AQ==",
         "annotations": None},
    )  # fmt: skip
    assert content_json(embedded) == {"type": "resource", "resource": {"uri": "x://a", "blob": "AQ=="}}
    link = Case(
        "resource-link",
        {"content-type": "resource_link", "uri": "x://b", "name": "b", "description": None, "mime-type": "text/plain",
         "annotations": None},
    )  # fmt: skip
    assert content_json(link) == {"type": "resource_link", "uri": "x://b", "name": "b", "mimeType": "text/plain"}
    assert tool_result_json({"content": [text("5")], "is-error": None}) == {"content": [{"type": "text", "text": "5"}]}
    assert tool_result_json({"content": [], "is-error": True}) == {"content": [], "isError": True}


def test_resource_contents() -> None:
    assert resource_contents_json(text("body"), "x://r", "text/markdown") == {
        "uri": "x://r",
        "mimeType": "text/markdown",
        "text": "body",
    }
    image = Case("image", {"data": "data:image/png;base64,AAAA", "mime-type": "image/png", "annotations": None})
    assert resource_contents_json(image, "x://i", None) == {"uri": "x://i", "mimeType": "image/png", "blob": "AAAA"}
    link = Case("resource-link", {"uri": "x://b", "name": "b", "annotations": None})
    with pytest.raises(ValueError, match="not resource contents"):
        resource_contents_json(link, "x://r", None)


def test_prompt_messages_have_no_system_role_in_mcp() -> None:
    assert prompt_message_json({"role": "system", "content": text("be brief")})["role"] == "user"
    assert prompt_message_json({"role": "assistant", "content": text("ok")})["role"] == "assistant"


def test_capabilities() -> None:
    caps = {
        "experimental": {"data": b'{"x":{}}'},
        "logging": {"levels": None},
        "completions": {"reserved": None},
        "prompts": None,
        "resources": {"subscribe": True, "list-changed": None},
        "tools": None,
        "sampling": {"reserved": None},
        "elicitation": None,
    }
    assert capabilities_json(caps, {"tools"}) == {
        "experimental": {"x": {}},
        "logging": {},
        "completions": {},
        "resources": {"subscribe": True},
        "tools": {},  # registered tools, though the capabilities left them out
    }


def test_error_codes() -> None:
    cases = {
        "invalid-params": INVALID_PARAMS,
        "tool-not-found": INVALID_PARAMS,
        "prompt-not-found": INVALID_PARAMS,
        "resource-not-found": RESOURCE_NOT_FOUND,
        "method-not-found": METHOD_NOT_FOUND,
        "unsupported-operation": METHOD_NOT_FOUND,
        "internal-error": INTERNAL_ERROR,
        "parse-error": PARSE_ERROR,
        "invalid-request": INVALID_REQUEST,
    }
    for code, expected in cases.items():
        assert error_from_wit({"code": code, "message": "m", "data": None}, "x").code == expected
    error = error_from_wit({"code": "internal-error", "message": "boom", "data": b'{"why":1}'}, "x")
    assert error.to_json() == {"code": INTERNAL_ERROR, "message": "boom", "data": {"why": 1}}
    assert error_from_wit({"code": "internal-error", "message": "", "data": b"not json"}, "x").data == "not json"


def test_notifications() -> None:
    assert notifications_json(Case("tools-list-changed"), "s") == [
        {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    ]
    updated = notifications_json(Case("resources-updated", ["a://1", "a://2"]), "s")
    assert [n["params"]["uri"] for n in updated] == ["a://1", "a://2"]
    progress = notifications_json(Case("progress", {"progress-token": "t", "progress": 3, "total": None}), "s")
    assert progress[0]["params"] == {"progressToken": "t", "progress": 3}
    message = notifications_json(Case("message", {"level": "warning", "message": "m", "data": b"[1]"}), "srv")
    assert message[0]["params"] == {"level": "warning", "logger": "srv", "data": {"message": "m", "data": [1]}}


def test_request_parameters() -> None:
    assert tool_call_arguments({"name": "add", "arguments": {"a": 1}}) == ("add", b'{"a":1}')
    assert tool_call_arguments({"name": "add"}) == ("add", b"{}")
    assert prompt_get_arguments({"name": "p"}) == ("p", None)
    assert prompt_get_arguments({"name": "p", "arguments": {"k": "v"}}) == ("p", b'{"k":"v"}')
    assert completion_arguments(
        {"ref": {"type": "ref/resource", "uri": "u"}, "argument": {"name": "n", "value": "v"}}
    ) == (
        "resource-uri",
        "v",
    )
    for bad in (
        lambda: tool_call_arguments({"arguments": {}}),
        lambda: tool_call_arguments({"name": "x", "arguments": [1]}),
        lambda: prompt_get_arguments({"name": "p", "arguments": {"k": 1}}),
        lambda: completion_arguments({"ref": {"type": "ref/tool"}, "argument": {"value": "v"}}),
    ):
        with pytest.raises(RpcError) as error:
            bad()
        assert error.value.code == INVALID_PARAMS


class Unreachable:
    """A backend the session must not reach: bad input is answered before any handler."""

    def call(self, function: str, *args: Any) -> Case:
        raise BackendTrap(f"{function} must not be called")


def test_session_answers_bad_input_without_the_backend() -> None:
    session = Session(Unreachable(), "b")
    assert session.handle_line("{")[0]["error"]["code"] == PARSE_ERROR
    assert session.handle_line("[]")[0]["error"]["code"] == INVALID_REQUEST
    assert session.handle_line('{"jsonrpc":"2.0","id":true,"method":"ping"}')[0]["error"]["code"] == INVALID_REQUEST
    assert session.handle_line('{"jsonrpc":"2.0","id":1,"method":"x/y"}')[0]["error"]["code"] == METHOD_NOT_FOUND
    unknown = session.handle_line('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t"}}')
    assert unknown[0]["error"] == {"code": INVALID_PARAMS, "message": "unknown tool: t"}
    assert session.handle_line('{"jsonrpc":"2.0","method":"notifications/whatever"}') == []
    assert session.handle_line('{"jsonrpc":"2.0","id":3,"method":"ping"}') == [
        {"jsonrpc": "2.0", "id": 3, "result": {}}
    ]


def test_session_runtime_registration_and_held_notifications() -> None:
    session = Session(Unreachable(), "fallback")
    bad = {"name": "t", "title": None, "description": "", "input-schema": b"nope", "output-schema": None,
           "annotations": None}  # fmt: skip
    refused = session.runtime("register-tools", [bad])
    assert isinstance(refused, Case) and refused.name == "err" and refused.value["code"] == "invalid-params"
    assert session.registry.tools == {}
    assert session.runtime("serve") is None and session.served
    assert session.runtime("log", "info", "early", None) is None
    init = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
    answer = session.handle_line(init)
    assert answer[0]["result"]["serverInfo"] == {"name": "fallback", "version": "0.0.0"}
    held = session.handle_line('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    assert [m["params"]["data"] for m in held] == ["early"]  # held until the client is ready
    session.handle_line('{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"error"}}')
    session.runtime("log", "info", "quiet", None)
    assert session.drain() == []
    unsupported = session.runtime("no-such-function")
    assert isinstance(unsupported, Case) and unsupported.value["code"] == "unsupported-operation"


RESULT_UNIT_ERROR = {
    "k": "result",
    "ok": None,
    "err": {"k": "record", "fields": [["code", {"k": "enum", "names": ["a"]}]]},
}
RESULT_LIST = {"k": "result", "ok": {"k": "list", "of": {"k": "string"}}, "err": RESULT_UNIT_ERROR["err"]}
NOTIFICATION = {  # two cases without payload: told apart only by tag
    "k": "variant",
    "cases": [["changed", None], ["cleared", None], ["updated", {"k": "list", "of": {"k": "string"}}]],
}
UNTAGGED = {"k": "variant", "cases": [["changed", None], ["updated", {"k": "list", "of": {"k": "string"}}]]}


def test_wasmtime_value_shapes() -> None:
    """wasmtime-py gives a result or variant as `Variant` only when its cases cannot be
    told apart by Python type; the conversions follow that rule both ways."""
    import wasmtime.component as wc

    assert to_wasmtime(Case("ok"), RESULT_UNIT_ERROR) is None  # untagged: ok is None
    err = to_wasmtime(Case("err", {"code": "a"}), RESULT_UNIT_ERROR)
    assert isinstance(err, wc.Record) and getattr(err, "code") == "a"  # noqa: B009
    assert to_plain(err, RESULT_UNIT_ERROR) == Case("err", {"code": "a"})
    assert to_plain(None, RESULT_UNIT_ERROR) == Case("ok")
    assert to_plain(["x"], RESULT_LIST) == Case("ok", ["x"])
    tagged = to_wasmtime(Case("updated", ["u"]), NOTIFICATION)
    assert tagged == wc.Variant("updated", ["u"])
    assert to_plain(wc.Variant("changed"), NOTIFICATION) == Case("changed")
    assert to_wasmtime(Case("updated", ["u"]), UNTAGGED) == ["u"]  # one payload-less case: untagged
    assert to_plain(None, UNTAGGED) == Case("changed")
    option = {"k": "option", "of": {"k": "list", "of": {"k": "u8"}}}
    assert to_wasmtime(None, option) is None and to_wasmtime(b"{}", option) == b"{}"
    assert to_plain(b"{}", option) == b"{}"
    assert json.loads(to_plain(b'{"a":1}', option)) == {"a": 1}
