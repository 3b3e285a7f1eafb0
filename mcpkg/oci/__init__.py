"""The OCI layer: the only code in mcpkg that talks HTTP to registries.

- `client`: `RegistryClient`, one per registry: auth, manifests, blobs, tags.
- `auth`: challenges, scoped tokens; `credentials`: where a login comes from and goes.
- `blobs`: verified streaming downloads, chunked uploads, mounts; `retry`: what is
  retried and how long to wait.
- `translate`: HTTP statuses and connection failures as mcpkg errors.
- `artifact`: the Wasm OCI artifact layout (manifest, config, media types).

May import: the shared basics (`mcpkg.errors`, `mcpkg.reference`, `mcpkg.config`, ...);
`requests` only here, inside the functions that use it. HTTP goes through `requests`
directly rather than oras-py's `Registry` class (see docs/design.md).
"""
