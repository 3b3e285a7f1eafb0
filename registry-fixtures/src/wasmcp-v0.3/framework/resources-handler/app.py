"""A resources handler on wasmcp v0.3 (world `wasmcp:mcp/resources-handler@0.3.0`) with
one text resource, `wasmcp-fixtures://readme`. Registers the `resources` capability on
`initialize` (through `request.needs`), answers resources/list, resources/read and
resources/templates/list, and forwards everything else down the chain."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import (
    error_result,
    incoming_handler,
    request,
    resource_templates_list_result,
    resources_list_result,
    resources_read_result,
    streams,
    types,
)
from wit_world.imports.wasmcp_mcp_error import Error, ErrorCode

README_URI = "wasmcp-fixtures://readme"
README_TEXT = "a resource served by a wasmcp v0.3 resources handler"
MIME_TYPE = "text/plain"
README = resources_list_result.Resource(
    uri=README_URI,
    name="readme",
    options=resources_list_result.ResourceOptions(
        size=len(README_TEXT.encode()),
        title="Readme",
        description="A fixed text resource.",
        mime_type=MIME_TYPE,
        annotations=None,
        meta=None,
    ),
)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, req: request.Request, output: streams.OutputStream) -> None:
        if not req.needs(types.ServerCapabilities.RESOURCES):
            incoming_handler.handle(req, output)
            return
        with req:
            id = req.id()
            try:
                params = req.params()
            except Err as exc:
                error_result.write(id, output, exc.value)
                return
        if isinstance(params, request.Params_ResourcesList):
            resources_list_result.write(id, output, [README], None)
        elif isinstance(params, request.Params_ResourcesRead):
            if params.value != README_URI:
                unknown = Error(code=ErrorCode.INVALID_PARAMS, message=f"Unknown resource: {params.value}", data=None)
                error_result.write(id, output, unknown)
                return
            options = resources_read_result.ContentsOptions(mime_type=MIME_TYPE, meta=None)
            contents = resources_read_result.Contents(uri=README_URI, data=README_TEXT.encode(), options=options)
            resources_read_result.write(id, output, contents, None)
        else:
            resource_templates_list_result.write(id, output, [], None)
