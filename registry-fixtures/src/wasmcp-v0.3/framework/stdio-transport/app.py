"""The stdio transport of wasmcp v0.3 (world `wasmcp:mcp/stdio-transport@0.3.0`):
newline-delimited JSON-RPC on stdin/stdout, MCP's stdio transport.

For each message the `request` service parses from stdin (stdin is borrowed, so the
service can keep what it read past a newline) the chain gets the owned request and an
owned stdout stream, and writes the response there. Returns at end of input."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import incoming_handler, stdin, stdout, streams
from wit_world.imports.request import Request


class Run(exports.Run):
    def run(self) -> None:
        input = stdin.get_stdin()
        while True:
            try:
                request = Request.from_stdio_stream(input)
            except Err as exc:
                if isinstance(exc.value, streams.StreamError_Closed):
                    return
                raise Err(None) from exc  # run's `result` error: a failed exit status
            incoming_handler.handle(request, stdout.get_stdout())
