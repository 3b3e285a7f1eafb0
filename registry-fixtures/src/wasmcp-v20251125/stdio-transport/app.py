"""A transport serving MCP over stdio only (mcpkg fixture): newline-delimited JSON-RPC on
stdin and stdout, parsed and written by the imported `server-io`, each message handed to
the chain (`server-handler`). It answers `initialize` itself, with the capabilities it
finds by probing the chain (tools/list, resources/list, prompts/list with request id -1;
completion/complete of the first prompt's first argument when there is one),
and opens one session (`session-manager`) for the connection. No authentication on
stdio: the `server-auth` and `wasmcp:auth/helpers` imports are not called."""

from __future__ import annotations

import sys

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.imports import mcp, server_handler, server_io, session_manager, stdin, stdout

SERVER = mcp.Implementation(name="mcpkg-fixtures-wasmcp", title=None, version="0.1.0", description=None, icons=None)
STORE = "mcpkg-stdio"
PROBE = mcp.RequestId_Number(-1)
FRAME = server_io.MessageFrame(prefix=b"", suffix=b"\n")
LIMIT = server_io.ReadLimit_Delimiter(b"\n")
VERSION_NAMES = {
    mcp.ProtocolVersion.V20251125: "2025-11-25",
    mcp.ProtocolVersion.V20250618: "2025-06-18",
    mcp.ProtocolVersion.V20250326: "2025-03-26",
    mcp.ProtocolVersion.V20241105: "2024-11-05",
}


class Connection:
    def __init__(self) -> None:
        self.output = stdout.get_stdout()
        self.version = mcp.ProtocolVersion.V20251125
        self.session: mcp.Session | None = None

    def context(self, stream: bool = True) -> server_handler.MessageContext:
        return server_handler.MessageContext(
            client_stream=self.output if stream else None,
            protocol_version=VERSION_NAMES[self.version],
            session=self.session,
            identity=None,
            frame=FRAME,
            http_context=None,
        )

    def send(self, message: mcp.ServerMessage) -> None:
        try:
            server_io.send_message(self.output, message, FRAME)
        except Err as error:
            print(f"mcpkg-fixture transport: cannot send: {error.value}", file=sys.stderr)

    def ask(self, request: mcp.ClientRequest) -> Result[mcp.ServerResult, mcp.ErrorCode] | None:
        return server_handler.handle(self.context(stream=False), mcp.ClientMessage_Request((PROBE, request)))

    def probe(self, request: mcp.ClientRequest) -> bool:
        return isinstance(self.ask(request), Ok)

    def probe_completions(self, prompts: list[mcp.Prompt]) -> bool:
        """Completions are supported when completing the first argument of the first prompt
        (with an empty value) is answered by anything but method-not-found."""
        arguments = prompts[0].options.arguments if prompts and prompts[0].options else None
        if not arguments:
            return False
        reference = mcp.CompletionReference_Prompt(mcp.CompletionPromptReference(name=prompts[0].name, title=None))
        request = mcp.CompleteRequest(
            argument=mcp.CompletionArgument(name=arguments[0].name, value=""), ref=reference, context=None
        )
        answer = self.ask(mcp.ClientRequest_CompletionComplete(request))
        return answer is not None and not (
            isinstance(answer, Err) and isinstance(answer.value, mcp.ErrorCode_MethodNotFound)
        )

    def initialize(self, request: mcp.InitializeRequest) -> mcp.ServerResult:
        self.version = request.protocol_version
        try:
            self.session = mcp.Session(session_id=session_manager.initialize(STORE), store_id=STORE)
        except Err as error:
            print(f"mcpkg-fixture transport: no session: {error.value}", file=sys.stderr)
            self.session = None
        lists = mcp.ServerLists(0)
        if self.probe(mcp.ClientRequest_ToolsList(mcp.ListToolsRequest(cursor=None))):
            lists |= mcp.ServerLists.TOOLS
        if self.probe(mcp.ClientRequest_ResourcesList(mcp.ListResourcesRequest(cursor=None))):
            lists |= mcp.ServerLists.RESOURCES
        prompts = self.ask(mcp.ClientRequest_PromptsList(mcp.ListPromptsRequest(cursor=None)))
        completions = False
        if isinstance(prompts, Ok) and isinstance(prompts.value, mcp.ServerResult_PromptsList):
            lists |= mcp.ServerLists.PROMPTS
            completions = self.probe_completions(prompts.value.value.prompts)
        capabilities = mcp.ServerCapabilities(
            completions="{}" if completions else None,
            experimental=None,
            logging=None,
            list_changed=lists or None,
            subscriptions=None,
        )
        result = mcp.InitializeResult(
            meta=None, server_info=SERVER, capabilities=capabilities, protocol_version=self.version, options=None
        )
        return mcp.ServerResult_Initialize(result)

    def request(self, message: mcp.ClientMessage_Request) -> None:
        ident, request = message.value
        if isinstance(request, mcp.ClientRequest_Initialize):
            self.send(mcp.ServerMessage_Result((ident, self.initialize(request.value))))
            return
        if isinstance(request, mcp.ClientRequest_Ping):
            self.send(mcp.ServerMessage_Result((ident, mcp.ServerResult_Ping())))
            return
        answer = server_handler.handle(self.context(), message)
        if isinstance(answer, Ok):
            self.send(mcp.ServerMessage_Result((ident, answer.value)))
        elif isinstance(answer, Err):
            self.send(mcp.ServerMessage_Error((ident, answer.value)))
        else:
            error = mcp.Error(code=-32603, message="no handler answered the request", data=None)
            self.send(mcp.ServerMessage_Error((ident, mcp.ErrorCode_InternalError(error))))

    def serve(self) -> None:
        input = stdin.get_stdin()
        while True:
            try:
                message = server_io.parse_message(input, LIMIT, FRAME)
            except Err as error:
                failure = error.value
                if isinstance(failure, server_io.IoError_Stream):
                    return  # stdin closed: the client is gone
                code = -32700 if isinstance(failure, server_io.IoError_InvalidJsonrpc) else -32600
                kind = mcp.ErrorCode_ParseError if code == -32700 else mcp.ErrorCode_InvalidRequest
                self.send(
                    mcp.ServerMessage_Error((None, kind(mcp.Error(code=code, message=str(failure.value), data=None))))
                )
                continue
            if isinstance(message, mcp.ClientMessage_Request):
                self.request(message)
            else:
                server_handler.handle(self.context(), message)  # notifications and results get no answer


class Run(exports.Run):
    def run(self) -> None:
        Connection().serve()
