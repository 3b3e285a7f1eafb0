"""The terminal link: answers `initialize` with the capabilities the chain gathered, `ping`
with an empty result, and every other request with method-not-found. Notifications
(`notifications/initialized`...) end here without a response."""

import json

from wit_world import exports
from wit_world.imports import error_writer, initialize_writer, result_writer, streams
from wit_world.imports import mcpkg_mcp_types as types

SUPPORTED_VERSIONS = ("2025-06-18", "2025-03-26", "2024-11-05")
SERVER_INFO = types.ServerInfo(name="mcpkg-fixtures", version="0.1.0")


def protocol_version(params: str | None) -> str:
    try:
        requested = json.loads(params or "{}").get("protocolVersion")
    except (ValueError, AttributeError):
        requested = None
    return requested if requested in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: types.Request, output: streams.OutputStream) -> None:
        if request.id is None:
            return
        try:
            if request.method == "initialize":
                version = protocol_version(request.params)
                initialize_writer.write_initialize_result(
                    output, request.id, version, request.capabilities, SERVER_INFO, None
                )
            elif request.method == "ping":
                result_writer.write_result(output, request.id, "{}")
            else:
                error_writer.write_error(
                    output, request.id, error_writer.ErrorCode.METHOD_NOT_FOUND, f"Method not found: {request.method}"
                )
        except Exception as error:
            error_writer.write_error(output, request.id, error_writer.ErrorCode.INTERNAL_ERROR, repr(error))
