"""The terminal of a wasmcp v0.3 chain (world `wasmcp:mcp/initialize-handler@0.3.0`).

Answers `initialize` with the capabilities the handlers registered on the request on its
way here (`request.needs`), `ping` with an empty result, and every other request with the
error its `params` give (method-not-found for a method no handler took; parse-error or
invalid-request for a message that was not one). Notifications end here unanswered: the
`request` service of this set marks them by leaving `jsonrpc.id` out of the context."""

from componentize_py_types import Err
from jsonrpc import ID_KEY, METHOD_KEY, drop, result
from wit_world import exports
from wit_world.imports import error_result, initialize_result, request, streams, types
from wit_world.imports.wasmcp_mcp_error import Error, ErrorCode

SERVER_INFO = types.Implementation(name="mcpkg-wasmcp-fixtures", title=None, version="0.1.0")
INSTRUCTIONS = "An MCP server composed from wasmcp v0.3 components."


class IncomingHandler(exports.IncomingHandler):
    def handle(self, req: request.Request, output: streams.OutputStream) -> None:
        with req:
            method = req.get(METHOD_KEY)
            if method is not None and req.get(ID_KEY) is None:
                drop(output)  # a notification: nothing to answer
                return
            id = req.id()
            if method == b"ping":
                result(output, id, {})
                drop(output)
                return
            try:
                params = req.params()
            except Err as exc:
                error_result.write(id, output, exc.value)
                return
            if isinstance(params, request.Params_Initialize):
                capabilities = req.get_capabilities() or types.ServerCapabilities(0)
                answer = initialize_result.InitializeResult(
                    server_info=SERVER_INFO,
                    capabilities=capabilities,
                    protocol_version=params.value.protocol_version,
                    options=initialize_result.InitializeResultOptions(instructions=INSTRUCTIONS, meta=None),
                )
                initialize_result.write(id, output, answer)
            else:  # a capability no handler of the chain took
                name = (method or b"").decode(errors="replace")
                error_result.write(
                    id, output, Error(code=ErrorCode.METHOD_NOT_FOUND, message=f"Method not found: {name}", data=None)
                )
