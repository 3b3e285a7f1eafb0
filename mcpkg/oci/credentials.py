"""Where credentials for a registry come from, in order (SPEC.md section 6):

1. `MCPKG_REGISTRY_USERNAME` / `MCPKG_REGISTRY_PASSWORD` (for the registry in the command);
2. Docker's `config.json` (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`),
   its `auths` entries;
3. anonymous.

Passwords live in a field excluded from `repr` so they never reach logs or tracebacks.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpkg.errors import ConfigError


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    source: str = "environment"

    def basic_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def read_docker_config(path: Path | None = None) -> dict[str, Any]:
    path = path or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read Docker config {path}: {exc}", "fix or remove the file, then retry") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Docker config {path} is not a JSON object")
    return data


def _auth_keys(registry: str) -> list[str]:
    """The spellings under which tools store a registry in `auths`."""
    return [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"]


def lookup_credentials(registry: str) -> Credentials | None:
    user = os.environ.get("MCPKG_REGISTRY_USERNAME")
    password = os.environ.get("MCPKG_REGISTRY_PASSWORD")
    if user and password is not None:
        return Credentials(user, password, "MCPKG_REGISTRY_USERNAME/PASSWORD")
    path = docker_config_path()
    config = read_docker_config(path)
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    for key in _auth_keys(registry):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"the `auths` entry for {registry} in {path} is not valid base64",
                    f"run `mcpkg login {registry}` again",
                ) from exc
            username, sep, secret = decoded.partition(":")
            if not sep:
                raise ConfigError(f"the `auths` entry for {registry} in {path} has no password")
            return Credentials(username, secret, str(path))
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return Credentials(entry["username"], entry["password"], str(path))
    return None
