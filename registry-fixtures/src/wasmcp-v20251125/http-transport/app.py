"""A transport serving MCP's streamable HTTP only (mcpkg fixture), for `wasmtime serve`:
one JSON-RPC message per POST, parsed from the request body and written to the response
body by the imported `server-io`, each handed to the chain (`server-handler`) with an
`http-context`. The behaviour not in the WIT follows wasmcp's transport (see README.md):

- every request: an `Origin` must be a localhost one (or listed in
  `WASMCP_ALLOWED_ORIGINS`; `WASMCP_REQUIRE_ORIGIN=true` requires one); an
  `MCP-Protocol-Version` header must be a version this transport knows (absent: 2025-03-26);
  a refusal is the status with a JSON-RPC error document (code -32700, id null);
- POST: `Accept` must offer `application/json` and `text/event-stream`; `initialize` is
  answered by the transport, as plain JSON, with the capabilities it finds by probing the
  chain; `ping` and `logging/setLevel` by the transport too; any other request goes down
  the chain and its answer comes back as one server-sent event (`text/event-stream`), or as
  plain JSON with `WASMCP_DISABLE_SSE=true`; a notification, or a client's response, goes
  down the chain and is answered 202 with no body;
- sessions are off unless `WASMCP_SESSION_ENABLED=true` (bucket `WASMCP_SESSION_BUCKET`,
  default ""): then `initialize` opens one (`session-manager`) and returns its id in
  `Mcp-Session-Id`, which every later request must carry (checked with `validate`), and
  DELETE marks it terminated; with sessions off an `Mcp-Session-Id` is ignored and DELETE,
  like GET and every other method, is 405.

Public mode only (no `WASMCP_AUTH_MODE=oauth`): no identity, `server-auth` is not called."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import (
    environment,
    mcp,
    server_auth,
    server_handler,
    server_io,
    session_manager,
    sessions,
    streams,
)
from wit_world.imports import wasi_http_types as http

SERVER = mcp.Implementation(name="mcpkg-fixtures-wasmcp", title=None, version="0.1.0", description=None, icons=None)
PROBE = mcp.RequestId_Number(-1)
JSON_FRAME = server_io.MessageFrame(prefix=b"", suffix=b"")
SSE_FRAME = server_io.MessageFrame(prefix=b"data: ", suffix=b"\n\n")
LIMIT = server_io.ReadLimit_MaxBytes(10 * 1024 * 1024)
VERSIONS = {
    "2025-11-25": mcp.ProtocolVersion.V20251125,
    "2025-06-18": mcp.ProtocolVersion.V20250618,
    "2025-03-26": mcp.ProtocolVersion.V20250326,
    "2024-11-05": mcp.ProtocolVersion.V20241105,
}
VERSION_NAMES = {value: key for key, value in VERSIONS.items()}
DEFAULT_VERSION = "2025-03-26"  # no MCP-Protocol-Version header
CONTEXT_HEADERS = ("host", "user-agent", "origin", "referer", "x-forwarded-for", "x-real-ip")
LOCAL_ORIGINS = (
    "http://localhost",
    "https://localhost",
    "http://127.0.0.1",
    "https://127.0.0.1",
    "http://[::1]",
    "https://[::1]",
)
METHOD_NAMES = {
    http.Method_Get: "GET",
    http.Method_Head: "HEAD",
    http.Method_Post: "POST",
    http.Method_Put: "PUT",
    http.Method_Delete: "DELETE",
    http.Method_Connect: "CONNECT",
    http.Method_Options: "OPTIONS",
    http.Method_Trace: "TRACE",
    http.Method_Patch: "PATCH",
}


class Refused(Exception):
    """An HTTP error answered before the response is started."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Config:
    sessions: bool
    bucket: str
    sse: bool
    allowed_origins: list[str] | None
    require_origin: bool

    @staticmethod
    def from_environment() -> Config:
        env = dict(environment.get_environment())
        allowed = env.get("WASMCP_ALLOWED_ORIGINS")
        return Config(
            sessions=env.get("WASMCP_SESSION_ENABLED", "false").lower() == "true",
            bucket=env.get("WASMCP_SESSION_BUCKET", ""),
            sse=env.get("WASMCP_DISABLE_SSE", "false").lower() != "true",
            allowed_origins=None if allowed is None else [item.strip() for item in allowed.split(",")],
            require_origin=env.get("WASMCP_REQUIRE_ORIGIN", "false") == "true",
        )


