"""GET a URL over `wasi:http/outgoing-handler` (shared by mcpkg's fixtures that call out:
`wasmcp-v20251125/fetch-tools` and `wasi-mcp/fetch-backend`).

Resources are dropped child first (a body's stream before the body, a pollable before its
future), as wasi:http requires, by nesting `with` blocks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok
from wit_world.imports import outgoing_handler, streams
from wit_world.imports import wasi_http_types as http

MAX_BODY = 1 << 20  # a fixture reads at most 1 MiB


class FetchError(Exception):
    """The request could not be made or answered: the reason, in words."""


def describe(code: object) -> str:
    """`ErrorCode_ConnectionRefused()` -> "connection refused" (with its payload, if any)."""
    name = type(code).__name__.removeprefix("ErrorCode_")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    payload = getattr(code, "value", None)
    return f"{words} ({payload})" if payload is not None else words


def _request(url: str) -> http.OutgoingRequest:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"not an http(s) URL: {url!r}")
    request = http.OutgoingRequest(http.Fields.from_list([("user-agent", b"mcpkg-fixture")]))
    request.set_method(http.Method_Get())
    request.set_scheme(http.Scheme_Https() if parts.scheme == "https" else http.Scheme_Http())
    request.set_authority(parts.netloc)
    request.set_path_with_query((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return request


def _read(body: http.IncomingBody) -> bytes:
    data = bytearray()
    with body.stream() as stream:
        while len(data) < MAX_BODY:
            try:
                data += stream.blocking_read(MAX_BODY - len(data))
            except Err as error:
                if isinstance(error.value, streams.StreamError_Closed):
                    break
                raise FetchError("the response body could not be read") from None
    return bytes(data)


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body text) of a GET of `url`; FetchError when it fails."""
    try:
        future = outgoing_handler.handle(_request(url), None)
    except Err as error:
        raise FetchError(describe(error.value)) from None
    with future:
        with future.subscribe() as pollable:
            outcome = future.get()
            while outcome is None:
                pollable.block()
                outcome = future.get()
        if not isinstance(outcome, Ok):
            raise FetchError("the response was already taken")
        answer = outcome.value
        if not isinstance(answer, Ok):
            raise FetchError(describe(answer.value))
        with answer.value as response:
            status = response.status()
            types = response.headers().get("content-type")
            with response.consume() as body:
                text = _read(body).decode("utf-8", "replace")
    return status, (types[0].decode() if types else ""), text
