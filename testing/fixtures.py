"""The runnable MCP fixture components (`registry-fixtures/src/mcp/`), written once: the
role world each targets, and the server they make together."""

from __future__ import annotations

# fixture component -> the role world of wit/ it targets (first in `inspect`'s roles)
MCP_FIXTURE_ROLES: dict[str, str] = {
    "stdio-transport": "stdio-transport",
    "http-transport": "http-transport",
    "logging-middleware": "middleware",
    "tools-handler": "tools-handler",
    "resources-handler": "resources-handler",
    "initialize-handler": "initialize-handler",
    "writers": "writers",
}

# the fixture server: stdio transport -> chain -> terminal, with the writers service
SERVER_TRANSPORT = "stdio-transport"
SERVER_CHAIN = ("logging-middleware", "tools-handler", "resources-handler")
SERVER_TERMINAL = "initialize-handler"
SERVER_SERVICES = ("writers",)
SERVER_PARTS = (SERVER_TRANSPORT, *SERVER_CHAIN, SERVER_TERMINAL, *SERVER_SERVICES)


def server_section(name: str) -> str:
    """The `[server]` table of the fixture server's mcpkg.toml."""
    chain = ", ".join(f'"{part}"' for part in SERVER_CHAIN)
    return (
        f'[server]\nname = "{name}"\ntransport = "{SERVER_TRANSPORT}"\n'
        f'chain = [{chain}]\nterminal = "{SERVER_TERMINAL}"\n'
    )


# this project's own wasmcp v0.3 framework components (registry-fixtures/src/wasmcp-v0.3/
# framework/<name>/, built against the world <name> of framework/worlds.wit), with the role
# or service each plays under the contract wasmcp:mcp@0.3.0
WASMCP_FRAMEWORK: dict[str, str] = {
    "stdio-transport": "stdio-transport",
    "http-transport": "http-transport",
    "request": "request service",
    "initialize-handler": "initialize-handler",
    "error-writer": "error-writer",
    "initialize-writer": "initialize-writer",
    "tools-writer": "tools-writer",
    "resources-writer": "resources-writer",
    "resources-handler": "resources-handler",
}
