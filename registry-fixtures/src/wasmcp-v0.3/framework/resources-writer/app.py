"""The resources writers of wasmcp v0.3 (world `wasmcp:mcp/resources-writer@0.3.0`):
resources/list, resources/read and resources/templates/list results as MCP 2025-06-18
JSON-RPC responses. The streaming `writer` resources live in the modules named after
their interfaces."""

from __future__ import annotations

import resource_templates_list_result as templates_writer
import resources_list_result as list_writer
import resources_read_result as read_writer
from jsonrpc import result
from wit_world import exports
from wit_world.imports import streams, types


class ResourcesListResult(exports.ResourcesListResult):
    def write(self, id: types.Id, output: streams.OutputStream, resources: list, options: object) -> None:
        with output:
            result(output, id, list_writer.document(resources, options))

    def open(self, id: types.Id, output: streams.OutputStream, initial: object) -> list_writer.Writer:
        return list_writer.Writer(id, output, [initial])


class ResourcesReadResult(exports.ResourcesReadResult):
    def write(self, id: types.Id, output: streams.OutputStream, contents: object, options: object) -> None:
        with output:
            result(output, id, read_writer.document(contents, options))

    def open(self, id: types.Id, output: streams.OutputStream, initial: object) -> read_writer.Writer:
        return read_writer.Writer(id, output, initial)


class ResourceTemplatesListResult(exports.ResourceTemplatesListResult):
    def write(self, id: types.Id, output: streams.OutputStream, templates: list, options: object) -> None:
        with output:
            result(output, id, templates_writer.document(templates, options))

    def open(self, id: types.Id, output: streams.OutputStream) -> templates_writer.Writer:
        return templates_writer.Writer(id, output)
