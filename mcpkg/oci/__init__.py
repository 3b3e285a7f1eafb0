"""The OCI layer: the only code in mcpkg that talks HTTP to registries.

- `client`: `RegistryClient`, one per registry: auth, manifests, blobs, tags.
- `auth`: challenges, scoped tokens; `credentials`: where a login comes from and goes.
- `blobs`: verified streaming downloads, chunked uploads, mounts; `retry`: what is
  retried and how long to wait.
- `translate`: HTTP statuses and connection failures as mcpkg errors.
- `http`: the HTTP/1.1 client underneath (the standard library's `http.client` with
  keep-alive, timeouts, TLS trust and proxies; why not requests is in its docstring).
- `artifact`: the Wasm OCI artifact layout (manifest, config, media types).

May import: the shared basics (`mcpkg.errors`, `mcpkg.reference`, `mcpkg.config`, ...)
and the standard library. HTTP goes through mcpkg's own small client (`http.py`) rather
than oras-py's `Registry` class, because the latter does not verify digests, reuses one token across scopes,
re-serializes manifests and reads uploads into memory (docs/design.md, "Why not
oras-py's `Registry` class").
"""
