"""resources/read results, and the streaming `writer` resource of `resources-read-result`.

The WIT carries contents as bytes: UTF-8 text becomes TextResourceContents (`text`),
anything else BlobResourceContents (`blob`, base64)."""

from __future__ import annotations

from typing import Any

from jsonrpc import b64, drop, meta, put, result
from wit_world.exports import resources_read_result as api
from wit_world.imports import streams, types


def contents_json(uri: str, data: bytes, options: api.ContentsOptions | None) -> dict[str, Any]:
    document: dict[str, Any] = {"uri": uri}
    try:
        document["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        document["blob"] = b64(data)
    if options is not None:
        put(document, "mimeType", options.mime_type)
        put(document, "_meta", meta(options.meta))
    return document


def document(contents: api.Contents, options: api.Options | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"contents": [contents_json(contents.uri, contents.data, contents.options)]}
    if options is not None:
        put(answer, "_meta", meta(options.meta))
    return answer


class Writer(api.Writer):
    """Collects the contents' bytes and writes the whole response on `close`."""

    def __init__(self, id: types.Id, output: streams.OutputStream, initial: api.Contents) -> None:
        self.id = id
        self.output = output
        self.initial = initial
        self.data = bytearray(initial.data)

    def check_write(self) -> int:
        return 1 << 20

    def write(self, contents: bytes) -> None:
        self.data += contents

    def close(self, options: api.Options | None) -> None:
        whole = api.Contents(uri=self.initial.uri, data=bytes(self.data), options=self.initial.options)
        result(self.output, self.id, document(whole, options))
        drop(self.output)
