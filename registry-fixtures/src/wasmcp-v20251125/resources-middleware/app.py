"""Puts one `resources` capability component in the chain (mcpkg fixture).

`resources/list` and `resources/templates/list` answer the imported provider's entries
followed by those of the rest of the chain (the provider's alone when the rest has none or
fails; a `method-not-found` from the provider means it has none, any other error of the
provider is the answer). `resources/read` goes to the provider first and to the rest of the
chain when the provider does not know the URI; nobody knowing it is `-32602`. Every other
message passes on unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.imports import mcp, resources, server_handler

Answer = Result[mcp.ServerResult, mcp.ErrorCode] | None


def error(kind: type, code: int, message: str) -> Err[mcp.ErrorCode]:
    return Err(kind(mcp.Error(code=code, message=message, data=None)))


def merged_list(
    ctx: server_handler.MessageContext,
    ident: mcp.RequestId,
    request: mcp.ClientRequest,
    method: str,
    ours_of: Callable[[], Any],
    wrap: type,
    merge: Callable[[Any, Any], Any],
) -> Answer:
    """The provider's list (`ours_of`) followed by the rest of the chain's answer to
    `request`; `wrap` is the `server-result` case both are carried in."""
    try:
        ours = ours_of()
    except Err as failed:
        if not isinstance(failed.value, mcp.ErrorCode_MethodNotFound):
            return Err(failed.value)
        ours = None
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, request)))
    if isinstance(rest, Ok) and isinstance(rest.value, wrap):
        return Ok(wrap(rest.value.value if ours is None else merge(ours, rest.value.value)))
    if ours is not None:
        return Ok(wrap(ours))
    if isinstance(rest, Ok):
        return error(mcp.ErrorCode_InternalError, -32603, "Unexpected response type from downstream handler")
    if rest is None or isinstance(rest.value, mcp.ErrorCode_MethodNotFound):
        return error(mcp.ErrorCode_MethodNotFound, -32601, f"Method not found: {method}")
    return rest


def merge_resources(ours: mcp.ListResourcesResult, theirs: mcp.ListResourcesResult) -> mcp.ListResourcesResult:
    return mcp.ListResourcesResult(
        meta=ours.meta if ours.meta is not None else theirs.meta,
        next_cursor=theirs.next_cursor if theirs.next_cursor is not None else ours.next_cursor,
        resources=[*ours.resources, *theirs.resources],
    )


def merge_templates(
    ours: mcp.ListResourceTemplatesResult, theirs: mcp.ListResourceTemplatesResult
) -> mcp.ListResourceTemplatesResult:
    return mcp.ListResourceTemplatesResult(
        meta=ours.meta if ours.meta is not None else theirs.meta,
        next_cursor=theirs.next_cursor if theirs.next_cursor is not None else ours.next_cursor,
        resource_templates=[*ours.resource_templates, *theirs.resource_templates],
    )


def read_resource(ctx: server_handler.MessageContext, ident: mcp.RequestId, request: mcp.ReadResourceRequest) -> Answer:
    try:
        result = resources.read_resource(ctx, request)
    except Err as failed:
        return Err(failed.value)
    if result is not None:
        return Ok(mcp.ServerResult_ResourcesRead(result))
    rest = server_handler.handle(ctx, mcp.ClientMessage_Request((ident, mcp.ClientRequest_ResourcesRead(request))))
    if rest is None or (isinstance(rest, Err) and isinstance(rest.value, mcp.ErrorCode_MethodNotFound)):
        return error(mcp.ErrorCode_InvalidParams, -32602, f"Unknown resource URI: {request.uri}")
    return rest


class ServerHandler(exports.ServerHandler):
    def handle(self, ctx: server_handler.MessageContext, message: mcp.ClientMessage) -> Answer:
        if isinstance(message, mcp.ClientMessage_Request):
            ident, request = message.value
            if isinstance(request, mcp.ClientRequest_ResourcesList):
                listing = request.value
                return merged_list(
                    ctx,
                    ident,
                    request,
                    "resources/list",
                    lambda: resources.list_resources(ctx, listing),
                    mcp.ServerResult_ResourcesList,
                    merge_resources,
                )
            if isinstance(request, mcp.ClientRequest_ResourcesTemplatesList):
                templates = request.value
                return merged_list(
                    ctx,
                    ident,
                    request,
                    "resources/templates/list",
                    lambda: resources.list_resource_templates(ctx, templates),
                    mcp.ServerResult_ResourcesTemplatesList,
                    merge_templates,
                )
            if isinstance(request, mcp.ClientRequest_ResourcesRead):
                return read_resource(ctx, ident, request.value)
        return server_handler.handle(ctx, message)
