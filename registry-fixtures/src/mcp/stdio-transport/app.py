"""The stdio transport: newline-delimited JSON-RPC on stdin/stdout (MCP's stdio transport).

Each line becomes a `request` for the chain, which writes the response to stdout. Lines
that are not JSON get a parse error (-32700, id null) written here; JSON that is not a
JSON-RPC request or notification gets invalid-request (-32600); responses sent by the
client are ignored (this server never sends requests). Returns at end of input."""

import json
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import incoming_handler, stdin, stdout, streams
from wit_world.imports import mcpkg_mcp_types as types

# blocking-write-and-flush accepts at most 4096 bytes per call.
CHUNK = 4096
READ_SIZE = 65536


def send(output: streams.OutputStream, document: dict[str, Any]) -> None:
    data = (json.dumps(document, separators=(",", ":")) + "\n").encode()
    for start in range(0, len(data), CHUNK):
        output.blocking_write_and_flush(data[start : start + CHUNK])


def error(output: streams.OutputStream, id: Any, code: int, message: str) -> None:
    send(output, {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})


def dispatch(line: bytes, output: streams.OutputStream) -> None:
    if not line.strip():
        return
    try:
        message = json.loads(line)
    except ValueError as exc:
        error(output, None, -32700, f"Parse error: {exc}")
        return
    if not isinstance(message, dict):
        error(output, None, -32600, "Invalid request: expected a JSON object")
        return
    method = message.get("method")
    if not isinstance(method, str):
        if "id" in message and ("result" in message or "error" in message):
            return  # a response from the client: nothing asked for it
        error(output, message.get("id"), -32600, "Invalid request: missing method")
        return
    request = types.Request(
        id=json.dumps(message["id"]) if "id" in message else None,
        method=method,
        params=json.dumps(message["params"]) if "params" in message else None,
        capabilities=types.Capabilities(0),
    )
    incoming_handler.handle(request, output)


class Run(exports.Run):
    def run(self) -> None:
        input = stdin.get_stdin()
        output = stdout.get_stdout()
        buffer = b""
        while True:
            try:
                buffer += input.blocking_read(READ_SIZE)
            except Err as exc:
                if isinstance(exc.value, streams.StreamError_Closed):
                    break
                raise Err(None) from exc  # run's `result` error: a failed exit status
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                dispatch(line, output)
        dispatch(buffer, output)
