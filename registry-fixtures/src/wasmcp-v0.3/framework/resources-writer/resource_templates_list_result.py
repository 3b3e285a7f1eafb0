"""resources/templates/list results, and the streaming `writer` resource of
`resource-templates-list-result`."""

from __future__ import annotations

from typing import Any

from jsonrpc import annotations, drop, meta, put, result
from wit_world.exports import resource_templates_list_result as api
from wit_world.imports import streams, types


def template_json(template: api.Template) -> dict[str, Any]:
    document: dict[str, Any] = {"uriTemplate": template.uri_template, "name": template.name}
    o = template.options
    if o is not None:
        for key, value in (("title", o.title), ("description", o.description), ("mimeType", o.mime_type)):
            put(document, key, value)
        put(document, "annotations", annotations(o.annotations))
        put(document, "_meta", meta(o.meta))
    return document


def document(templates: list[api.Template], options: api.Options | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"resourceTemplates": [template_json(item) for item in templates]}
    if options is not None:
        put(answer, "nextCursor", options.next_cursor)
        put(answer, "_meta", meta(options.meta))
    return answer


class Writer(api.Writer):
    def __init__(self, id: types.Id, output: streams.OutputStream) -> None:
        self.id = id
        self.output = output
        self.templates: list[api.Template] = []

    def check_write(self) -> int:
        return 1 << 16

    def write(self, template: api.Template) -> None:
        self.templates.append(template)

    def close(self, options: api.Options | None) -> None:
        result(self.output, self.id, document(self.templates, options))
        drop(self.output)
