"""The `request` resource: a parsed JSON-RPC message, its MCP params, a request-scoped
context and the capabilities handlers announce on the way to `initialize`.

Behaviour (types.wit doc comments; method -> feature and the params fields from the MCP
2025-06-18 schema):

- `from-stdio-stream` returns the next non-empty line (`\\n` or `\\r\\n`). Bytes read past
  the newline are kept for the next call: the stdio transport borrows the same stdin
  stream for every message. At end of input it fails with `closed`.
- `from-http-stream` reads the stream to its end and parses all of it.
- A message that is not a JSON object becomes a request whose `params` fail with
  parse-error (-32700) or invalid-request (-32600), so the terminal answers it and the
  server carries on.
- The context starts with `jsonrpc.method` (the method) and, unless the message is a
  notification, `jsonrpc.id` (the id as JSON text): the WIT's `id` cannot say "none",
  and the transports and the terminal of this set need to know.
- `feature`: initialize for `initialize` and every method no capability owns (ping,
  notifications), so those reach the terminal.
- `needs` registers the capabilities on an `initialize` request and returns false; on
  other requests it is true when the request's feature is among them.
"""

from __future__ import annotations

import json
from typing import Any

from componentize_py_types import Err
from jsonrpc import ID_KEY, METHOD_KEY
from wit_world.exports import request as api
from wit_world.imports import streams, types
from wit_world.imports.wasmcp_mcp_error import Error, ErrorCode

READ_SIZE = 65536

FEATURES = {
    "initialize": api.Feature.INITIALIZE,
    "tools/list": api.Feature.TOOLS,
    "tools/call": api.Feature.TOOLS,
    "resources/list": api.Feature.RESOURCES,
    "resources/read": api.Feature.RESOURCES,
    "resources/templates/list": api.Feature.RESOURCES,
    "prompts/list": api.Feature.PROMPTS,
    "prompts/get": api.Feature.PROMPTS,
    "completion/complete": api.Feature.COMPLETION,
}
CAPABILITY = {
    api.Feature.TOOLS: types.ServerCapabilities.TOOLS,
    api.Feature.RESOURCES: types.ServerCapabilities.RESOURCES,
    api.Feature.PROMPTS: types.ServerCapabilities.PROMPTS,
    api.Feature.COMPLETION: types.ServerCapabilities.COMPLETIONS,
}
PROTOCOL_VERSIONS = {
    "2025-06-18": types.ProtocolVersion.V20250618,
    "2025-03-26": types.ProtocolVersion.V20250326,
    "2024-11-05": types.ProtocolVersion.V20241105,
}
CLIENT_CAPABILITIES = (
    ("elicitation", types.ClientCapabilities.ELICITATION),
    ("roots", types.ClientCapabilities.ROOTS),
    ("sampling", types.ClientCapabilities.SAMPLING),
    ("experimental", types.ClientCapabilities.EXPERIMENTAL),
)

# stdin bytes read past the last message handed out
_pending = b""


def invalid(message: str) -> Error:
    return Error(code=ErrorCode.INVALID_PARAMS, message=message, data=None)


def field(params: Any, name: str) -> Any:
    return params.get(name) if isinstance(params, dict) else None


def cursor(params: Any) -> str:
    value = field(params, "cursor")
    return value if isinstance(value, str) else ""


def required_string(params: Any, name: str, method: str) -> str:
    value = field(params, name)
    if not isinstance(value, str):
        raise Err(invalid(f"{method}: params.{name} must be a string"))
    return value


def arguments(params: Any, method: str) -> api.Arguments:
    name = required_string(params, "name", method)
    args = field(params, "arguments")
    return api.Arguments(name=name, arguments=None if args is None else json.dumps(args))


def implementation(value: Any) -> types.Implementation:
    value = value if isinstance(value, dict) else {}
    title = value.get("title")
    return types.Implementation(
        name=str(value.get("name", "")),
        title=title if isinstance(title, str) else None,
        version=str(value.get("version", "")),
    )


def initialize_params(params: Any) -> api.InitializeParams:
    if not isinstance(params, dict):
        raise Err(invalid("initialize: params must be an object"))
    offered = params.get("capabilities")
    capabilities = types.ClientCapabilities(0)
    for name, flag in CLIENT_CAPABILITIES:
        if isinstance(offered, dict) and name in offered:
            capabilities |= flag
    # A version the enum does not know (a newer client) gets the latest one it does.
    version = PROTOCOL_VERSIONS.get(params.get("protocolVersion"), types.ProtocolVersion.V20250618)
    return api.InitializeParams(
        capabilities=capabilities, client_info=implementation(params.get("clientInfo")), protocol_version=version
    )


