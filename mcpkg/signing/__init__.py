"""Signatures and the trust decision. Key-based (cosign's format): keys (`keys.py`), the
simple-signing payload (`payload.py`), the `sha256-<hex>.sig` manifests (`cosign.py`).
Keyless (Sigstore): who signed (`identity.py`), what a bundle signs (`statement.py`),
sigstore-python's verification and signing (`keyless.py`), bundles as OCI referrers
(`referrers.py`). The trust scopes (`policy.py`), whether a policy still accepts a lock
(`recorded.py`), and the one trust decision every command makes (`verify.py`).

May import: the shared basics and `mcpkg.oci` (signatures live in registries)."""
