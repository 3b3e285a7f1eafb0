"""The MCP side of hosting a backend (mcp_session.py), on the protocol points the MCP
conformance suite checks: the in-flight request's progress token reaches the client in
the backend's progress (mapped by the host: the backend cannot know it), notifications
go out as they are sent, before the reply, every resource read carries the MIME type
registered for it (a static resource's or its template's), and `initialize` negotiates
2025-06-18 and 2025-11-25. The backend here is a Python object that calls the session's
runtime as a wasi:mcp backend would."""

from __future__ import annotations

import json
from typing import Any

from mcpkg.host.mcp_json import Case, template_matches
from mcpkg.host.mcp_session import Session

TOOL = {"name": "slow", "title": None, "description": "d", "input-schema": b'{"type":"object"}',
        "output-schema": None, "annotations": None}  # fmt: skip


class Scripted:
    """A backend whose `call-tool` reports progress the way the test says, and whose
    `read-resource` answers text."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.tokens: list[str] = [""]
        self.seen: list[str] = []

    def call(self, function: str, *args: Any) -> Case:
        assert self.session is not None
        if function == "call-tool":
            for step, token in enumerate(self.tokens, 1):
                self.session.runtime("report-progress", token, step, len(self.tokens))
                self.seen.append("progress")
            return Case("ok", {"content": [Case("text", {"text": "done", "annotations": None})],
                               "structured-content": None, "is-error": None})  # fmt: skip
        if function == "read-resource":
            return Case("ok", {"contents": [Case("text", {"text": "x", "annotations": None})]})
        raise AssertionError(function)


def ready(backend: Scripted, written: list[dict[str, Any]] | None = None, version: str = "2025-06-18") -> Session:
    session = Session(backend, "b")
    backend.session = session
    if written is not None:
        session.emit = written.append
    session.runtime("register-tools", [TOOL])
    session.runtime(
        "register-resources",
        [{"uri": "file:///a.md", "name": "a", "description": None, "mime-type": "text/markdown", "size": None}],
    )
    session.runtime(
        "register-resource-templates",
        [
            {"uri-template": "notes://{day}/data", "name": "n", "description": None, "mime-type": "application/json"},
            {"uri-template": "files{/path*}", "name": "f", "description": None, "mime-type": "text/plain"},
        ],
    )
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": version}}
    session.handle_line(json.dumps(init))
    session.handle_line('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    return session


def call(session: Session, token: Any = None, request_id: int = 1) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"name": "slow", "arguments": {}}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    request = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    return session.handle_line(json.dumps(request))


def test_the_requests_progress_token_goes_out_as_the_client_sent_it() -> None:
    for token in (7, "abc"):
        out = call(ready(Scripted()), token)
        progress = [m["params"] for m in out if m.get("method") == "notifications/progress"]
        assert progress == [{"progressToken": token, "progress": 1, "total": 1}]
        assert type(progress[0]["progressToken"]) is type(token)  # an integer stays an integer
        assert out[-1]["id"] == 1 and "result" in out[-1]


def test_the_tokens_text_stands_for_it_and_progress_without_a_token_is_dropped() -> None:
    backend = Scripted()
    backend.tokens = ["42", "own-token"]
    out = call(ready(backend), 42)
    tokens = [m["params"]["progressToken"] for m in out if m.get("method") == "notifications/progress"]
    assert tokens == [42, "own-token"]
    backend.tokens = [""]
    assert [m for m in call(ready(backend)) if m.get("method") == "notifications/progress"] == []
    # after the request, "" stands for nothing: the next request's progress is its own
    session = ready(backend)
    call(session, 5)
    assert [m["params"]["progressToken"] for m in call(session, 6, 2) if "method" in m] == [6]


def test_notifications_are_written_as_they_are_sent_before_the_reply() -> None:
    written: list[dict[str, Any]] = []
    backend = Scripted()
    backend.tokens = ["", "", ""]
    session = ready(backend, written)
    written.clear()
    out = call(session, "t")
    assert [m["params"]["progress"] for m in written] == [1, 2, 3]  # emitted during the call
    assert out == [out[-1]] and out[-1]["id"] == 1  # only the reply is left to write, after them


def test_every_read_carries_the_registered_mime_type() -> None:
    session = ready(Scripted())
    for uri, mime in (("file:///a.md", "text/markdown"), ("notes://monday/data", "application/json"),
                      ("files/x/y.txt", "text/plain")):  # fmt: skip
        read = session.handle_line(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                                               "params": {"uri": uri}}))  # fmt: skip
        assert read[-1]["result"]["contents"][0]["mimeType"] == mime, uri
    unmatched = session.handle_line('{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"other://x"}}')
    assert "mimeType" not in unmatched[-1]["result"]["contents"][0]


def test_uri_templates_match_their_expansions_only() -> None:
    assert template_matches("notes://{day}/data", "notes://mon/data")
    assert not template_matches("notes://{day}/data", "notes://a/b/data")  # simple: no "/"
    assert template_matches("repo{/path*}", "repo/a/b") and template_matches("repo{/path*}", "repo")
    assert template_matches("search{?q,lang}", "search?q=x&lang=en") and template_matches("x{+rest}", "x/a/b")
    assert not template_matches("a.{ext}", "aXtxt")  # literal parts are literal


def test_initialize_negotiates_the_versions_mcpkg_speaks() -> None:
    for asked, answered in (("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"),
                            ("2099-01-01", "2025-11-25"), ("2024-11-05", "2025-11-25")):  # fmt: skip
        session = Session(Scripted(), "b")
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": asked}}
        assert session.handle_line(json.dumps(init))[-1]["result"]["protocolVersion"] == answered
