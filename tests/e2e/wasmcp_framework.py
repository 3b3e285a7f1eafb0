"""The current wasmcp generation's framework in the test registry, as its users meet it:
each part pushed as `<namespace>/<package>:0.1.0` and signed with a publisher's key, and a
user whose config names the namespace `wasmcp` and requires that key's signature."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from testing.registry import Registry
from tests.conftest import Mcpkg


def publish_framework(
    registry: Registry, fixtures: Path, home: Path, parts: Mapping[str, str], namespace: str = "wasmcp"
) -> Mcpkg:
    """Publish `parts` (package name -> fixture of registry-fixtures/build/wasmcp-v20251125/)
    and return the user who trusts them."""
    publisher = Mcpkg(home / "publisher")
    password = {"COSIGN_PASSWORD": f"{namespace}-publisher"}
    key = home / "keys" / "wasmcp"
    publisher.ok("keygen", "--output-prefix", str(key), env=password)
    built = fixtures / "wasmcp-v20251125"
    for package, fixture in parts.items():
        ref = f"{registry.host}/{namespace}/{package}:0.1.0"
        publisher.ok("push", str(built / f"{fixture}.wasm"), ref)
        publisher.ok("sign", ref, "--key", f"{key}.key", env=password)
    user = Mcpkg(home / "user")
    user.write_config(
        f'[namespaces]\nwasmcp = "{registry.host}/{namespace}"\n\n'
        f'[trust."{registry.host}/{namespace}/*"]\nkeys = ["{key}.pub"]\nrequire = true\n'
    )
    return user
