"""Signatures in cosign's key-based format: keys (`keys.py`), the simple-signing payload
(`payload.py`), and the `sha256-<hex>.sig` manifests in the registry (`cosign.py`)."""
