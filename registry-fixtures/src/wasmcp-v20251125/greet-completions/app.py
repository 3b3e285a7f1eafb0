"""A chain middleware of mcpkg's own (fixture) answering `completion/complete` for the
arguments of the `greet` prompt (`writing-prompts`): `language` completes to the language
codes starting with the value given, `name` to nothing. Everything else passes on
unchanged. wasmcp publishes no completions middleware, so a server that completes prompt
arguments has a middleware like this one in its chain."""

from __future__ import annotations

from componentize_py_types import Ok, Result
from wit_world import exports
from wit_world.imports import mcp, server_handler

Answer = Result[mcp.ServerResult, mcp.ErrorCode] | None

COMPLETIONS = {"language": ["de", "en", "fr"], "name": []}  # greet's argument -> its values


def complete(request: mcp.CompleteRequest) -> mcp.CompleteResult | None:
    ref = request.ref
    if not isinstance(ref, mcp.CompletionReference_Prompt) or ref.value.name != "greet":
        return None
    values = COMPLETIONS.get(request.argument.name)
    if values is None:
        return None
    found = [value for value in values if value.startswith(request.argument.value)]
    return mcp.CompleteResult(meta=None, has_more=False, total=len(found), values=found)


class ServerHandler(exports.ServerHandler):
    def handle(self, ctx: server_handler.MessageContext, message: mcp.ClientMessage) -> Answer:
        if isinstance(message, mcp.ClientMessage_Request):
            _, request = message.value
            if isinstance(request, mcp.ClientRequest_CompletionComplete):
                result = complete(request.value)
                if result is not None:
                    return Ok(mcp.ServerResult_CompletionComplete(result))
        return server_handler.handle(ctx, message)
