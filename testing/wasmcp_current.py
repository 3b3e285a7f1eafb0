"""The fixtures of the current wasmcp generation (`registry-fixtures/src/wasmcp-v20251125/`)
and the two-capability server they make, written once for the tests and scripts."""

from __future__ import annotations

from pathlib import Path

from testing.compose_wired import Instance

CONTRACT = "wasmcp:mcp-v20251125@0.1.1"
CHAIN = "wasmcp:mcp-v20251125/server-handler@0.1.1"
TOOLS = "wasmcp:mcp-v20251125/tools@0.1.1"

# fixture (registry-fixtures/build/wasmcp-v20251125/<name>.wasm) -> its first role in `inspect`
FIXTURE_ROLES: dict[str, str] = {
    "stdio-transport": f"stdio-transport ({CONTRACT}, transport)",
    "http-transport": f"http-transport ({CONTRACT}, transport)",
    "server-io": f"server-io service ({CONTRACT})",
    "session-store": f"sessions service ({CONTRACT})",
    "kv-store": f"key-value store ({CONTRACT})",
    "kv-store-wasi-keyvalue": f"key-value store ({CONTRACT})",
    "authorization": f"server-auth service ({CONTRACT})",
    "method-not-found": f"method-not-found ({CONTRACT}, terminal)",
    "tools-middleware": f"tools-middleware ({CONTRACT}, chain)",
    "resources-middleware": f"resources-middleware ({CONTRACT}, chain)",
    "prompts-middleware": f"prompts-middleware ({CONTRACT}, chain)",
    "strings-py": f"tools capability ({CONTRACT})",
    "counter-tools": f"tools capability ({CONTRACT})",
    "notes-resources": f"resources capability ({CONTRACT})",
    "writing-prompts": f"prompts capability ({CONTRACT})",
    "greet-completions": f"server-middleware ({CONTRACT}, chain)",
}

# package name -> fixture: the framework a one-command stdio server of tools capabilities
# takes from a registry (published as `wasmcp/<package>:0.1.0`); an HTTP server's takes
# `http-transport` as its transport
STDIO_FRAMEWORK: dict[str, str] = {
    "transport": "stdio-transport",
    "server-io": "server-io",
    "session-store": "session-store",
    "kv-store": "kv-store",
    "authorization": "authorization",
    "method-not-found": "method-not-found",
    "tools-middleware": "tools-middleware",
}

STRINGS_TOOLS = ["reverse", "slice"]  # wasmcp's strings-py example
COUNTER_TOOLS = ["add", "count"]  # mcpkg's own capability
# mcpkg's own resources capability (notes-resources): resource name -> (uri, mime type, text)
NOTES_RESOURCES = {
    "readme": (
        "notes://mcpkg/readme",
        "text/markdown",
        "# Notes\n\nServed by a resources capability behind wasmcp's resources-middleware.\n",
    ),
    "contract": ("notes://mcpkg/contract", "text/plain", CONTRACT),
}
NOTES_TEMPLATES = {"shout": "notes://mcpkg/shout/{word}"}  # template name -> URI template
# mcpkg's own prompts capability (writing-prompts): prompt name -> its arguments (required first)
WRITING_PROMPTS = {"greet": ["name", "language"], "summarize": ["text", "sentences"]}
GREET_LANGUAGES = ["de", "en", "fr"]  # what greet-completions completes `language` to


def two_tools_server(fixtures: Path) -> tuple[Instance, dict[str, Instance]]:
    """stdio transport -> tools-middleware (strings-py) -> tools-middleware (counter-tools)
    -> method-not-found, with server-io, session-store, kv-store and authorization shared.

    The two capability components' own `server-handler` import carries only the types of
    `message-context`; it is wired to the terminal, a provider of that interface."""
    d = fixtures / "wasmcp-v20251125"
    middleware = d / "tools-middleware.wasm"
    instances = {
        "strings-middleware": Instance(middleware, {CHAIN: "counter-middleware", TOOLS: "strings"}),
        "counter-middleware": Instance(middleware, {CHAIN: "method-not-found", TOOLS: "counter"}),
        "method-not-found": Instance(d / "method-not-found.wasm"),
        "strings": Instance(d / "strings-py.wasm", {CHAIN: "method-not-found"}),
        "counter": Instance(d / "counter-tools.wasm", {CHAIN: "method-not-found"}),
        "server-io": Instance(d / "server-io.wasm"),
        "session-store": Instance(d / "session-store.wasm"),
        "kv-store": Instance(d / "kv-store.wasm"),
        "authorization": Instance(d / "authorization.wasm"),
    }
    return Instance(d / "stdio-transport.wasm", {CHAIN: "strings-middleware"}), instances
