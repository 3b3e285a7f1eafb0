"""A wasi-mcp backend with tools, following mcpkg's entry-point convention
(docs/wasi-mcp.md): `run` registers the server and its tools, then calls `serve()`;
the host then calls `handlers` for each request."""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import handlers
from wit_world.imports import capabilities, content, runtime, types

SCHEMAS = {
    "add": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
    "echo": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    "divide": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
    "crash": {"type": "object", "properties": {}},
}
DESCRIPTIONS = {
    "add": "Add two numbers",
    "echo": "Echo the text back",
    "divide": "Divide a by b (an error when b is 0)",
    "crash": "Trap inside the backend (for testing the host)",
}
CALLS = {"count": 0}


def text(value: str) -> content.ContentBlock:
    return content.ContentBlock_Text(content.TextContent("text", value, None))


def error(code: types.ErrorCode, message: str) -> Err[types.Error]:
    return Err(types.Error(code, message, None))


class Run(exports.Run):
    def run(self) -> None:
        caps = capabilities.ServerCapabilities(
            experimental=None,
            logging=capabilities.LoggingCapability(None),
            completions=None,
            prompts=None,
            resources=None,
            tools=capabilities.ToolsCapability(list_changed=False),
            sampling=None,
            elicitation=None,
        )
        runtime.register_server(runtime.ServerInfo("tools-backend", "1.0.0", caps, "Arithmetic and echo tools."))
        annotations = runtime.ToolAnnotations("Add", True, False, True, False)
        runtime.register_tools(
            [
                runtime.ToolDefinition(
                    name,
                    "Add" if name == "add" else None,
                    DESCRIPTIONS[name],
                    json.dumps(schema).encode(),
                    None,
                    annotations if name == "add" else None,
                )
                for name, schema in SCHEMAS.items()
            ]
        )
        runtime.serve()


class Handlers(exports.Handlers):
    def call_tool(self, name: str, arguments: bytes) -> handlers.ToolResult:
        CALLS["count"] += 1
        args = json.loads(arguments or b"{}")
        if name == "add":
            total = args["a"] + args["b"]
            runtime.log(content.LogLevel.INFO, f"add called ({CALLS['count']} calls so far)", None)
            return handlers.ToolResult([text(str(total))], None)
        if name == "echo":
            return handlers.ToolResult([text(args["text"])], False)
        if name == "divide":
            if args["b"] == 0:
                raise error(types.ErrorCode.INVALID_PARAMS, "division by zero")
            return handlers.ToolResult([text(str(args["a"] / args["b"]))], None)
        if name == "crash":
            raise RuntimeError("the crash tool always fails")
        raise error(types.ErrorCode.TOOL_NOT_FOUND, f"no tool {name}")

    def read_resource(self, uri: str) -> handlers.ResourceContents:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "this backend has no resources")

    def get_prompt(self, name: str, arguments: bytes | None) -> handlers.PromptContents:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "this backend has no prompts")

    def handle_subscribe(self, uri: str) -> None:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no subscriptions")

    def handle_unsubscribe(self, uri: str) -> None:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no subscriptions")

    def handle_complete(self, ref_type: handlers.CompletionRefType, ref_value: str) -> list[handlers.Completion]:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no completions")

    def handle_elicit(self, message: str, fields: list[handlers.ElicitationField]) -> handlers.ElicitationResponse:
        raise error(types.ErrorCode.UNSUPPORTED_OPERATION, "no elicitation")
