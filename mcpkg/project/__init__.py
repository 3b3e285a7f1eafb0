"""The project as values: `mcpkg.toml` (`manifest`), `mcpkg.lock` (`lockfile`), the pure
resolution of requirements against tags (`resolution`), and comment-keeping edits of
`mcpkg.toml` (`edit`). Fetching and locking are operations (`mcpkg.ops.lock`).

May import: the shared basics only."""
