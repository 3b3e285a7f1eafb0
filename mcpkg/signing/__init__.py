"""Signatures in cosign's key-based format: keys (`keys.py`), the simple-signing payload
(`payload.py`), the `sha256-<hex>.sig` manifests in the registry (`cosign.py`), the trust
scopes (`policy.py`) and the one trust decision every command makes (`verify.check`).

May import: the shared basics and `mcpkg.oci` (signatures live in registries)."""
