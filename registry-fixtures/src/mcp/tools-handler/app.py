"""A tools handler with one tool, `echo`, which returns its `text` argument. Answers
`tools/list` and `tools/call`, announces the `tools` capability, forwards the rest."""

import json
from typing import Any

from wit_world import exports
from wit_world.imports import error_writer, incoming_handler, streams, tools_writer
from wit_world.imports import mcpkg_mcp_types as types

ECHO_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "The text to echo back."}},
    "required": ["text"],
}
TOOLS = [
    tools_writer.Tool(
        name="echo",
        title="Echo",
        description="Returns the `text` argument unchanged.",
        input_schema=json.dumps(ECHO_SCHEMA),
    )
]


def invalid_params(output: streams.OutputStream, id: str, message: str) -> None:
    error_writer.write_error(output, id, error_writer.ErrorCode.INVALID_PARAMS, message)


def call(output: streams.OutputStream, id: str, params: dict[str, Any]) -> None:
    name = params.get("name")
    if name != "echo":
        invalid_params(output, id, f"Unknown tool: {name}")
        return
    arguments = params.get("arguments") or {}
    text = arguments.get("text") if isinstance(arguments, dict) else None
    if not isinstance(text, str):
        invalid_params(output, id, "echo needs a string argument `text`")
        return
    tools_writer.write_call_result(output, id, [tools_writer.ContentBlock_Text(text)], False)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: types.Request, output: streams.OutputStream) -> None:
        request = types.Request(
            id=request.id,
            method=request.method,
            params=request.params,
            capabilities=request.capabilities | types.Capabilities.TOOLS,
        )
        if request.method not in ("tools/list", "tools/call"):
            incoming_handler.handle(request, output)
            return
        if request.id is None:
            return
        try:
            params = json.loads(request.params or "{}")
            if not isinstance(params, dict):
                invalid_params(output, request.id, "params must be an object")
            elif request.method == "tools/list":
                tools_writer.write_tools_list(output, request.id, TOOLS, None)
            else:
                call(output, request.id, params)
        except Exception as error:
            error_writer.write_error(output, request.id, error_writer.ErrorCode.INTERNAL_ERROR, repr(error))
