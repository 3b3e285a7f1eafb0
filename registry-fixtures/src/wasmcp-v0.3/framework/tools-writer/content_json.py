"""wasmcp `content.content-block` values as MCP 2025-06-18 ContentBlock JSON."""

from __future__ import annotations

from typing import Any

from jsonrpc import annotations, b64, meta, put
from wit_world.imports import content


def with_options(document: dict[str, Any], options: content.ContentOptions | None) -> dict[str, Any]:
    if options is not None:
        put(document, "annotations", annotations(options.annotations))
        put(document, "_meta", meta(options.meta))
    return document


def embedded(resource: content.EmbeddedResource) -> dict[str, Any]:
    if isinstance(resource, content.EmbeddedResource_Text):
        document: dict[str, Any] = {"uri": resource.value.uri, "text": resource.value.text}
    else:
        document = {"uri": resource.value.uri, "blob": b64(resource.value.blob)}
    options = resource.value.options
    if options is not None:
        put(document, "mimeType", options.mime_type)
        put(document, "_meta", meta(options.meta))
    return document


def block(value: content.ContentBlock) -> dict[str, Any]:
    if isinstance(value, content.ContentBlock_Text):
        return with_options({"type": "text", "text": value.value.text}, value.value.options)
    if isinstance(value, content.ContentBlock_Image):
        image = value.value
        return with_options({"type": "image", "data": b64(image.data), "mimeType": image.mime_type}, image.options)
    if isinstance(value, content.ContentBlock_Audio):
        audio = value.value
        return with_options({"type": "audio", "data": b64(audio.data), "mimeType": audio.mime_type}, audio.options)
    if isinstance(value, content.ContentBlock_ResourceLink):
        link = value.value
        document: dict[str, Any] = {"type": "resource_link", "uri": link.uri, "name": link.name}
        if link.options is not None:
            o = link.options
            for key, item in (
                ("title", o.title),
                ("description", o.description),
                ("size", o.size),
                ("mimeType", o.mime_type),
            ):
                put(document, key, item)
            put(document, "annotations", annotations(o.annotations))
            put(document, "_meta", meta(o.meta))
        return document
    resource = value.value
    return with_options({"type": "resource", "resource": embedded(resource.resource)}, resource.options)
