"""The tools writers of wasmcp v0.3 (world `wasmcp:mcp/tools-writer@0.3.0`): tools/list
and tools/call results as MCP 2025-06-18 JSON-RPC responses. The streaming `writer`
resources are `tools_list_result.Writer` and `tools_call_content.Writer`."""

from __future__ import annotations

import tools_call_content as content_writer
import tools_list_result as list_writer
from jsonrpc import parse_json, result
from wit_world import exports
from wit_world.exports import tools_call_structured
from wit_world.imports import content, streams, types


class ToolsListResult(exports.ToolsListResult):
    def write(self, id: types.Id, output: streams.OutputStream, tools: list, options: object) -> None:
        with output:
            result(output, id, list_writer.document(tools, options))

    def open(self, id: types.Id, output: streams.OutputStream, initial: list) -> list_writer.Writer:
        return list_writer.Writer(id, output, list(initial))


class ToolsCallContent(exports.ToolsCallContent):
    def write_text(self, id: types.Id, output: streams.OutputStream, text: str, options: object) -> None:
        block = content.ContentBlock_Text(content.TextContent(text=text, options=None))
        self.write(id, output, [block], options)

    def write_error(self, id: types.Id, output: streams.OutputStream, reason: str) -> None:
        with output:
            result(output, id, {"content": [{"type": "text", "text": reason}], "isError": True})

    def write(self, id: types.Id, output: streams.OutputStream, blocks: list, options: object) -> None:
        with output:
            result(output, id, content_writer.document(blocks, options))

    def open(self, id: types.Id, output: streams.OutputStream, initial: content.ContentBlock) -> content_writer.Writer:
        return content_writer.Writer(id, output, initial)


class ToolsCallStructured(exports.ToolsCallStructured):
    def write(
        self, id: types.Id, output: streams.OutputStream, structured: str, options: tools_call_structured.Options | None
    ) -> None:
        """The structured value goes in `structuredContent`, and as text in `content` for
        clients that read only that (the MCP schema's advice)."""
        document = {
            "content": [{"type": "text", "text": structured}],
            "structuredContent": parse_json(structured, structured),
            "isError": bool(options and options.is_error),
        }
        with output:
            result(output, id, content_writer.with_meta(document, options))
