"""MCP 2025-06-18 JSON <-> the typed values of wasi:mcp (pure: no wasmtime, no I/O).

WIT values are plain Python here: a record is a dict keyed by its WIT field names
(`input-schema`), a variant or result case is a `Case`, an enum is its case name, an
option is None or the value, `list<u8>` is bytes. `backend_host.py` converts between
these and wasmtime's values. docs/wasi-mcp.md tabulates the mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# the MCP versions the backend host speaks, newest first (`initialize` echoes the client's
# when it is one of these, else offers the newest); the first answer's default
PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18")
PROTOCOL_VERSION = "2025-06-18"

# JSON-RPC 2.0 and MCP error codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002  # MCP's code for resources/read of an unknown URI

# wasi:mcp/types error-code -> the JSON-RPC error code a client gets
ERROR_CODES = {
    "parse-error": PARSE_ERROR,
    "invalid-request": INVALID_REQUEST,
    "method-not-found": METHOD_NOT_FOUND,
    "invalid-params": INVALID_PARAMS,
    "internal-error": INTERNAL_ERROR,
    "resource-not-found": RESOURCE_NOT_FOUND,
    "tool-not-found": INVALID_PARAMS,  # MCP: an unknown tool is invalid params
    "prompt-not-found": INVALID_PARAMS,
    "unsupported-operation": METHOD_NOT_FOUND,
}
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


@dataclass(frozen=True)
class Case:
    """A variant (or result) value: its case name and payload."""

    name: str
    value: Any = None


class RpcError(Exception):
    """A JSON-RPC error to answer with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body


def wit_error(code: str, message: str) -> dict[str, Any]:
    """A `wasi:mcp/types.error` record (what a refused runtime call returns)."""
    return {"code": code, "message": message, "data": None}


def _json_bytes(data: bytes | None) -> Any:
    """Optional JSON carried as bytes: parsed, else the text as it is."""
    if data is None:
        return None
    text = bytes(data).decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_from_wit(error: dict[str, Any], what: str) -> RpcError:
    """A handler's `error` record -> the JSON-RPC error (`tool-not-found` -> -32602)."""
    code = ERROR_CODES.get(str(error.get("code")), INTERNAL_ERROR)
    return RpcError(code, str(error.get("message") or what), _json_bytes(error.get("data")))


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


# --- what the backend registers -> what the client lists ---------------------------------


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def tool_json(tool: dict[str, Any]) -> dict[str, Any]:
    """A `tool-definition` -> an MCP Tool; ValueError when its schema is not a JSON object."""
    name = tool["name"]
    body: dict[str, Any] = {
        "name": name,
        "title": tool.get("title"),
        "description": tool.get("description"),
        "inputSchema": _json_object(tool["input-schema"], f"tool {name}'s input-schema"),
    }
    if tool.get("output-schema") is not None:
        body["outputSchema"] = _json_object(tool["output-schema"], f"tool {name}'s output-schema")
    notes = tool.get("annotations")
    if notes is not None:
        body["annotations"] = _drop_none(
            {
                "title": notes.get("title"),
                "readOnlyHint": notes.get("read-only-hint"),
                "destructiveHint": notes.get("destructive-hint"),
                "idempotentHint": notes.get("idempotent-hint"),
                "openWorldHint": notes.get("open-world-hint"),
            }
        )
    return _drop_none(body)


def resource_json(resource: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "uri": resource["uri"],
            "name": resource["name"],
            "title": resource.get("title"),
            "description": resource.get("description"),
            "mimeType": resource.get("mime-type"),
            "size": resource.get("size"),
        }
    )


def template_json(template: dict[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "uriTemplate": template["uri-template"],
            "name": template["name"],
            "title": template.get("title"),
            "description": template.get("description"),
            "mimeType": template.get("mime-type"),
        }
    )


def prompt_json(prompt: dict[str, Any]) -> dict[str, Any]:
    arguments = prompt.get("arguments")
    return _drop_none(
        {
            "name": prompt["name"],
            "title": prompt.get("title"),
            "description": prompt.get("description"),
            "arguments": None
            if arguments is None
            else [
                _drop_none({"name": a["name"], "description": a.get("description"), "required": a.get("required")})
                for a in arguments
            ],
        }
    )


def capabilities_json(caps: dict[str, Any] | None, registered: set[str]) -> dict[str, Any]:
    """`server-capabilities` -> MCP ServerCapabilities. A capability the backend registered
    something for (`tools`, `resources`, `prompts`) is declared even when `caps` left it out,
    so a client lists what is there. `sampling` and `elicitation` are client capabilities
    in MCP: they are not sent."""
    caps = caps or {}
    out: dict[str, Any] = {}
    experimental = caps.get("experimental")
    if experimental is not None:
        data = _json_bytes(experimental.get("data"))
        out["experimental"] = data if isinstance(data, dict) else {}
    if caps.get("logging") is not None:
        out["logging"] = {}
    if caps.get("completions") is not None:
        out["completions"] = {}
    for key in ("prompts", "resources", "tools"):
        value = caps.get(key)
        if value is None and key not in registered:
            continue
        value = value or {}
        out[key] = _drop_none({"subscribe": value.get("subscribe"), "listChanged": value.get("list-changed")})
    return out