def drop(handle: Any) -> None:
    """Drop an owned resource handle now (a child must go before its parent)."""
    handle.__exit__(None, None, None)


def read_headers(request: http.IncomingRequest) -> dict[str, str]:
    """The first value of each header, by lower-case name."""
    fields = request.headers()
    entries = fields.entries()
    drop(fields)
    headers: dict[str, str] = {}
    for name, value in entries:
        try:
            headers.setdefault(name.lower(), value.decode())
        except UnicodeDecodeError:
            raise Refused(400, f"Invalid {name} header encoding") from None
    return headers


def check_origin(headers: dict[str, str], config: Config) -> None:
    origin = headers.get("origin")
    if origin is None:
        if config.require_origin:
            raise Refused(400, "Origin header required but not provided")
        return
    if config.allowed_origins is not None:
        if "*" in config.allowed_origins or origin in config.allowed_origins:
            return
        raise Refused(400, f"Origin '{origin}' not in allowed list. Set WASMCP_ALLOWED_ORIGINS environment variable.")
    if not origin.startswith(LOCAL_ORIGINS):
        raise Refused(400, f"Origin '{origin}' not allowed. By default, only localhost origins are permitted.")


def protocol_version(headers: dict[str, str]) -> str:
    version = headers.get("mcp-protocol-version")
    if version is None:
        return DEFAULT_VERSION
    if version not in VERSIONS:
        raise Refused(400, f"Unsupported MCP-Protocol-Version: {version}. Supported versions: {', '.join(VERSIONS)}")
    return version


def check_accept(headers: dict[str, str]) -> None:
    accept = headers.get("accept")
    if accept is None:
        raise Refused(400, "Missing Accept header")
    if not (("application/json" in accept or "*/*" in accept) and ("text/event-stream" in accept or "*/*" in accept)):
        raise Refused(400, "Accept header must include both application/json and text/event-stream")


def session_of(headers: dict[str, str], config: Config) -> str | None:
    """The request's valid session id (None without one, or with sessions off)."""
    session_id = headers.get("mcp-session-id")
    if session_id is None or not config.sessions:
        return None
    try:
        valid = session_manager.validate(session_id, config.bucket)
    except Err as error:
        if isinstance(error.value, sessions.SessionError_NoSuchSession):
            raise Refused(404, "Session error: not found") from None
        raise Refused(400, f"Session validation error: {error.value}") from None
    if not valid:
        raise Refused(404, "Session error: terminated")
    return session_id


def start(
    response_out: http.ResponseOutparam, status: int, headers: list[tuple[str, bytes]]
) -> tuple[http.OutgoingBody, streams.OutputStream]:
    """Send the status and headers now; the caller writes the body stream, drops it and
    finishes the body."""
    response = http.OutgoingResponse(http.Fields.from_list(headers))
    response.set_status_code(status)
    body = response.body()
    http.ResponseOutparam.set(response_out, Ok(response))
    return body, body.write()


def finish(body: http.OutgoingBody, stream: streams.OutputStream) -> None:
    drop(stream)
    http.OutgoingBody.finish(body, None)


def respond(response_out: http.ResponseOutparam, status: int, headers: list[tuple[str, bytes]]) -> None:
    """A response with no body."""
    response = http.OutgoingResponse(http.Fields.from_list(headers))
    response.set_status_code(status)
    body = response.body()
    http.ResponseOutparam.set(response_out, Ok(response))
    http.OutgoingBody.finish(body, None)


