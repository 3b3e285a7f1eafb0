"""JSON-RPC 2.0 output shared by this project's wasmcp v0.3 framework components (plain
Python, no bindings: every component puts this folder on its path).

A response is one JSON document and a newline (MCP's stdio framing; the HTTP transport
sends the same bytes as the body). Writes go out in pieces of at most 4096 bytes, the
most `blocking-write-and-flush` accepts per call."""

from __future__ import annotations

import base64
import json
from typing import Any

CHUNK = 4096

# wasmcp:mcp/error error-code, in enum order -> the JSON-RPC code (types.wit doc comment)
ERROR_CODES = (-32700, -32600, -32601, -32602, -32603)

# request-context keys the `request` component of this set fills when it parses a message:
# the method name and the id as JSON text (absent for a notification)
METHOD_KEY = "jsonrpc.method"
ID_KEY = "jsonrpc.id"


def id_value(id: Any) -> Any:
    """A wasmcp `id` variant (number or string case) as a JSON value."""
    return id.value


def write_bytes(output: Any, data: bytes) -> None:
    for start in range(0, len(data), CHUNK):
        output.blocking_write_and_flush(data[start : start + CHUNK])


def send(output: Any, document: dict[str, Any]) -> None:
    write_bytes(output, (json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n").encode())


def result(output: Any, id: Any, value: Any) -> None:
    send(output, {"jsonrpc": "2.0", "id": id_value(id), "result": value})


def error(output: Any, id: Any, code: int, message: str, data: str | None = None) -> None:
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    send(output, {"jsonrpc": "2.0", "id": id_value(id), "error": body})


def drop(handle: Any) -> None:
    """Drop an owned resource handle now (an output stream must be gone before its HTTP
    body is finished)."""
    handle.__exit__(None, None, None)


def meta(entries: list[tuple[str, str]] | None) -> dict[str, str] | None:
    return None if entries is None else dict(entries)


def put(document: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set `key` unless `value` is None (MCP leaves optional fields out)."""
    if value is not None:
        document[key] = value
    return document


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def parse_json(text: str | None, fallback: Any) -> Any:
    if text is None:
        return fallback
    try:
        return json.loads(text)
    except ValueError:
        return fallback


def annotations(value: Any) -> dict[str, Any] | None:
    """A wasmcp `content.annotations` record as MCP Annotations."""
    if value is None:
        return None
    document: dict[str, Any] = {"priority": value.priority}
    if value.audience is not None:
        document["audience"] = [role.name.lower() for role in value.audience]
    return put(document, "lastModified", value.last_modified)
