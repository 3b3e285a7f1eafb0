"""The use cases: what each command does, one module each (`pull`, `push`, `inspect`,
`check`, `lock`, `compose`, `run`, `edit`, `login`, `keygen`, `sign`, `verify`,
`insight`, `resolve`), run with a `Context` (config, cache, registry clients, progress).

May import: every domain package and the shared basics; nothing below imports `ops`."""