def refuse(response_out: http.ResponseOutparam, refusal: Refused) -> None:
    body, stream = start(response_out, refusal.status, [("content-type", b"application/json")])
    document = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": refusal.message}}
    try:
        stream.blocking_write_and_flush(json.dumps(document).encode())
    except Err as error:
        print(f"mcpkg-fixture http transport: cannot answer: {error.value}", file=sys.stderr)
    finish(body, stream)


def method_not_allowed(response_out: http.ResponseOutparam, config: Config) -> None:
    respond(response_out, 405, [("allow", b"POST, DELETE" if config.sessions else b"POST")])


class Exchange:
    """One POST: its message's context, and the answer written to the response."""

    def __init__(self, request: http.IncomingRequest, headers: dict[str, str], version: str, config: Config) -> None:
        self.config = config
        self.version = version
        self.session_id: str | None = None
        path = request.path_with_query() or "/"
        method = METHOD_NAMES.get(type(request.method()), "UNKNOWN")
        kept = [(name, headers[name]) for name in CONTEXT_HEADERS if name in headers]
        self.http_context = server_auth.HttpContext(method=method, path=path, headers=kept)

    def context(
        self, stream: streams.OutputStream | None, frame: server_io.MessageFrame
    ) -> server_handler.MessageContext:
        session = None
        if self.session_id is not None:
            session = mcp.Session(session_id=self.session_id, store_id=self.config.bucket)
        return server_handler.MessageContext(
            client_stream=stream,
            protocol_version=self.version,
            session=session,
            identity=None,
            frame=frame,
            http_context=self.http_context,
        )

    def probe(self, request: mcp.ClientRequest, version: str) -> bool:
        context = server_handler.MessageContext(
            client_stream=None,
            protocol_version=version,
            session=None,
            identity=None,
            frame=JSON_FRAME,
            http_context=None,
        )
        return isinstance(server_handler.handle(context, mcp.ClientMessage_Request((PROBE, request))), Ok)

    def initialize(
        self, ident: mcp.RequestId, request: mcp.InitializeRequest, response_out: http.ResponseOutparam
    ) -> None:
        version = request.protocol_version
        name = VERSION_NAMES[version]
        lists = mcp.ServerLists(0)
        if self.probe(mcp.ClientRequest_ToolsList(mcp.ListToolsRequest(cursor=None)), name):
            lists |= mcp.ServerLists.TOOLS
        if self.probe(mcp.ClientRequest_ResourcesList(mcp.ListResourcesRequest(cursor=None)), name):
            lists |= mcp.ServerLists.RESOURCES
        if self.probe(mcp.ClientRequest_PromptsList(mcp.ListPromptsRequest(cursor=None)), name):
            lists |= mcp.ServerLists.PROMPTS
        capabilities = mcp.ServerCapabilities(
            completions=None, experimental=None, logging="{}", list_changed=lists or None, subscriptions=None
        )
        result = mcp.InitializeResult(
            meta=None, server_info=SERVER, capabilities=capabilities, protocol_version=version, options=None
        )
        headers = [("content-type", b"application/json")]
        if self.config.sessions:
            try:
                headers.append(("mcp-session-id", session_manager.initialize(self.config.bucket).encode()))
            except Err as error:
                print(f"mcpkg-fixture http transport: no session: {error.value}", file=sys.stderr)
        body, stream = start(response_out, 200, headers)
        self.send(stream, mcp.ServerMessage_Result((ident, mcp.ServerResult_Initialize(result))), JSON_FRAME)
        finish(body, stream)

    def send(self, stream: streams.OutputStream, message: mcp.ServerMessage, frame: server_io.MessageFrame) -> None:
        try:
            server_io.send_message(stream, message, frame)
            server_io.flush_buffer(stream)
        except Err as error:
            print(f"mcpkg-fixture http transport: cannot send: {error.value}", file=sys.stderr)

    def request(self, message: mcp.ClientMessage_Request, response_out: http.ResponseOutparam) -> None:
        ident, request = message.value
        if self.config.sse:
            frame, headers = SSE_FRAME, [("content-type", b"text/event-stream"), ("cache-control", b"no-cache")]
        else:
            frame, headers = JSON_FRAME, [("content-type", b"application/json")]
        body, stream = start(response_out, 200, headers)
        answer: mcp.ServerMessage
        if isinstance(request, mcp.ClientRequest_Ping):
            answer = mcp.ServerMessage_Result((ident, mcp.ServerResult_Ping()))
        elif isinstance(request, mcp.ClientRequest_LoggingSetLevel):
            answer = mcp.ServerMessage_Result((ident, mcp.ServerResult_LoggingSetLevel()))
        else:
            handled = server_handler.handle(self.context(stream, frame), message)
            if isinstance(handled, Ok):
                answer = mcp.ServerMessage_Result((ident, handled.value))
            elif isinstance(handled, Err):
                answer = mcp.ServerMessage_Error((ident, handled.value))
            else:
                error = mcp.Error(code=-32603, message="Handler returned None for request", data=None)
                answer = mcp.ServerMessage_Error((ident, mcp.ErrorCode_InternalError(error)))
        self.send(stream, answer, frame)
        finish(body, stream)

    def post(self, request: http.IncomingRequest, headers: dict[str, str], response_out: http.ResponseOutparam) -> None:
        check_accept(headers)
        self.session_id = session_of(headers, self.config)
        incoming = request.consume()
        stream = incoming.stream()
        try:
            message = server_io.parse_message(stream, LIMIT, JSON_FRAME)
        except Err as error:
            raise Refused(400, f"Failed to parse message: {error.value}") from None
        finally:
            drop(stream)
            drop(incoming)
        if isinstance(message, mcp.ClientMessage_Request):
            if isinstance(message.value[1], mcp.ClientRequest_Initialize):
                self.initialize(message.value[0], message.value[1].value, response_out)
                return
            if self.config.sessions and self.session_id is None:
                raise Refused(400, "Session error: ID required for non-initialize requests")
            self.request(message, response_out)
            return
        # a notification, or a client's response or error: down the chain, no answer
        context = self.context(None, JSON_FRAME)
        if not isinstance(message, mcp.ClientMessage_Notification):
            context.http_context = None
        server_handler.handle(context, message)
        respond(response_out, 202, [])