class Request(api.Request):
    def __init__(self, message: Any, problem: Error | None = None) -> None:
        self.message = message if isinstance(message, dict) else {}
        self.problem = problem
        self.context: dict[str, bytes] = {}
        self.capabilities: types.ServerCapabilities | None = None
        method = self.message.get("method")
        if isinstance(method, str):
            self.context[METHOD_KEY] = method.encode()
        if "id" in self.message:
            self.context[ID_KEY] = json.dumps(self.message["id"]).encode()

    @classmethod
    def parse(cls, data: bytes) -> Request:
        try:
            message = json.loads(data)
        except ValueError as exc:
            return cls(None, Error(code=ErrorCode.PARSE_ERROR, message=f"Parse error: {exc}", data=None))
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return cls(message, Error(code=ErrorCode.INVALID_REQUEST, message="Invalid request", data=None))
        return cls(message)

    @classmethod
    def from_http_stream(cls, input: streams.InputStream) -> Request:
        chunks = []
        while True:
            try:
                chunks.append(input.blocking_read(READ_SIZE))
            except Err as exc:
                if isinstance(exc.value, streams.StreamError_Closed):
                    break
                raise
        return cls.parse(b"".join(chunks))

    @classmethod
    def from_stdio_stream(cls, input: streams.InputStream) -> Request:
        global _pending
        while True:
            line, newline, rest = _pending.partition(b"\n")
            if newline:
                _pending = rest
                if line.strip():
                    return cls.parse(line.rstrip(b"\r"))
                continue
            try:
                _pending += input.blocking_read(READ_SIZE)
            except Err as exc:
                if not isinstance(exc.value, streams.StreamError_Closed):
                    raise
                last, _pending = _pending, b""
                if last.strip():
                    return cls.parse(last.rstrip(b"\r"))
                raise

    def method(self) -> str:
        method = self.message.get("method")
        return method if isinstance(method, str) else ""

    def id(self) -> types.Id:
        value = self.message.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return types.Id_Number(value)
        return types.Id_String(value if isinstance(value, str) else "")

    def feature(self) -> api.Feature:
        return FEATURES.get(self.method(), api.Feature.INITIALIZE)

    def params(self) -> api.Params:
        if self.problem is not None:
            raise Err(self.problem)
        method = self.method()
        params = self.message.get("params")
        if method == "initialize":
            return api.Params_Initialize(initialize_params(params))
        if method == "tools/list":
            return api.Params_ToolsList(cursor(params))
        if method == "tools/call":
            return api.Params_ToolsCall(arguments(params, method))
        if method == "resources/list":
            return api.Params_ResourcesList(cursor(params))
        if method == "resources/read":
            return api.Params_ResourcesRead(required_string(params, "uri", method))
        if method == "resources/templates/list":
            return api.Params_ResourcesTemplatesList(cursor(params))
        if method == "prompts/list":
            return api.Params_PromptsList(cursor(params))
        if method == "prompts/get":
            return api.Params_PromptsGet(arguments(params, method))
        if method == "completion/complete":
            return api.Params_CompletionComplete(completion_params(params))
        raise Err(Error(code=ErrorCode.METHOD_NOT_FOUND, message=f"Method not found: {method}", data=None))

    def get(self, key: str) -> bytes | None:
        return self.context.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.context[key] = value

    def needs(self, capabilities: types.ServerCapabilities) -> bool:
        feature = self.feature()
        if feature == api.Feature.INITIALIZE:
            if self.method() == "initialize":
                self.capabilities = capabilities if self.capabilities is None else self.capabilities | capabilities
            return False
        return bool(CAPABILITY[feature] & capabilities)

    def get_capabilities(self) -> types.ServerCapabilities | None:
        return self.capabilities


def completion_params(params: Any) -> api.CompletionParams:
    argument = field(params, "argument")
    ref = field(params, "ref")
    if not isinstance(argument, dict) or not isinstance(ref, dict):
        raise Err(invalid("completion/complete: params.argument and params.ref must be objects"))
    if ref.get("type") == "ref/prompt":
        title = ref.get("title")
        reference: api.CompletionRef = api.CompletionRef_Prompt(
            api.CompletionPromptReference(
                name=str(ref.get("name", "")), title=title if isinstance(title, str) else None
            )
        )
    else:
        reference = api.CompletionRef_ResourceTemplate(str(ref.get("uri", "")))
    context = field(params, "context")
    context_args = field(context, "arguments")
    return api.CompletionParams(
        argument=api.CompletionArgument(name=str(argument.get("name", "")), value=str(argument.get("value", ""))),
        ref=reference,
        context=None
        if context is None
        else api.CompletionContext(arguments=None if context_args is None else json.dumps(context_args)),
    )
