"""A resources handler with one text resource, `mcpkg://fixtures/readme`. Answers
`resources/list` and `resources/read`, announces the `resources` capability, forwards
the rest."""

import json

from wit_world import exports
from wit_world.imports import error_writer, incoming_handler, resources_writer, streams
from wit_world.imports import mcpkg_mcp_types as types

README_URI = "mcpkg://fixtures/readme"
README_TEXT = "mcpkg fixture resource"
MIME_TYPE = "text/plain"
RESOURCES = [
    resources_writer.Resource(uri=README_URI, name="readme", description="A fixed text resource.", mime_type=MIME_TYPE)
]


def invalid_params(output: streams.OutputStream, id: str, message: str) -> None:
    error_writer.write_error(output, id, error_writer.ErrorCode.INVALID_PARAMS, message)


def read(output: streams.OutputStream, id: str, uri: object) -> None:
    if uri != README_URI:
        invalid_params(output, id, f"Unknown resource: {uri}")
        return
    contents = resources_writer.TextContents(uri=README_URI, mime_type=MIME_TYPE, text=README_TEXT)
    resources_writer.write_read_result(output, id, [resources_writer.ResourceContents_Text(contents)])


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: types.Request, output: streams.OutputStream) -> None:
        request = types.Request(
            id=request.id,
            method=request.method,
            params=request.params,
            capabilities=request.capabilities | types.Capabilities.RESOURCES,
        )
        if request.method not in ("resources/list", "resources/read"):
            incoming_handler.handle(request, output)
            return
        if request.id is None:
            return
        try:
            params = json.loads(request.params or "{}")
            if not isinstance(params, dict):
                invalid_params(output, request.id, "params must be an object")
            elif request.method == "resources/list":
                resources_writer.write_resources_list(output, request.id, RESOURCES, None)
            else:
                read(output, request.id, params.get("uri"))
        except Exception as error:
            error_writer.write_error(output, request.id, error_writer.ErrorCode.INTERNAL_ERROR, repr(error))
