"""Puts one `tools` capability component in the chain (mcpkg fixture): `tools/list` answers
the imported provider's tools followed by those of the rest of the chain; `tools/call`
goes to the provider first and to the rest of the chain when the provider does not know
the tool; every other message passes on unchanged."""

from __future__ import annotations

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.imports import mcp, server_handler, tools

Answer = Result[mcp.ServerResult, mcp.ErrorCode] | None


def error(kind: type, code: int, message: str) -> Err[mcp.ErrorCode]:
    return Err(kind(mcp.Error(code=code, message=message, data=None)))


def list_tools(ctx: server_handler.MessageContext, ident: mcp.RequestId, request: mcp.ListToolsRequest) -> Answer:
    try:
        ours = tools.list_tools(ctx, request)
    except Err as failed:
        return Err(failed.value)
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, mcp.ClientRequest_ToolsList(request))))
    if isinstance(rest, Ok) and isinstance(rest.value, mcp.ServerResult_ToolsList):
        theirs = rest.value.value
        merged = mcp.ListToolsResult(
            meta=ours.meta if ours.meta is not None else theirs.meta,
            next_cursor=theirs.next_cursor if theirs.next_cursor is not None else ours.next_cursor,
            tools=[*ours.tools, *theirs.tools],
        )
        return Ok(mcp.ServerResult_ToolsList(merged))
    if isinstance(rest, Ok):
        return error(mcp.ErrorCode_InternalError, -32603, "Unexpected response type from downstream handler")
    return Ok(mcp.ServerResult_ToolsList(ours))


def call_tool(ctx: server_handler.MessageContext, ident: mcp.RequestId, request: mcp.CallToolRequest) -> Answer:
    try:
        result = tools.call_tool(ctx, request)
    except Err as failed:
        return Err(failed.value)
    if result is not None:
        return Ok(mcp.ServerResult_ToolsCall(result))
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, mcp.ClientRequest_ToolsCall(request))))
    if rest is None or (isinstance(rest, Err) and isinstance(rest.value, mcp.ErrorCode_MethodNotFound)):
        return error(mcp.ErrorCode_InvalidParams, -32602, f"Unknown tool: {request.name}")
    return rest


class ServerHandler(exports.ServerHandler):
    def handle(self, ctx: server_handler.MessageContext, message: mcp.ClientMessage) -> Answer:
        if isinstance(message, mcp.ClientMessage_Request):
            ident, request = message.value
            if isinstance(request, mcp.ClientRequest_ToolsList):
                return list_tools(ctx, ident, request.value)
            if isinstance(request, mcp.ClientRequest_ToolsCall):
                return call_tool(ctx, ident, request.value)
        return server_handler.handle(ctx, message)
