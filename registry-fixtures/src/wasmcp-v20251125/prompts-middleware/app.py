"""Puts one `prompts` capability component in the chain (mcpkg fixture).

`prompts/list` answers the imported provider's prompts followed by those of the rest of the
chain (the provider's alone when the rest has none or fails; a `method-not-found` from the
provider means it has none, any other error of the provider is the answer). `prompts/get`
goes to the provider first and to the rest of the chain when the provider does not know
the prompt; nobody knowing it is `-32602`. Every other message (`completion/complete`
too) passes on unchanged."""

from __future__ import annotations

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.imports import mcp, prompts, server_handler

Answer = Result[mcp.ServerResult, mcp.ErrorCode] | None


def error(kind: type, code: int, message: str) -> Err[mcp.ErrorCode]:
    return Err(kind(mcp.Error(code=code, message=message, data=None)))


def list_prompts(ctx: server_handler.MessageContext, ident: mcp.RequestId, request: mcp.ListPromptsRequest) -> Answer:
    ours: mcp.ListPromptsResult | None
    try:
        ours = prompts.list_prompts(ctx, request)
    except Err as failed:
        if not isinstance(failed.value, mcp.ErrorCode_MethodNotFound):
            return Err(failed.value)
        ours = None
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, mcp.ClientRequest_PromptsList(request))))
    if isinstance(rest, Ok) and isinstance(rest.value, mcp.ServerResult_PromptsList):
        theirs = rest.value.value
        if ours is None:
            return Ok(mcp.ServerResult_PromptsList(theirs))
        merged = mcp.ListPromptsResult(
            meta=ours.meta if ours.meta is not None else theirs.meta,
            next_cursor=theirs.next_cursor if theirs.next_cursor is not None else ours.next_cursor,
            prompts=[*ours.prompts, *theirs.prompts],
        )
        return Ok(mcp.ServerResult_PromptsList(merged))
    if ours is not None:
        return Ok(mcp.ServerResult_PromptsList(ours))
    if isinstance(rest, Ok):
        return error(mcp.ErrorCode_InternalError, -32603, "Unexpected response type from downstream handler")
    if rest is None or isinstance(rest.value, mcp.ErrorCode_MethodNotFound):
        return error(mcp.ErrorCode_MethodNotFound, -32601, "Method not found: prompts/list")
    return rest


def get_prompt(ctx: server_handler.MessageContext, ident: mcp.RequestId, request: mcp.GetPromptRequest) -> Answer:
    try:
        result = prompts.get_prompt(ctx, request)
    except Err as failed:
        return Err(failed.value)
    if result is not None:
        return Ok(mcp.ServerResult_PromptsGet(result))
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, mcp.ClientRequest_PromptsGet(request))))
    if rest is None or (isinstance(rest, Err) and isinstance(rest.value, mcp.ErrorCode_MethodNotFound)):
        return error(mcp.ErrorCode_InvalidParams, -32602, f"Unknown prompt: {request.name}")
    return rest


class ServerHandler(exports.ServerHandler):
    def handle(self, ctx: server_handler.MessageContext, message: mcp.ClientMessage) -> Answer:
        if isinstance(message, mcp.ClientMessage_Request):
            ident, request = message.value
            if isinstance(request, mcp.ClientRequest_PromptsList):
                return list_prompts(ctx, ident, request.value)
            if isinstance(request, mcp.ClientRequest_PromptsGet):
                return get_prompt(ctx, ident, request.value)
        return server_handler.handle(ctx, message)