# --- content -------------------------------------------------------------------------------


def annotations_json(notes: dict[str, Any] | None) -> dict[str, Any] | None:
    """`annotations` -> MCP Annotations (`custom` JSON object keys merged in)."""
    if notes is None:
        return None
    custom = _json_bytes(notes.get("custom"))
    body = dict(custom) if isinstance(custom, dict) else {}
    body.update(_drop_none({"audience": notes.get("audience"), "priority": notes.get("priority")}))
    return body


def content_json(block: Case) -> dict[str, Any]:
    """A `content-block` -> an MCP ContentBlock (its `content-type` field is not used: the
    variant case says what the block is)."""
    body = block.value
    notes = annotations_json(body.get("annotations"))
    if block.name == "text":
        out: dict[str, Any] = {"type": "text", "text": body["text"]}
    elif block.name == "image":
        out = {"type": "image", "data": body["data"], "mimeType": body["mime-type"]}
    elif block.name == "embedded-resource":
        out = {"type": "resource", "resource": _embedded_json(body)}
    elif block.name == "resource-link":
        out = _drop_none(
            {
                "type": "resource_link",
                "uri": body["uri"],
                "name": body["name"],
                "description": body.get("description"),
                "mimeType": body.get("mime-type"),
            }
        )
    else:
        raise ValueError(f"unknown content-block case {block.name!r}")
    if notes:
        out["annotations"] = notes
    return out


def _embedded_json(body: dict[str, Any]) -> dict[str, Any]:
    out = _drop_none({"uri": body["uri"], "mimeType": body.get("mime-type")})
    if body.get("blob") is not None:
        out["blob"] = body["blob"]
    else:
        out["text"] = body.get("text") or ""
    return out


def resource_contents_json(block: Case, uri: str, mime_type: str | None) -> dict[str, Any]:
    """One `content-block` of `read-resource` -> MCP resource contents: a text block is the
    resource's text (with the registered MIME type), an embedded resource is itself, an
    image is a blob of its base64 data. A resource link has no contents: ValueError."""
    body = block.value
    if block.name == "text":
        return _drop_none({"uri": uri, "mimeType": mime_type, "text": body["text"]})
    if block.name == "embedded-resource":
        return _embedded_json(body)
    if block.name == "image":
        data = str(body["data"])
        if data.startswith("data:") and "," in data:
            data = data.split(",", 1)[1]
        return {"uri": uri, "mimeType": body["mime-type"], "blob": data}
    raise ValueError(f"read-resource returned a {block.name} block, which is not resource contents")


def prompt_message_json(message: dict[str, Any]) -> dict[str, Any]:
    """`prompt-message` -> MCP PromptMessage; MCP has no `system` role: it is sent as `user`."""
    role = "assistant" if message["role"] == "assistant" else "user"
    return {"role": role, "content": content_json(message["content"])}


def tool_result_json(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"content": [content_json(b) for b in result["content"]]}
    if result.get("is-error") is not None:
        out["isError"] = bool(result["is-error"])
    return out


# --- notifications -------------------------------------------------------------------------


def log_json(level: str, message: str, data: bytes | None, logger: str) -> dict[str, Any]:
    """`log(level, message, data)` -> `notifications/message` (data: the message, or the
    message with the JSON data under `data`)."""
    extra = _json_bytes(data)
    payload: Any = message if extra is None else {"message": message, "data": extra}
    return notification("notifications/message", {"level": level, "logger": logger, "data": payload})


