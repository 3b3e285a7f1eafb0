"""A hostile wasi:mcp backend, for testing the host's bounds (`mcpkg run --timeout
--max-memory --max-message`, docs/wasi-mcp.md): each tool but `ping` misbehaves in its own
way; `ping` proves the host still serves after each one."""

import json
import sys
import time

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import handlers
from wit_world.imports import capabilities, content, runtime, types

TOOLS = {
    "ping": "Answer pong (and how many calls this instance has seen)",
    "spin": "Loop forever",
    "hog": "Allocate memory without bound",
    "deep": "Recurse without bound (through C, so the native stack grows)",
    "huge": "Return a text result of `mib` MiB (default 10)",
    "nap": "Sleep `seconds` (default 3600): blocked in a WASI call, where no epoch check runs",
}
CALLS = {"count": 0}


def text(value: str) -> content.ContentBlock:
    return content.ContentBlock_Text(content.TextContent("text", value, None))


def error(code: types.ErrorCode, message: str) -> Err[types.Error]:
    return Err(types.Error(code, message, None))


def down(depth: int) -> int:
    return sum(map(down, [depth + 1]))  # each level passes through C (sum, map)


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
        runtime.register_server(runtime.ServerInfo("hostile-backend", "1.0.0", caps, None))
        schema = json.dumps({"type": "object", "properties": {}}).encode()
        runtime.register_tools(
            [runtime.ToolDefinition(name, None, about, schema, None, None) for name, about in TOOLS.items()]
        )
        runtime.serve()


class Handlers(exports.Handlers):
    def call_tool(self, name: str, arguments: bytes) -> handlers.ToolResult:
        CALLS["count"] += 1
        args = json.loads(arguments or b"{}")
        if name == "ping":
            return handlers.ToolResult([text(f"pong {CALLS['count']}")], None)
        if name == "spin":
            while True:
                pass
        if name == "hog":
            chunks = []
            while True:
                chunks.append(bytearray(1 << 20))
        if name == "deep":
            sys.setrecursionlimit(100_000_000)
            return handlers.ToolResult([text(str(down(0)))], None)
        if name == "huge":
            return handlers.ToolResult([text("x" * (int(args.get("mib", 10)) << 20))], None)
        if name == "nap":
            time.sleep(float(args.get("seconds", 3600)))
            return handlers.ToolResult([text("rested")], None)
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
