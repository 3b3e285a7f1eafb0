"""The error-result writer of wasmcp v0.3 (world `wasmcp:mcp/error-writer@0.3.0`): a
JSON-RPC error response; `data`, when given, as a string (as wasmcp's own writer does)."""

from jsonrpc import ERROR_CODES, error
from wit_world import exports
from wit_world.imports import streams, types
from wit_world.imports.wasmcp_mcp_error import Error


class ErrorResult(exports.ErrorResult):
    def write(self, id: types.Id, output: streams.OutputStream, err: Error) -> None:
        with output:
            error(output, id, ERROR_CODES[err.code.value], err.message, err.data)