def notification(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        body["params"] = params
    return body


def progress_json(token: str, progress: int, total: int | None) -> dict[str, Any]:
    return notification(
        "notifications/progress", _drop_none({"progressToken": token, "progress": progress, "total": total})
    )


def notifications_json(case: Case, logger: str) -> list[dict[str, Any]]:
    """A `runtime.notification` -> the MCP notifications it stands for."""
    value = case.value
    if case.name == "resources-list-changed":
        return [notification("notifications/resources/list_changed")]
    if case.name == "tools-list-changed":
        return [notification("notifications/tools/list_changed")]
    if case.name == "prompts-list-changed":
        return [notification("notifications/prompts/list_changed")]
    if case.name == "resources-updated":
        return [notification("notifications/resources/updated", {"uri": uri}) for uri in value]
    if case.name == "progress":
        return [progress_json(value["progress-token"], value["progress"], value.get("total"))]
    if case.name == "message":
        return [log_json(value["level"], value["message"], value.get("data"), logger)]
    if case.name == "cancelled":
        return [notification("notifications/cancelled", {"requestId": value})]
    raise ValueError(f"unknown notification case {case.name!r}")


# --- client requests -> handler arguments --------------------------------------------------


def params_object(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object")
    return params


def string_param(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise RpcError(INVALID_PARAMS, f"`{key}` must be a string" if key in params else f"`{key}` is required")
    return value


def tool_call_arguments(params: dict[str, Any]) -> tuple[str, bytes]:
    """`tools/call` params -> (name, arguments as JSON bytes)."""
    name = string_param(params, "name")
    arguments = params.get("arguments", {})
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "`arguments` must be an object")
    return name, json.dumps(arguments, separators=(",", ":")).encode()


def prompt_get_arguments(params: dict[str, Any]) -> tuple[str, bytes | None]:
    """`prompts/get` params -> (name, arguments as JSON bytes, or none)."""
    name = string_param(params, "name")
    arguments = params.get("arguments")
    if arguments is None:
        return name, None
    if not isinstance(arguments, dict) or not all(isinstance(v, str) for v in arguments.values()):
        raise RpcError(INVALID_PARAMS, "`arguments` must be an object of strings")
    return name, json.dumps(arguments, separators=(",", ":")).encode()


def completion_arguments(params: dict[str, Any]) -> tuple[str, str]:
    """`completion/complete` params -> (completion-ref-type, ref-value): `ref/prompt` is
    `prompt-name`, `ref/resource` is `resource-uri`; the value is the argument's partial
    value (the WIT has no place for the prompt's name, the URI or the argument's name)."""
    ref = params.get("ref")
    argument = params.get("argument")
    if not isinstance(ref, dict) or not isinstance(argument, dict):
        raise RpcError(INVALID_PARAMS, "`ref` and `argument` must be objects")
    kinds = {"ref/prompt": "prompt-name", "ref/resource": "resource-uri"}
    if ref.get("type") not in kinds:
        raise RpcError(INVALID_PARAMS, "`ref.type` must be ref/prompt or ref/resource")
    return kinds[str(ref["type"])], string_param(argument, "value")


def completion_json(completions: list[dict[str, Any]]) -> dict[str, Any]:
    values = [str(c["value"]) for c in completions][:100]
    return {"completion": {"values": values, "total": len(completions), "hasMore": len(completions) > 100}}


@dataclass
class Registry:
    """What the backend registered through `wasi:mcp/runtime`."""

    server: dict[str, Any] | None = None
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> MCP Tool JSON
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri -> MCP Resource JSON
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def registered(self) -> set[str]:
        kinds = {"tools": self.tools, "resources": {**self.resources, **self.templates}, "prompts": self.prompts}
        return {kind for kind, entries in kinds.items() if entries}

    def mime_type(self, uri: str) -> str | None:
        """The MIME type registered for `uri`: its static resource's, else that of the
        first template (in registration order) the URI matches."""
        static = self.resources.get(uri)
        if static is not None:
            return static.get("mimeType")
        for pattern, template in self.templates.items():
            if template_matches(pattern, uri):
                return template.get("mimeType")
        return None


# RFC 6570 expression operator -> what its expansion may look like in a URI
_EXPANSIONS = {
    "": r"[^/?#]*",  # simple: reserved characters are percent-encoded
    "+": r".*",  # reserved
    "#": r"(#.*)?",  # fragment
    ".": r"(\.[^/?#]*)?",  # label
    "/": r"(/[^?#]*)?",  # path segments
    ";": r"(;[^/?#]*)?",  # path parameters
    "?": r"(\?[^#]*)?",  # query
    "&": r"(&[^#]*)?",  # query continuation
}


def template_matches(template: str, uri: str) -> bool:
    """Whether `uri` is an expansion of the URI template (RFC 6570, any level)."""
    pattern, at = "", 0
    for found in re.finditer(r"\{([^{}]*)\}", template):
        pattern += re.escape(template[at : found.start()])
        expression = found.group(1)
        operator = expression[:1] if expression[:1] in _EXPANSIONS and expression[:1] != "" else ""
        pattern += _EXPANSIONS[operator]
        at = found.end()
    pattern += re.escape(template[at:])
    return re.fullmatch(pattern, uri) is not None


def progress_token(params: Any) -> str | int | None:
    """The `params._meta.progressToken` of a request (a string or an integer), if any."""
    meta = params.get("_meta") if isinstance(params, dict) else None
    token = meta.get("progressToken") if isinstance(meta, dict) else None
    return token if isinstance(token, (str, int)) and not isinstance(token, bool) else None
