"""The initialize-result writer of wasmcp v0.3 (world `wasmcp:mcp/initialize-writer@0.3.0`):
the MCP 2025-06-18 InitializeResult, each server capability as an empty object (as
wasmcp's own writer writes them)."""

from jsonrpc import meta, put, result
from wit_world import exports
from wit_world.exports import initialize_result
from wit_world.imports import streams, types

VERSIONS = {
    types.ProtocolVersion.V20250618: "2025-06-18",
    types.ProtocolVersion.V20250326: "2025-03-26",
    types.ProtocolVersion.V20241105: "2024-11-05",
}
CAPABILITIES = (
    (types.ServerCapabilities.COMPLETIONS, "completions"),
    (types.ServerCapabilities.PROMPTS, "prompts"),
    (types.ServerCapabilities.RESOURCES, "resources"),
    (types.ServerCapabilities.TOOLS, "tools"),
    (types.ServerCapabilities.EXPERIMENTAL, "experimental"),
)


class InitializeResult(exports.InitializeResult):
    def write(self, id: types.Id, output: streams.OutputStream, answer: initialize_result.InitializeResult) -> None:
        info = answer.server_info
        server_info = put({"name": info.name, "version": info.version}, "title", info.title)
        document = {
            "protocolVersion": VERSIONS[answer.protocol_version],
            "capabilities": {name: {} for flag, name in CAPABILITIES if flag & answer.capabilities},
            "serverInfo": server_info,
        }
        if answer.options is not None:
            put(document, "instructions", answer.options.instructions)
            put(document, "_meta", meta(answer.options.meta))
        with output:
            result(output, id, document)
