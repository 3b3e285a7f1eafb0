"""A wasi-mcp backend that calls out (fixture): its `fetch` tool GETs a URL over
`wasi:http/outgoing-handler` (granted by `mcpkg run --allow-http`) and returns the body; a
failed fetch is the tool's own error result, and the backend keeps answering."""

import json

from componentize_py_types import Err
from wasi_fetch import FetchError, get
from wit_world import exports
from wit_world.exports import handlers
from wit_world.imports import capabilities, content, runtime
from wit_world.imports import wasi_mcp_types as types  # "types" alone would be wasi:http's too

SCHEMA = {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}


def text(value: str) -> content.ContentBlock:
    return content.ContentBlock_Text(content.TextContent("text", value, None))


def unsupported(what: str) -> Err[types.Error]:
    return Err(types.Error(types.ErrorCode.UNSUPPORTED_OPERATION, f"this backend has no {what}", None))


class Run(exports.Run):
    def run(self) -> None:
        caps = capabilities.ServerCapabilities(
            experimental=None,
            logging=None,
            completions=None,
            prompts=None,
            resources=None,
            tools=capabilities.ToolsCapability(list_changed=False),
            sampling=None,
            elicitation=None,
        )
        runtime.register_server(runtime.ServerInfo("fetch-backend", "1.0.0", caps, "Fetches URLs."))
        definition = runtime.ToolDefinition(
            "fetch", None, "GET a URL and return its body", json.dumps(SCHEMA).encode(), None, None
        )
        runtime.register_tools([definition])
        runtime.serve()


class Handlers(exports.Handlers):
    def call_tool(self, name: str, arguments: bytes) -> handlers.ToolResult:
        if name != "fetch":
            raise Err(types.Error(types.ErrorCode.TOOL_NOT_FOUND, f"no tool {name}", None))
        try:
            url = json.loads(arguments or b"{}").get("url")
        except (ValueError, AttributeError):
            url = None
        if not isinstance(url, str):
            return handlers.ToolResult([text("fetch needs a url")], True)
        try:
            status, _, body = get(url)
        except FetchError as error:
            return handlers.ToolResult([text(f"fetch failed: {error} ({url})")], True)
        if not 200 <= status < 300:
            return handlers.ToolResult([text(f"fetch failed: HTTP {status} ({url})")], True)
        return handlers.ToolResult([text(body)], None)

    def read_resource(self, uri: str) -> handlers.ResourceContents:
        raise unsupported("resources")

    def get_prompt(self, name: str, arguments: bytes | None) -> handlers.PromptContents:
        raise unsupported("prompts")

    def handle_subscribe(self, uri: str) -> None:
        raise unsupported("subscriptions")

    def handle_unsubscribe(self, uri: str) -> None:
        raise unsupported("subscriptions")

    def handle_complete(self, ref_type: handlers.CompletionRefType, ref_value: str) -> list[handlers.Completion]:
        raise unsupported("completions")

    def handle_elicit(self, message: str, fields: list[handlers.ElicitationField]) -> handlers.ElicitationResponse:
        raise unsupported("elicitation")