def delete(headers: dict[str, str], config: Config, response_out: http.ResponseOutparam) -> None:
    if not config.sessions:
        method_not_allowed(response_out, config)
        return
    session_id = headers.get("mcp-session-id")
    if session_id is None:
        raise Refused(400, "Session error: ID required for non-initialize requests")
    try:
        session_manager.mark_terminated(session_id, config.bucket, "Client requested deletion")
    except Err as error:
        if isinstance(error.value, sessions.SessionError_NoSuchSession):
            raise Refused(404, "Session error: not found") from None
        raise Refused(500, f"Session storage error: Failed to terminate session: {error.value}") from None
    respond(response_out, 200, [])


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: http.IncomingRequest, response_out: http.ResponseOutparam) -> None:
        config = Config.from_environment()
        try:
            headers = read_headers(request)
            check_origin(headers, config)
            version = protocol_version(headers)
            method = request.method()
            if isinstance(method, http.Method_Post):
                Exchange(request, headers, version, config).post(request, headers, response_out)
            elif isinstance(method, http.Method_Delete):
                delete(headers, config, response_out)
            else:  # wasmcp's GET serves only OAuth discovery, which a public server has no use for
                method_not_allowed(response_out, config)
        except Refused as refusal:
            refuse(response_out, refusal)
