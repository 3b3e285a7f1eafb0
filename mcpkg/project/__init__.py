"""The project: `mcpkg.toml` (what the user wants), resolution, and `mcpkg.lock`."""
