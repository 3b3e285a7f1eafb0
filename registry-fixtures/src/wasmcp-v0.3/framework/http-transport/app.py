"""The HTTP transport of wasmcp v0.3 (world `wasmcp:mcp/http-transport@0.3.0`): MCP's
streamable HTTP, JSON-response flavour, for `wasmtime serve`.

POST carries one JSON-RPC message, which the `request` service parses from the body. A
request is answered 200 with `application/json`: the owned request and the owned body
stream go down the chain, which writes the response document into it. A notification,
or a response sent by the client, is answered 202 with an empty body (a notification
still travels the chain, which writes nothing for it). Other methods get 405 (GET: no
server-sent event stream; DELETE: no sessions)."""

from componentize_py_types import Ok
from jsonrpc import ID_KEY, METHOD_KEY, drop
from wit_world import exports
from wit_world.imports import incoming_handler, wasi_http_types
from wit_world.imports.request import Request

JSON = [("content-type", b"application/json")]


def respond(
    response_out: wasi_http_types.ResponseOutparam, status: int, headers: list[tuple[str, bytes]]
) -> wasi_http_types.OutgoingBody:
    """Send the status and headers now; the caller streams the body and finishes it."""
    response = wasi_http_types.OutgoingResponse(wasi_http_types.Fields.from_list(headers))
    response.set_status_code(status)
    body = response.body()
    wasi_http_types.ResponseOutparam.set(response_out, Ok(response))
    return body


def post(incoming: wasi_http_types.IncomingRequest, response_out: wasi_http_types.ResponseOutparam) -> None:
    body_in = incoming.consume()
    stream = body_in.stream()
    request = Request.from_http_stream(stream)
    drop(stream)
    drop(body_in)
    has_method = request.get(METHOD_KEY) is not None
    has_id = request.get(ID_KEY) is not None
    if not has_method and has_id:  # a response from the client: nothing asked for it
        drop(request)
        body = respond(response_out, 202, [])
    elif not has_method:  # not a JSON-RPC message: the chain's terminal writes the error
        body = respond(response_out, 400, JSON)
        incoming_handler.handle(request, body.write())
    else:
        body = respond(response_out, 200 if has_id else 202, JSON if has_id else [])
        incoming_handler.handle(request, body.write())
    wasi_http_types.OutgoingBody.finish(body, None)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: wasi_http_types.IncomingRequest, response_out: wasi_http_types.ResponseOutparam) -> None:
        if isinstance(request.method(), wasi_http_types.Method_Post):
            post(request, response_out)
        else:
            body = respond(response_out, 405, [("allow", b"POST")])
            wasi_http_types.OutgoingBody.finish(body, None)
