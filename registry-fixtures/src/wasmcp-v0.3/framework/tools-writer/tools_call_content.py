"""tools/call content results, and the streaming `writer` resource of `tools-call-content`
(`write` appends bytes to the current content block's text, `next` starts another)."""

from __future__ import annotations

from typing import Any

from content_json import block
from jsonrpc import drop, meta, put, result
from wit_world.exports import tools_call_content as api
from wit_world.imports import content, streams, types


def with_meta(document: dict[str, Any], options: Any) -> dict[str, Any]:
    if options is not None:
        put(document, "_meta", meta(options.meta))
    return document


def document(blocks: list[content.ContentBlock], options: api.Options | None) -> dict[str, Any]:
    answer = {"content": [block(item) for item in blocks], "isError": bool(options and options.is_error)}
    return with_meta(answer, options)


class Writer(api.Writer):
    def __init__(self, id: types.Id, output: streams.OutputStream, initial: content.ContentBlock) -> None:
        self.id = id
        self.output = output
        self.blocks: list[dict[str, Any]] = [block(initial)]

    def check_write(self) -> int:
        return 1 << 16

    def write(self, contents: bytes) -> None:
        current = self.blocks[-1]
        if current.get("type") != "text":
            current = {"type": "text", "text": ""}
            self.blocks.append(current)
        current["text"] += contents.decode(errors="replace")

    def next(self, item: content.ContentBlock) -> None:
        self.blocks.append(block(item))

    def close(self, options: api.Options | None) -> None:
        answer = with_meta({"content": self.blocks, "isError": bool(options and options.is_error)}, options)
        result(self.output, self.id, answer)
        drop(self.output)
