"""tools/list results, and the streaming `writer` resource of `tools-list-result`."""

from __future__ import annotations

from typing import Any

from jsonrpc import drop, meta, parse_json, put, result
from wit_world.exports import tools_list_result as api
from wit_world.imports import streams, types

HINTS = (
    (api.ToolHints.READ_ONLY, "readOnlyHint"),
    (api.ToolHints.DESTRUCTIVE, "destructiveHint"),
    (api.ToolHints.IDEMPOTENT, "idempotentHint"),
    (api.ToolHints.OPEN_WORLD, "openWorldHint"),
)


def tool_json(tool: api.Tool) -> dict[str, Any]:
    document: dict[str, Any] = {"name": tool.name, "inputSchema": parse_json(tool.input_schema, {"type": "object"})}
    options = tool.options
    if options is not None:
        put(document, "title", options.title)
        put(document, "description", options.description)
        put(document, "outputSchema", parse_json(options.output_schema, None))
        if options.annotations is not None:
            hints = {key: True for flag, key in HINTS if flag & options.annotations.hints}
            document["annotations"] = put(hints, "title", options.annotations.title)
        put(document, "_meta", meta(options.meta))
    return document


def document(tools: list[api.Tool], options: api.Options | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"tools": [tool_json(tool) for tool in tools]}
    if options is not None:
        put(answer, "nextCursor", options.next_cursor)
        put(answer, "_meta", meta(options.meta))
    return answer


class Writer(api.Writer):
    """Collects tools and writes the whole response on `close`."""

    def __init__(self, id: types.Id, output: streams.OutputStream, tools: list[api.Tool]) -> None:
        self.id = id
        self.output = output
        self.tools = tools

    def check_write(self) -> int:
        return 1 << 16

    def write(self, tool: api.Tool) -> None:
        self.tools.append(tool)

    def close(self, options: api.Options | None) -> None:
        result(self.output, self.id, document(self.tools, options))
        drop(self.output)
