"""The `request` service of wasmcp v0.3 (`export wasmcp:mcp/request@0.3.0`): parses one
JSON-RPC message into a `request` resource. The resource itself is `request.Request`
(componentize-py looks for an exported resource in a module named after its interface)."""

from wit_world import exports


class Request(exports.Request):
    pass
