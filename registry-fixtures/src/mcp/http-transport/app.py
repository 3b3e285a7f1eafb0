"""The HTTP transport: MCP's streamable HTTP, JSON-response flavour, for `wasmtime serve`.

POST carries one JSON-RPC message. A request is answered 200 with `application/json`: the
outgoing body's stream goes down the chain, which writes the response document into it.
A notification is answered 202 with an empty body (it still travels the chain, which
writes nothing for it); so is a JSON-RPC response from the client. A body that is not
JSON gets 400 with a parse error (-32700, id null); JSON that is not a message, 400 with
invalid-request (-32600). Other methods (GET: no server-sent event stream; DELETE: no
sessions) get 405."""

import json
from typing import Any

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import incoming_handler, streams, wasi_http_types
from wit_world.imports import mcpkg_mcp_types as types

# blocking-write-and-flush accepts at most 4096 bytes per call.
CHUNK = 4096
READ_SIZE = 65536
JSON = [("content-type", b"application/json")]


def write_all(output: streams.OutputStream, data: bytes) -> None:
    for start in range(0, len(data), CHUNK):
        output.blocking_write_and_flush(data[start : start + CHUNK])


def read_body(request: wasi_http_types.IncomingRequest) -> bytes:
    chunks = []
    with request.consume() as body, body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(READ_SIZE))
            except Err as exc:
                if isinstance(exc.value, streams.StreamError_Closed):
                    break
                raise
    return b"".join(chunks)


def respond(
    response_out: wasi_http_types.ResponseOutparam, status: int, headers: list[tuple[str, bytes]]
) -> wasi_http_types.OutgoingBody:
    """Send the status and headers now; the caller streams the body and finishes it."""
    response = wasi_http_types.OutgoingResponse(wasi_http_types.Fields.from_list(headers))
    response.set_status_code(status)
    body = response.body()
    wasi_http_types.ResponseOutparam.set(response_out, Ok(response))
    return body


def finish(body: wasi_http_types.OutgoingBody) -> None:
    wasi_http_types.OutgoingBody.finish(body, None)


def reply(
    response_out: wasi_http_types.ResponseOutparam, status: int, headers: list[tuple[str, bytes]], data: bytes
) -> None:
    body = respond(response_out, status, headers)
    with body.write() as stream:
        write_all(stream, data)
    finish(body)


def error_document(id: Any, code: int, message: str) -> bytes:
    document = {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}
    return (json.dumps(document) + "\n").encode()


def post(request: wasi_http_types.IncomingRequest, response_out: wasi_http_types.ResponseOutparam) -> None:
    try:
        message = json.loads(read_body(request))
    except ValueError as exc:
        reply(response_out, 400, JSON, error_document(None, -32700, f"Parse error: {exc}"))
        return
    if not isinstance(message, dict):
        reply(response_out, 400, JSON, error_document(None, -32600, "Invalid request: expected a JSON object"))
        return
    method = message.get("method")
    if not isinstance(method, str):
        if "id" in message and ("result" in message or "error" in message):
            reply(response_out, 202, [], b"")  # a response from the client: nothing asked for it
        else:
            reply(response_out, 400, JSON, error_document(message.get("id"), -32600, "Invalid request"))
        return
    chained = types.Request(
        id=json.dumps(message["id"]) if "id" in message else None,
        method=method,
        params=json.dumps(message["params"]) if "params" in message else None,
        capabilities=types.Capabilities(0),
    )
    body = respond(response_out, 200 if chained.id is not None else 202, JSON if chained.id is not None else [])
    # The stream is a child of the body: drop it before finishing the body.
    with body.write() as stream:
        incoming_handler.handle(chained, stream)
    finish(body)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: wasi_http_types.IncomingRequest, response_out: wasi_http_types.ResponseOutparam) -> None:
        if isinstance(request.method(), wasi_http_types.Method_Post):
            post(request, response_out)
        else:
            reply(response_out, 405, [("allow", b"POST")], b"")
