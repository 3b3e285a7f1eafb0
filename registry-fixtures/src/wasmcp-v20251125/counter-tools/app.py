"""mcpkg's own tools capability (fixture): `add` returns the sum of two integers; `count`
increments a counter kept in the caller's session (`sessions`, backed by the session store
and the key-value store) and returns its new value."""

from __future__ import annotations

import json
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import mcp, server_handler, sessions, store

ADD_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
COUNT_SCHEMA = {"type": "object", "properties": {}}


def text_result(text: str, is_error: bool = False) -> mcp.CallToolResult:
    block = mcp.ContentBlock_Text(mcp.TextContent(text=mcp.TextData_Text(text), options=None))
    return mcp.CallToolResult(meta=None, content=[block], is_error=is_error, structured_content=None)


def options(description: str) -> mcp.ToolOptions:
    return mcp.ToolOptions(
        meta=None, annotations=None, description=description, output_schema=None, title=None, icons=None
    )


def add(arguments: dict[str, Any]) -> mcp.CallToolResult:
    a, b = arguments.get("a"), arguments.get("b")
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or isinstance(b, bool):
        return text_result("add needs two integers a and b", is_error=True)
    return text_result(str(a + b))


def count(ctx: server_handler.MessageContext) -> mcp.CallToolResult:
    if ctx.session is None:
        return text_result("count needs a session", is_error=True)
    try:
        session = sessions.Session.open(ctx.session.session_id, ctx.session.store_id)
        current = session.get("count")
        value = (current.value if isinstance(current, store.TypedValue_AsS64) else 0) + 1
        session.set("count", store.TypedValue_AsS64(value))
    except Err as error:
        return text_result(f"session error: {error.value}", is_error=True)
    return text_result(str(value))


class Tools(exports.Tools):
    def list_tools(self, ctx: server_handler.MessageContext, request: mcp.ListToolsRequest) -> mcp.ListToolsResult:
        return mcp.ListToolsResult(
            meta=None,
            next_cursor=None,
            tools=[
                mcp.Tool(name="add", input_schema=json.dumps(ADD_SCHEMA), options=options("Add two integers")),
                mcp.Tool(
                    name="count", input_schema=json.dumps(COUNT_SCHEMA), options=options("Count calls in this session")
                ),
            ],
        )

    def call_tool(self, ctx: server_handler.MessageContext, request: mcp.CallToolRequest) -> mcp.CallToolResult | None:
        if request.name not in ("add", "count"):
            return None
        try:
            arguments = json.loads(request.arguments) if request.arguments else {}
        except ValueError:
            return text_result("arguments are not JSON", is_error=True)
        if request.name == "add":
            return add(arguments if isinstance(arguments, dict) else {})
        return count(ctx)
