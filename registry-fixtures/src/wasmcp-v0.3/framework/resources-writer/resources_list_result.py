"""resources/list results, and the streaming `writer` resource of `resources-list-result`."""

from __future__ import annotations

from typing import Any

from jsonrpc import annotations, drop, meta, put, result
from wit_world.exports import resources_list_result as api
from wit_world.imports import streams, types


def resource_json(resource: api.Resource) -> dict[str, Any]:
    document: dict[str, Any] = {"uri": resource.uri, "name": resource.name}
    o = resource.options
    if o is not None:
        for key, value in (
            ("title", o.title),
            ("description", o.description),
            ("mimeType", o.mime_type),
            ("size", o.size),
        ):
            put(document, key, value)
        put(document, "annotations", annotations(o.annotations))
        put(document, "_meta", meta(o.meta))
    return document


def document(resources: list[api.Resource], options: api.Options | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"resources": [resource_json(item) for item in resources]}
    if options is not None:
        put(answer, "nextCursor", options.next_cursor)
        put(answer, "_meta", meta(options.meta))
    return answer


class Writer(api.Writer):
    def __init__(self, id: types.Id, output: streams.OutputStream, resources: list[api.Resource]) -> None:
        self.id = id
        self.output = output
        self.resources = resources

    def check_write(self) -> int:
        return 1 << 16

    def write(self, resource: api.Resource) -> None:
        self.resources.append(resource)

    def close(self, options: api.Options | None) -> None:
        result(self.output, self.id, document(self.resources, options))
        drop(self.output)
