"""`wasmcp:mcp-v20251125/server-io@0.1.1` (mcpkg fixture): JSON-RPC 2.0 messages of MCP
2025-11-25 read from and written to `wasi:io` streams, framed by the caller's prefix and
suffix. Behaviour from the interface's doc comments and the MCP 2025-11-25 schema.

Parsed: every client request, the client notifications. Serialized: every server result
(tools, resources, resource templates, prompts, completion), errors, notifications, and the
`ping` and `roots/list` server requests.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import server_io
from wit_world.imports import mcp, streams

CHUNK = 4096  # blocking-write-and-flush writes at most 4096 bytes per call

VERSIONS = {
    "2025-11-25": mcp.ProtocolVersion.V20251125,
    "2025-06-18": mcp.ProtocolVersion.V20250618,
    "2025-03-26": mcp.ProtocolVersion.V20250326,
    "2024-11-05": mcp.ProtocolVersion.V20241105,
}
VERSION_NAMES = {value: key for key, value in VERSIONS.items()}
LEVELS = {level.name.lower(): level for level in mcp.LogLevel}


def invalid(message: str) -> Err[server_io.IoError]:
    return Err(server_io.IoError_InvalidMcp(message))


# --- reading ---


def read_frame(stream: streams.InputStream, limit: server_io.ReadLimit) -> bytes:
    """The bytes of one message: up to the delimiter (dropped) or at most max-bytes."""
    data = bytearray()
    if isinstance(limit, server_io.ReadLimit_Delimiter):
        delimiter = bytes(limit.value) or b"\n"
        while not data.endswith(delimiter):
            try:
                data += stream.blocking_read(1)
            except Err as error:
                if data:
                    return bytes(data)
                raise Err(server_io.IoError_Stream(error.value)) from None
        return bytes(data[: -len(delimiter)])
    remaining = limit.value
    while remaining > 0:
        try:
            chunk = stream.blocking_read(min(remaining, 65536))
        except Err as error:
            if data:
                break
            raise Err(server_io.IoError_Stream(error.value)) from None
        data += chunk
        remaining -= len(chunk)
    return bytes(data)


def request_id(value: Any) -> mcp.RequestId:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Err(server_io.IoError_InvalidJsonrpc(f"invalid id {value!r}"))
    return mcp.RequestId_Number(value) if isinstance(value, int) else mcp.RequestId_String(value)


def opt_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def cursor(params: dict[str, Any]) -> str | None:
    value = params.get("cursor")
    return value if isinstance(value, str) else None


def implementation(value: Any) -> mcp.Implementation:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise invalid("clientInfo needs a name and a version")
    return mcp.Implementation(
        name=value["name"],
        title=value.get("title"),
        version=str(value.get("version", "")),
        description=value.get("description"),
        icons=None,
    )


def client_capabilities(value: Any) -> mcp.ClientCapabilities:
    caps = value if isinstance(value, dict) else {}
    roots = caps.get("roots")
    sampling = caps.get("sampling")
    experimental = caps.get("experimental")
    return mcp.ClientCapabilities(
        elicitation=opt_json(caps.get("elicitation")),
        experimental=[(k, json.dumps(v)) for k, v in experimental.items()] if isinstance(experimental, dict) else None,
        list_changed=mcp.ClientLists.ROOTS if isinstance(roots, dict) and roots.get("listChanged") else None,
        sampling=mcp.SamplingCapabilities(
            tools=None if "tools" not in sampling else True, context=None if "context" not in sampling else True
        )
        if isinstance(sampling, dict)
        else None,
    )


def completion_reference(value: Any) -> mcp.CompletionReference:
    """`ref/prompt` (a prompt's name and title) or `ref/resource` (a resource template's URI)."""
    ref = value if isinstance(value, dict) else {}
    if ref.get("type") == "ref/prompt" and isinstance(ref.get("name"), str):
        title = ref.get("title")
        return mcp.CompletionReference_Prompt(
            mcp.CompletionPromptReference(name=ref["name"], title=title if isinstance(title, str) else None)
        )
    if ref.get("type") == "ref/resource" and isinstance(ref.get("uri"), str):
        return mcp.CompletionReference_ResourceTemplate(ref["uri"])
    raise invalid("completion/complete needs a ref: ref/prompt with a name or ref/resource with a uri")


def complete_request(params: dict[str, Any]) -> mcp.CompleteRequest:
    argument = params.get("argument")
    if not isinstance(argument, dict) or not isinstance(argument.get("name"), str):
        raise invalid("completion/complete needs an argument with a name and a value")
    value = argument.get("value", "")
    context = params.get("context")
    return mcp.CompleteRequest(
        argument=mcp.CompletionArgument(name=argument["name"], value=value if isinstance(value, str) else str(value)),
        ref=completion_reference(params.get("ref")),
        context=mcp.CompletionContext(arguments=opt_json(context.get("arguments")))
        if isinstance(context, dict)
        else None,
    )


def client_request(method: str, params: dict[str, Any]) -> mcp.ClientRequest:
    if method == "initialize":
        version = VERSIONS.get(params.get("protocolVersion", ""), mcp.ProtocolVersion.V20251125)
        return mcp.ClientRequest_Initialize(
            mcp.InitializeRequest(
                capabilities=client_capabilities(params.get("capabilities")),
                client_info=implementation(params.get("clientInfo")),
                protocol_version=version,
            )
        )
    if method == "ping":
        meta = params.get("_meta")
        return mcp.ClientRequest_Ping(mcp.PingRequest(meta=opt_json(meta), progress_token=None, extras=[]))
    if method == "tools/list":
        return mcp.ClientRequest_ToolsList(mcp.ListToolsRequest(cursor=cursor(params)))
    if method == "tools/call":
        if not isinstance(params.get("name"), str):
            raise invalid("tools/call needs a tool name")
        return mcp.ClientRequest_ToolsCall(
            mcp.CallToolRequest(name=params["name"], arguments=opt_json(params.get("arguments")))
        )
    if method == "resources/list":
        return mcp.ClientRequest_ResourcesList(mcp.ListResourcesRequest(cursor=cursor(params)))
    if method == "resources/templates/list":
        return mcp.ClientRequest_ResourcesTemplatesList(mcp.ListResourceTemplatesRequest(cursor=cursor(params)))
    if method == "resources/read":
        if not isinstance(params.get("uri"), str):
            raise invalid("resources/read needs a uri")
        return mcp.ClientRequest_ResourcesRead(mcp.ReadResourceRequest(uri=params["uri"]))
    if method == "resources/subscribe":
        return mcp.ClientRequest_ResourcesSubscribe(str(params.get("uri", "")))
    if method == "resources/unsubscribe":
        return mcp.ClientRequest_ResourcesUnsubscribe(str(params.get("uri", "")))
    if method == "prompts/list":
        return mcp.ClientRequest_PromptsList(mcp.ListPromptsRequest(cursor=cursor(params)))
    if method == "prompts/get":
        if not isinstance(params.get("name"), str):
            raise invalid("prompts/get needs a prompt name")
        return mcp.ClientRequest_PromptsGet(
            mcp.GetPromptRequest(name=params["name"], arguments=opt_json(params.get("arguments")))
        )
    if method == "completion/complete":
        return mcp.ClientRequest_CompletionComplete(complete_request(params))
    if method == "logging/setLevel":
        level = LEVELS.get(params.get("level", ""))
        if level is None:
            raise invalid(f"unknown log level {params.get('level')!r}")
        return mcp.ClientRequest_LoggingSetLevel(level)
    raise invalid(f"unsupported method {method}")


def notification_options(params: dict[str, Any]) -> mcp.NotificationOptions:
    extras = {k: v for k, v in params.items() if k != "_meta"}
    return mcp.NotificationOptions(meta=opt_json(params.get("_meta")), extras=json.dumps(extras) if extras else None)


def client_notification(method: str, params: dict[str, Any]) -> mcp.ClientNotification:
    if method == "notifications/initialized":
        return mcp.ClientNotification_Initialized(notification_options(params))
    if method == "notifications/roots/list_changed":
        return mcp.ClientNotification_RootsListChanged(notification_options(params))
    if method == "notifications/cancelled":
        return mcp.ClientNotification_Cancelled(
            mcp.CancelledNotification(request_id=request_id(params.get("requestId")), reason=params.get("reason"))
        )
    if method == "notifications/progress":
        token = params.get("progressToken")
        return mcp.ClientNotification_Progress(
            mcp.ProgressNotification(
                progress_token=mcp.ProgressToken_Integer(token)
                if isinstance(token, int)
                else mcp.ProgressToken_String(str(token)),
                progress=float(params.get("progress", 0)),
                total=params.get("total"),
                message=params.get("message"),
            )
        )
    raise invalid(f"unsupported notification {method}")


def parse(data: bytes) -> mcp.ClientMessage:
    try:
        body = json.loads(data)
    except ValueError as error:
        raise Err(server_io.IoError_InvalidJsonrpc(f"not JSON: {error}")) from None
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
        raise Err(server_io.IoError_InvalidJsonrpc("not a JSON-RPC 2.0 message"))
    params = body.get("params")
    params = params if isinstance(params, dict) else {}
    method = body.get("method")
    if isinstance(method, str):
        if "id" in body:
            return mcp.ClientMessage_Request((request_id(body["id"]), client_request(method, params)))
        return mcp.ClientMessage_Notification(client_notification(method, params))
    if "error" in body:
        error = body["error"] if isinstance(body["error"], dict) else {}
        detail = mcp.Error(
            code=int(error.get("code", 0)), message=str(error.get("message", "")), data=opt_json(error.get("data"))
        )
        ident = None if body.get("id") is None else request_id(body["id"])
        return mcp.ClientMessage_Error((ident, mcp.ErrorCode_JsonRpc(detail)))
    raise invalid("client results are not supported by this server")


# --- writing ---


def loads_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def read_all(stream: streams.InputStream) -> bytes:
    data = bytearray()
    while True:
        try:
            data += stream.blocking_read(65536)
        except Err:
            return bytes(data)


def text_of(value: mcp.TextData) -> str:
    if isinstance(value, mcp.TextData_Text):
        return value.value
    return read_all(value.value).decode()


def blob_of(value: mcp.BlobData) -> str:
    data = value.value if isinstance(value, mcp.BlobData_Blob) else read_all(value.value)
    return base64.b64encode(data).decode()


def annotations(value: mcp.Annotations | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return drop_none(
        {
            "audience": [role.name.lower() for role in value.audience] if value.audience is not None else None,
            "lastModified": value.last_modified,
            "priority": value.priority,
        }
    )


def content_options(options: mcp.ContentOptions | None) -> dict[str, Any]:
    if options is None:
        return {}
    return drop_none({"annotations": annotations(options.annotations), "_meta": loads_or_text(options.meta)})


def resource_contents(value: mcp.ResourceContents) -> dict[str, Any]:
    item = value.value
    options = item.options
    base = drop_none({"uri": item.uri, "mimeType": options.mime_type if options else None})
    if options and options.meta is not None:
        base["_meta"] = loads_or_text(options.meta)
    if isinstance(value, mcp.ResourceContents_Text):
        base["text"] = text_of(item.text)
    else:
        base["blob"] = blob_of(item.blob)
    return base


def icons(values: list[mcp.Icon] | None) -> list[dict[str, Any]] | None:
    if values is None:
        return None
    return [
        drop_none(
            {
                "src": icon.src,
                "mimeType": icon.mime_type,
                "sizes": icon.sizes,
                "theme": icon.theme.name.lower() if icon.theme is not None else None,
            }
        )
        for icon in values
    ]


def content_block(block: mcp.ContentBlock) -> dict[str, Any]:
    value = block.value
    if isinstance(block, mcp.ContentBlock_Text):
        return {"type": "text", "text": text_of(value.text), **content_options(value.options)}
    if isinstance(block, (mcp.ContentBlock_Image, mcp.ContentBlock_Audio)):
        kind = "image" if isinstance(block, mcp.ContentBlock_Image) else "audio"
        return {
            "type": kind,
            "data": blob_of(value.data),
            "mimeType": value.mime_type,
            **content_options(value.options),
        }
    if isinstance(block, mcp.ContentBlock_ResourceLink):
        options = value.options
        extra = {}
        if options is not None:
            extra = drop_none(
                {
                    "title": options.title,
                    "description": options.description,
                    "size": options.size,
                    "mimeType": options.mime_type,
                    "annotations": annotations(options.annotations),
                    "_meta": loads_or_text(options.meta),
                    "icons": icons(options.icons),
                }
            )
        return {"type": "resource_link", "uri": value.uri, "name": value.name, **extra}
    return {"type": "resource", "resource": resource_contents(value.resource), **content_options(value.options)}


def tool(value: mcp.Tool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": value.name, "inputSchema": loads_or_text(value.input_schema)}
    options = value.options
    if options is not None:
        hints = options.annotations
        body.update(
            drop_none(
                {
                    "title": options.title,
                    "description": options.description,
                    "outputSchema": loads_or_text(options.output_schema),
                    "_meta": loads_or_text(options.meta),
                    "annotations": drop_none(
                        {
                            "title": hints.title,
                            "readOnlyHint": hints.read_only_hint,
                            "destructiveHint": hints.destructive_hint,
                            "idempotentHint": hints.idempotent_hint,
                            "openWorldHint": hints.open_world_hint,
                        }
                    )
                    if hints is not None
                    else None,
                }
            )
        )
    return body


def resource(value: mcp.McpResource) -> dict[str, Any]:
    body: dict[str, Any] = {"uri": value.uri, "name": value.name}
    options = value.options
    if options is not None:
        body.update(
            drop_none(
                {
                    "title": options.title,
                    "description": options.description,
                    "mimeType": options.mime_type,
                    "size": options.size,
                    "annotations": annotations(options.annotations),
                    "icons": icons(options.icons),
                    "_meta": loads_or_text(options.meta),
                }
            )
        )
    return body


def resource_template(value: mcp.ResourceTemplate) -> dict[str, Any]:
    body: dict[str, Any] = {"uriTemplate": value.uri_template, "name": value.name}
    options = value.options
    if options is not None:
        body.update(
            drop_none(
                {
                    "title": options.title,
                    "description": options.description,
                    "mimeType": options.mime_type,
                    "annotations": annotations(options.annotations),
                    "icons": icons(options.icons),
                    "_meta": loads_or_text(options.meta),
                }
            )
        )
    return body


def prompt(value: mcp.Prompt) -> dict[str, Any]:
    body: dict[str, Any] = {"name": value.name}
    options = value.options
    if options is not None:
        arguments = None
        if options.arguments is not None:
            arguments = [
                drop_none(
                    {"name": arg.name, "title": arg.title, "description": arg.description, "required": arg.required}
                )
                for arg in options.arguments
            ]
        body.update(
            drop_none(
                {
                    "title": options.title,
                    "description": options.description,
                    "arguments": arguments,
                    "icons": icons(options.icons),
                    "_meta": loads_or_text(options.meta),
                }
            )
        )
    return body


def capabilities(value: mcp.ServerCapabilities) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if value.completions is not None:
        body["completions"] = loads_or_text(value.completions)
    if value.logging is not None:
        body["logging"] = loads_or_text(value.logging)
    if value.experimental is not None:
        body["experimental"] = {key: loads_or_text(item) for key, item in value.experimental}
    lists = value.list_changed or mcp.ServerLists(0)
    subscriptions = value.subscriptions or mcp.ServerSubscriptions(0)
    if mcp.ServerLists.TOOLS in lists:
        body["tools"] = {"listChanged": True}
    if mcp.ServerLists.PROMPTS in lists:
        body["prompts"] = {"listChanged": True}
    if mcp.ServerLists.RESOURCES in lists or mcp.ServerSubscriptions.RESOURCES in subscriptions:
        resources: dict[str, Any] = {"listChanged": mcp.ServerLists.RESOURCES in lists}
        if mcp.ServerSubscriptions.RESOURCES in subscriptions:
            resources["subscribe"] = True
        body["resources"] = resources
    return body


def with_meta(body: dict[str, Any], meta: str | None, next_cursor: str | None = None) -> dict[str, Any]:
    if meta is not None:
        body["_meta"] = loads_or_text(meta)
    if next_cursor is not None:
        body["nextCursor"] = next_cursor
    return body


def server_result(result: mcp.ServerResult) -> dict[str, Any]:
    if isinstance(result, (mcp.ServerResult_Ping, mcp.ServerResult_LoggingSetLevel)):
        return {}
    if isinstance(result, mcp.ServerResult_Initialize):
        value = result.value
        info = value.server_info
        body: dict[str, Any] = {
            "protocolVersion": VERSION_NAMES[value.protocol_version],
            "capabilities": capabilities(value.capabilities),
            "serverInfo": drop_none(
                {"name": info.name, "title": info.title, "version": info.version, "description": info.description}
            ),
        }
        if value.options is not None and value.options.instructions is not None:
            body["instructions"] = value.options.instructions
        return with_meta(body, value.meta)
    if isinstance(result, mcp.ServerResult_ToolsList):
        listed = result.value
        return with_meta({"tools": [tool(t) for t in listed.tools]}, listed.meta, listed.next_cursor)
    if isinstance(result, mcp.ServerResult_ToolsCall):
        called = result.value
        body = {"content": [content_block(block) for block in called.content]}
        if called.is_error is not None:
            body["isError"] = called.is_error
        if called.structured_content is not None:
            body["structuredContent"] = loads_or_text(called.structured_content)
        return with_meta(body, called.meta)
    if isinstance(result, mcp.ServerResult_ResourcesList):
        found = result.value
        return with_meta({"resources": [resource(r) for r in found.resources]}, found.meta, found.next_cursor)
    if isinstance(result, mcp.ServerResult_ResourcesTemplatesList):
        templates = result.value
        body = {"resourceTemplates": [resource_template(t) for t in templates.resource_templates]}
        return with_meta(body, templates.meta, templates.next_cursor)
    if isinstance(result, mcp.ServerResult_ResourcesRead):
        read = result.value
        return with_meta({"contents": [resource_contents(c) for c in read.contents]}, read.meta)
    if isinstance(result, mcp.ServerResult_PromptsList):
        prompts = result.value
        return with_meta({"prompts": [prompt(p) for p in prompts.prompts]}, prompts.meta, prompts.next_cursor)
    if isinstance(result, mcp.ServerResult_PromptsGet):
        got = result.value
        messages = [{"role": m.role.name.lower(), "content": content_block(m.content)} for m in got.messages]
        return with_meta(drop_none({"description": got.description, "messages": messages}), got.meta)
    if isinstance(result, mcp.ServerResult_CompletionComplete):
        completed = result.value
        completion = drop_none({"values": completed.values, "total": completed.total, "hasMore": completed.has_more})
        return with_meta({"completion": completion}, completed.meta)
    raise Err(server_io.IoError_Serialization(f"{type(result).__name__} is not supported by this server-io"))


def error_body(code: mcp.ErrorCode) -> dict[str, Any]:
    detail = code.value
    return drop_none({"code": detail.code, "message": detail.message, "data": loads_or_text(detail.data)})


def id_json(value: mcp.RequestId | None) -> Any:
    return None if value is None else value.value


def server_notification(value: mcp.ServerNotification) -> dict[str, Any]:
    item = value.value
    if isinstance(value, mcp.ServerNotification_Log):
        params = drop_none({"level": item.level.name.lower(), "logger": item.logger})
        params["data"] = loads_or_text(item.data)
        return {"method": "notifications/message", "params": params}
    if isinstance(value, mcp.ServerNotification_Progress):
        token = item.progress_token.value
        params = drop_none(
            {"progressToken": token, "progress": item.progress, "total": item.total, "message": item.message}
        )
        return {"method": "notifications/progress", "params": params}
    if isinstance(value, mcp.ServerNotification_Cancellation):
        return {
            "method": "notifications/cancelled",
            "params": drop_none({"requestId": item.request_id.value, "reason": item.reason}),
        }
    if isinstance(value, mcp.ServerNotification_ResourcesUpdated):
        return {"method": "notifications/resources/updated", "params": with_meta({"uri": item.uri}, item.meta)}
    if isinstance(value, mcp.ServerNotification_ElicitationComplete):
        return {"method": "notifications/elicitation/complete", "params": {"elicitationId": item.elicitation_id}}
    names = {
        mcp.ServerNotification_ToolsListChanged: "notifications/tools/list_changed",
        mcp.ServerNotification_ResourcesListChanged: "notifications/resources/list_changed",
        mcp.ServerNotification_PromptsListChanged: "notifications/prompts/list_changed",
    }
    params = with_meta({}, item.meta)
    extras = loads_or_text(item.extras)
    if isinstance(extras, dict):
        params.update(extras)
    return {"method": names[type(value)], "params": params}


def serialize(message: mcp.ServerMessage) -> dict[str, Any]:
    if isinstance(message, mcp.ServerMessage_Result):
        ident, result = message.value
        return {"jsonrpc": "2.0", "id": id_json(ident), "result": server_result(result)}
    if isinstance(message, mcp.ServerMessage_Error):
        ident, code = message.value
        return {"jsonrpc": "2.0", "id": id_json(ident), "error": error_body(code)}
    if isinstance(message, mcp.ServerMessage_Notification):
        return {"jsonrpc": "2.0", **server_notification(message.value)}
    ident, request = message.value
    if isinstance(request, mcp.ServerRequest_Ping):
        return {"jsonrpc": "2.0", "id": id_json(ident), "method": "ping"}
    if isinstance(request, mcp.ServerRequest_RootsList):
        return {"jsonrpc": "2.0", "id": id_json(ident), "method": "roots/list"}
    raise Err(server_io.IoError_Serialization(f"{type(request).__name__} is not supported by this server-io"))


def write_all(output: streams.OutputStream, data: bytes) -> None:
    try:
        for start in range(0, len(data), CHUNK):
            output.blocking_write_and_flush(data[start : start + CHUNK])
    except Err as error:
        raise Err(server_io.IoError_Stream(error.value)) from None


class ServerIo(exports.ServerIo):
    def parse_message(
        self, input: streams.InputStream, limit: server_io.ReadLimit, frame: server_io.MessageFrame
    ) -> mcp.ClientMessage:
        while True:
            data = read_frame(input, limit)
            prefix = bytes(frame.prefix)
            if prefix and data.startswith(prefix):
                data = data[len(prefix) :]
            suffix = bytes(frame.suffix)
            if suffix and data.endswith(suffix):
                data = data[: -len(suffix)]
            if data.strip():
                return parse(data)

    def send_message(
        self, output: streams.OutputStream, message: mcp.ServerMessage, frame: server_io.MessageFrame
    ) -> None:
        try:
            text = json.dumps(serialize(message), ensure_ascii=False, separators=(",", ":"))
        except Err:
            raise
        except Exception as error:  # a value JSON cannot carry
            raise Err(server_io.IoError_Serialization(str(error))) from None
        write_all(output, bytes(frame.prefix) + text.encode() + bytes(frame.suffix))

    def flush_buffer(self, output: streams.OutputStream) -> None:
        try:
            output.blocking_flush()
        except Err as error:
            raise Err(server_io.IoError_Stream(error.value)) from None
