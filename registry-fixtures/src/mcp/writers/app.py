"""The `writers` service: every writer interface of `mcpkg:mcp`, producing MCP 2025-06-18
JSON-RPC response documents (one JSON document and a newline) on the caller's stream.

Request ids arrive as JSON text and are embedded verbatim (parsed, then re-serialised)."""

import json
from typing import Any

from wit_world import exports
from wit_world.exports import error_writer, resources_writer, tools_writer
from wit_world.imports import mcpkg_mcp_types as types
from wit_world.imports import streams

# blocking-write-and-flush accepts at most 4096 bytes per call.
CHUNK = 4096

ERROR_CODES = {
    error_writer.ErrorCode.PARSE_ERROR: -32700,
    error_writer.ErrorCode.INVALID_REQUEST: -32600,
    error_writer.ErrorCode.METHOD_NOT_FOUND: -32601,
    error_writer.ErrorCode.INVALID_PARAMS: -32602,
    error_writer.ErrorCode.INTERNAL_ERROR: -32603,
}

CAPABILITY_NAMES = (
    (types.Capabilities.TOOLS, "tools"),
    (types.Capabilities.RESOURCES, "resources"),
    (types.Capabilities.PROMPTS, "prompts"),
    (types.Capabilities.COMPLETIONS, "completions"),
    (types.Capabilities.LOGGING, "logging"),
)


def send(output: streams.OutputStream, document: dict[str, Any]) -> None:
    data = (json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
    for start in range(0, len(data), CHUNK):
        output.blocking_write_and_flush(data[start : start + CHUNK])


def request_id(id: str | None) -> Any:
    return None if id is None else json.loads(id)


def result(output: streams.OutputStream, id: str, value: Any) -> None:
    send(output, {"jsonrpc": "2.0", "id": request_id(id), "result": value})


def optional(document: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if value is not None:
        document[key] = value
    return document


class ErrorWriter(exports.ErrorWriter):
    def write_error(
        self, output: streams.OutputStream, id: str | None, code: error_writer.ErrorCode, message: str
    ) -> None:
        error = {"code": ERROR_CODES[code], "message": message}
        send(output, {"jsonrpc": "2.0", "id": request_id(id), "error": error})


class ResultWriter(exports.ResultWriter):
    def write_result(self, output: streams.OutputStream, id: str, result_json: str) -> None:
        result(output, id, json.loads(result_json))


def content_block(block: tools_writer.ContentBlock) -> dict[str, Any]:
    if isinstance(block, tools_writer.ContentBlock_Text):
        return {"type": "text", "text": block.value}
    if isinstance(block, tools_writer.ContentBlock_Image):
        return {"type": "image", "data": block.value.data, "mimeType": block.value.mime_type}
    link = block.value
    return optional({"type": "resource_link", "uri": link.uri, "name": link.name}, "mimeType", link.mime_type)


class ToolsWriter(exports.ToolsWriter):
    def write_tools_list(
        self, output: streams.OutputStream, id: str, tools: list[tools_writer.Tool], next_cursor: str | None
    ) -> None:
        listed = []
        for tool in tools:
            entry: dict[str, Any] = {"name": tool.name}
            optional(entry, "title", tool.title)
            optional(entry, "description", tool.description)
            entry["inputSchema"] = json.loads(tool.input_schema)
            listed.append(entry)
        result(output, id, optional({"tools": listed}, "nextCursor", next_cursor))

    def write_call_result(
        self, output: streams.OutputStream, id: str, content: list[tools_writer.ContentBlock], is_error: bool
    ) -> None:
        result(output, id, {"content": [content_block(block) for block in content], "isError": is_error})


class ResourcesWriter(exports.ResourcesWriter):
    def write_resources_list(
        self,
        output: streams.OutputStream,
        id: str,
        resources: list[resources_writer.Resource],
        next_cursor: str | None,
    ) -> None:
        listed = []
        for resource in resources:
            entry: dict[str, Any] = {"uri": resource.uri, "name": resource.name}
            optional(entry, "description", resource.description)
            optional(entry, "mimeType", resource.mime_type)
            listed.append(entry)
        result(output, id, optional({"resources": listed}, "nextCursor", next_cursor))

    def write_read_result(
        self, output: streams.OutputStream, id: str, contents: list[resources_writer.ResourceContents]
    ) -> None:
        documents = []
        for item in contents:
            entry: dict[str, Any] = {"uri": item.value.uri}
            optional(entry, "mimeType", item.value.mime_type)
            if isinstance(item, resources_writer.ResourceContents_Text):
                entry["text"] = item.value.text
            else:
                entry["blob"] = item.value.blob
            documents.append(entry)
        result(output, id, {"contents": documents})


class InitializeWriter(exports.InitializeWriter):
    def write_initialize_result(
        self,
        output: streams.OutputStream,
        id: str,
        protocol_version: str,
        capabilities: types.Capabilities,
        server_info: types.ServerInfo,
        instructions: str | None,
    ) -> None:
        announced = {name: {} for flag, name in CAPABILITY_NAMES if flag in capabilities}
        document: dict[str, Any] = {
            "protocolVersion": protocol_version,
            "capabilities": announced,
            "serverInfo": {"name": server_info.name, "version": server_info.version},
        }
        result(output, id, optional(document, "instructions", instructions))
