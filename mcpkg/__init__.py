"""mcpkg: a package manager for the WebAssembly components MCP servers are built from."""

__version__ = "0.1.0"
