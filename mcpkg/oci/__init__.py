"""The OCI layer: the only code in mcpkg that talks HTTP to registries.

- `credentials`: where a registry's username/password come from (never printed).
- `errors`: translation of HTTP responses and connection failures into mcpkg errors.
- `client`: `RegistryClient`, one per registry: auth, manifests, blobs, tags.

HTTP goes through `requests` directly (the library oras-py itself builds on) rather
than oras-py's `Registry` class, because the latter does not verify digests, reuses one
token across scopes, re-serializes manifests and reads uploads into memory
(docs/design.md, "Why not oras-py's `Registry` class").
"""
