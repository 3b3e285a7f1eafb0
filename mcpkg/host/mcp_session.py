"""The MCP side of hosting a wasi:mcp backend: JSON-RPC 2.0 messages in, messages out
(pure: the backend is reached through the `Backend` protocol; `backend_host.py` is the
wasmtime and stdio side).

The host implements `wasi:mcp/runtime` (`runtime()` here: what the backend registers,
notifications and logs it sends) and answers the client's requests by calling the
backend's `wasi:mcp/handlers`. Bad input from the client (malformed JSON, a batch, an
unknown method, wrong parameter types) gets a JSON-RPC error; a backend that traps ends
that request with an internal error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from mcpkg.host.mcp_json import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LOG_LEVELS,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    PROTOCOL_VERSION,
    PROTOCOL_VERSIONS,
    Case,
    Registry,
    RpcError,
    capabilities_json,
    completion_arguments,
    completion_json,
    error_from_wit,
    log_json,
    notifications_json,
    params_object,
    progress_json,
    progress_token,
    prompt_get_arguments,
    prompt_json,
    prompt_message_json,
    resource_contents_json,
    resource_json,
    string_param,
    template_json,
    tool_call_arguments,
    tool_json,
    tool_result_json,
    wit_error,
)

Message = dict[str, Any]


class BackendTrap(Exception):
    """The backend trapped (or could not be called) while handling a request."""


class Backend(Protocol):
    def call(self, function: str, *args: Any) -> Case:
        """Call a `wasi:mcp/handlers` function: Case("ok", value) or Case("err", error);
        raises BackendTrap."""
        ...


def response(request_id: Any, result: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_response(request_id: Any, error: RpcError) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


class Session:
    def __init__(self, backend: Backend, default_name: str) -> None:
        self.backend = backend
        self.default_name = default_name
        self.registry = Registry()
        self.served = False
        self.initialized = False
        self.log_level: str | None = None  # set by logging/setLevel
        self.protocol_version = PROTOCOL_VERSION  # negotiated by `initialize`
        # set by the host: write a message now (notifications go out as the backend sends
        # them, before the reply they precede); None: collected, returned with the reply
        self.emit: Callable[[Message], None] | None = None
        self._held: list[Message] = []  # notifications sent before the client is ready
        self._out: list[Message] = []
        self._progress_token: str | int | None = None  # the request being handled asked for progress
        self.request_id: str | int | None = None  # the request being handled
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "initialize": self._initialize,
            "ping": lambda params: {},
            "tools/list": lambda params: {"tools": list(self.registry.tools.values())},
            "tools/call": self._call_tool,
            "resources/list": lambda params: {"resources": list(self.registry.resources.values())},
            "resources/templates/list": lambda params: {"resourceTemplates": list(self.registry.templates.values())},
            "resources/read": self._read_resource,
            "resources/subscribe": lambda params: self._subscription("handle-subscribe", params),
            "resources/unsubscribe": lambda params: self._subscription("handle-unsubscribe", params),
            "prompts/list": lambda params: {"prompts": list(self.registry.prompts.values())},
            "prompts/get": self._get_prompt,
            "completion/complete": self._complete,
            "logging/setLevel": self._set_level,
        }

    @property
    def name(self) -> str:
        return str((self.registry.server or {}).get("name") or self.default_name)

    # --- wasi:mcp/runtime, called by the backend ----------------------------------------

    def runtime(self, function: str, *args: Any) -> Case | None:
        """A `wasi:mcp/runtime` call: None (ok) or Case("err", error)."""
        try:
            return self._runtime(function, *args)
        except (ValueError, KeyError, TypeError) as exc:
            return Case("err", wit_error("invalid-params", f"{function}: {exc}"))

    def _runtime(self, function: str, *args: Any) -> Case | None:
        registry = self.registry
        if function == "register-server":
            registry.server = args[0]
        elif function == "register-tools":
            tools = [tool_json(t) for t in args[0]]  # all or nothing: a bad schema registers none
            registry.tools.update((t["name"], t) for t in tools)
        elif function == "register-resources":
            registry.resources.update((r["uri"], resource_json(r)) for r in args[0])
        elif function == "register-resource-templates":
            registry.templates.update((t["uri-template"], template_json(t)) for t in args[0])
        elif function == "register-prompts":
            registry.prompts.update((p["name"], prompt_json(p)) for p in args[0])
        elif function == "serve":
            self.served = True  # answered at once: the host serves once `run` has returned
        elif function == "send-notification":
            for message in notifications_json(args[0], self.name):
                if _is_progress(message):
                    self._notify_progress(message)
                else:
                    self._notify(message)
        elif function == "log":
            level, text, data = args
            if self._log_wanted(level):
                self._notify(log_json(level, text, data, self.name))
        elif function == "report-progress":
            self._notify_progress(progress_json(*args))
        else:
            return Case("err", wit_error("unsupported-operation", f"mcpkg does not implement runtime.{function}"))
        return None

    def _log_wanted(self, level: str) -> bool:
        if self.log_level is None or level not in LOG_LEVELS:
            return True
        return LOG_LEVELS.index(level) >= LOG_LEVELS.index(self.log_level)

    def _notify(self, message: Message) -> None:
        if not self.initialized:
            self._held.append(message)
        elif self.emit is not None:
            self.emit(message)
        else:
            self._out.append(message)

    def _notify_progress(self, message: Message) -> None:
        """Progress for the request being handled. A backend cannot know the client's
        token (`call-tool` carries no `_meta`, and `progress-token` is a string), so the
        host maps it: "" or the token's text stands for the in-flight request's token,
        which goes out as the client sent it (an integer stays an integer). Progress with
        no token to stand for is dropped (MCP: only tokens of an active request); another
        token the backend made up goes out as it is."""
        token = message["params"].get("progressToken")
        if self._progress_token is not None and token in ("", str(self._progress_token)):
            token = self._progress_token
        elif token in ("", None):
            return
        self._notify({**message, "params": {**message["params"], "progressToken": token}})

    # --- the client's messages ------------------------------------------------------------

    def handle_line(self, line: str | bytes) -> list[Message]:
        """One line from the client -> the messages to write, in order (notifications the
        backend sent while handling it, then the response)."""
        try:
            message = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return [*self.drain(), error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))]
        reply = self.handle_message(message)
        out = self.drain()
        return [*out, reply] if reply is not None else out

    def drain(self) -> list[Message]:
        """The notifications ready to go out (the client has initialized)."""
        out, self._out = self._out, []
        return out

    def handle_message(self, message: Any) -> Message | None:
        if isinstance(message, list):
            return error_response(None, RpcError(INVALID_REQUEST, "batches are not supported (MCP 2025-06-18)"))
        if not isinstance(message, dict):
            return error_response(None, RpcError(INVALID_REQUEST, "a request must be a JSON object"))
        request_id = message.get("id")
        has_id = "id" in message
        if has_id and (isinstance(request_id, bool) or not isinstance(request_id, (str, int))):
            return error_response(None, RpcError(INVALID_REQUEST, "`id` must be a string or an integer"))
        method = message.get("method")
        if message.get("jsonrpc") != "2.0" or (method is not None and not isinstance(method, str)):
            return error_response(request_id, RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request"))
        if method is None:
            if has_id and ("result" in message or "error" in message):
                return None  # a response to a request of ours: we send none, so nothing to do
            return error_response(request_id, RpcError(INVALID_REQUEST, "`method` is required"))
        if not has_id:
            self._notification(method)
            return None
        self._progress_token = progress_token(message.get("params"))
        self.request_id = request_id
        try:
            return response(request_id, self.dispatch(method, message.get("params")))
        except RpcError as error:
            return error_response(request_id, error)
        finally:
            self._progress_token = None
            self.request_id = None

    def _notification(self, method: str) -> None:
        if method == "notifications/initialized":
            self.initialized = True
            held, self._held = self._held, []
            for message in held:
                self._notify(message)
        # other notifications (cancelled, roots/list_changed...) need no answer

    def dispatch(self, method: str, params: Any) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"method not found: {method}")
        return handler(params_object(params))

    def _call(self, function: str, *args: Any) -> Any:
        """Call a handler; its `error` becomes the JSON-RPC error, a trap an internal error."""
        try:
            outcome = self.backend.call(function, *args)
        except BackendTrap as trap:
            raise RpcError(INTERNAL_ERROR, f"the backend trapped in {function}: {trap}") from trap
        if outcome.name == "err":
            raise error_from_wit(outcome.value, f"{function} failed")
        return outcome.value

    def _initialize(self, params: dict[str, Any]) -> Any:
        asked = string_param(params, "protocolVersion")
        # the client's version when mcpkg speaks it, else the newest mcpkg speaks (the
        # client then decides whether to go on)
        self.protocol_version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
        server = self.registry.server or {}
        result: dict[str, Any] = {
            "protocolVersion": self.protocol_version,
            "capabilities": capabilities_json(server.get("capabilities"), self.registry.registered()),
            "serverInfo": {"name": self.name, "version": str(server.get("version") or "0.0.0")},
        }
        if server.get("instructions"):
            result["instructions"] = server["instructions"]
        return result

    def _call_tool(self, params: dict[str, Any]) -> Any:
        name, arguments = tool_call_arguments(params)
        if name not in self.registry.tools:
            raise RpcError(INVALID_PARAMS, f"unknown tool: {name}")
        return self._mapped(lambda: tool_result_json(self._call("call-tool", name, arguments)), "call-tool")

    def _read_resource(self, params: dict[str, Any]) -> Any:
        uri = string_param(params, "uri")
        mime = self.registry.mime_type(uri)
        blocks = self._call("read-resource", uri)
        return self._mapped(
            lambda: {"contents": [resource_contents_json(b, uri, mime) for b in blocks["contents"]]}, "read-resource"
        )

    def _get_prompt(self, params: dict[str, Any]) -> Any:
        name, arguments = prompt_get_arguments(params)
        prompt = self.registry.prompts.get(name)
        if prompt is None:
            raise RpcError(INVALID_PARAMS, f"unknown prompt: {name}")
        contents = self._call("get-prompt", name, arguments)
        result = self._mapped(lambda: {"messages": [prompt_message_json(m) for m in contents["messages"]]}, name)
        if prompt.get("description"):
            result["description"] = prompt["description"]
        return result

    def _complete(self, params: dict[str, Any]) -> Any:
        if (self.registry.server or {}).get("capabilities", {}).get("completions") is None:
            raise RpcError(METHOD_NOT_FOUND, "this backend does not declare the completions capability")
        ref_type, value = completion_arguments(params)
        return completion_json(self._call("handle-complete", ref_type, value))

    def _subscription(self, function: str, params: dict[str, Any]) -> Any:
        self._call(function, string_param(params, "uri"))
        return {}

    def _set_level(self, params: dict[str, Any]) -> Any:
        level = string_param(params, "level")
        if level not in LOG_LEVELS:
            raise RpcError(INVALID_PARAMS, f"unknown log level {level!r}: one of {', '.join(LOG_LEVELS)}")
        self.log_level = level
        return {}

    @staticmethod
    def _mapped(build: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
        """A handler's answer that MCP cannot express is the backend's fault: internal error."""
        try:
            return build()
        except (ValueError, KeyError, TypeError) as exc:
            raise RpcError(INTERNAL_ERROR, f"{what} returned something MCP cannot carry: {exc}") from exc


def _is_progress(message: Message) -> bool:
    return message.get("method") == "notifications/progress"
