"""The terminal of the chain (mcpkg fixture): every request that reaches it is answered
with JSON-RPC's method-not-found; notifications and client results get no answer."""

from __future__ import annotations

from componentize_py_types import Err, Result
from wit_world import exports
from wit_world.exports import server_handler
from wit_world.imports import mcp

METHODS = {
    mcp.ClientRequest_Initialize: "initialize",
    mcp.ClientRequest_ToolsList: "tools/list",
    mcp.ClientRequest_ToolsCall: "tools/call",
    mcp.ClientRequest_ResourcesList: "resources/list",
    mcp.ClientRequest_ResourcesRead: "resources/read",
    mcp.ClientRequest_ResourcesTemplatesList: "resources/templates/list",
    mcp.ClientRequest_PromptsList: "prompts/list",
    mcp.ClientRequest_PromptsGet: "prompts/get",
    mcp.ClientRequest_CompletionComplete: "completion/complete",
    mcp.ClientRequest_LoggingSetLevel: "logging/setLevel",
    mcp.ClientRequest_Ping: "ping",
    mcp.ClientRequest_ResourcesSubscribe: "resources/subscribe",
    mcp.ClientRequest_ResourcesUnsubscribe: "resources/unsubscribe",
}


class ServerHandler(exports.ServerHandler):
    def handle(
        self, ctx: server_handler.MessageContext, message: mcp.ClientMessage
    ) -> Result[mcp.ServerResult, mcp.ErrorCode] | None:
        if not isinstance(message, mcp.ClientMessage_Request):
            return None
        _, request = message.value
        method = METHODS[type(request)]
        return Err(
            mcp.ErrorCode_MethodNotFound(mcp.Error(code=-32601, message=f"Method not found: {method}", data=None))
        )
