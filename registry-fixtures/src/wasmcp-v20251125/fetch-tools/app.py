"""mcpkg's own tools capability that calls out (fixture): `fetch` GETs a URL over
`wasi:http/outgoing-handler` and returns the body; a failed fetch (refused, unreachable,
an HTTP error status) is the tool's own error result, and the capability keeps answering."""

from __future__ import annotations

import json

from wasi_fetch import FetchError, get
from wit_world import exports
from wit_world.imports import mcp, server_handler

FETCH_SCHEMA = {
    "type": "object",
    "properties": {"url": {"type": "string", "description": "An http:// or https:// URL"}},
    "required": ["url"],
}


def text_result(text: str, is_error: bool = False) -> mcp.CallToolResult:
    block = mcp.ContentBlock_Text(mcp.TextContent(text=mcp.TextData_Text(text), options=None))
    return mcp.CallToolResult(meta=None, content=[block], is_error=is_error, structured_content=None)


def fetch(url: object) -> mcp.CallToolResult:
    if not isinstance(url, str):
        return text_result("fetch needs a url", is_error=True)
    try:
        status, _, body = get(url)
    except FetchError as error:
        return text_result(f"fetch failed: {error} ({url})", is_error=True)
    if not 200 <= status < 300:
        return text_result(f"fetch failed: HTTP {status} ({url})", is_error=True)
    return text_result(body)


class Tools(exports.Tools):
    def list_tools(self, ctx: server_handler.MessageContext, request: mcp.ListToolsRequest) -> mcp.ListToolsResult:
        options = mcp.ToolOptions(
            meta=None, annotations=None, description="GET a URL and return its body", output_schema=None,
            title=None, icons=None,
        )
        tool = mcp.Tool(name="fetch", input_schema=json.dumps(FETCH_SCHEMA), options=options)
        return mcp.ListToolsResult(meta=None, next_cursor=None, tools=[tool])

    def call_tool(self, ctx: server_handler.MessageContext, request: mcp.CallToolRequest) -> mcp.CallToolResult | None:
        if request.name != "fetch":
            return None
        try:
            arguments = json.loads(request.arguments) if request.arguments else {}
        except ValueError:
            return text_result("arguments are not JSON", is_error=True)
        return fetch(arguments.get("url") if isinstance(arguments, dict) else None)
