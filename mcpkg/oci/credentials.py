"""Where credentials for a registry come from, and where `mcpkg login` puts them.

Lookup order (docs/config.md, "Credentials"):
1. `MCPKG_REGISTRY_USERNAME` / `MCPKG_REGISTRY_PASSWORD` (for the registry in the command);
2. Docker's `config.json` (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`)
   the way Docker reads it: `credHelpers[<registry>]`, else `credsStore`, through
   `docker-credential-<name> get`; else the `auths[<registry>]` entry;
3. anonymous.

`store_credentials` / `erase_credentials` write through the same helper when one is
configured, else into `auths` (file mode 0600, atomic), so other OCI tools share the
login. Passwords live in a field excluded from `repr` and never reach messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpkg.errors import AuthError, ConfigError
from mcpkg.outfile import PathProblem, ensure_directory, resolve_destination, write_user_file

HELPER_TIMEOUT = 30


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


def read_docker_config(path: Path | None = None, *, editing: bool = False) -> dict[str, Any]:
    """Docker's config (empty when there is none). `editing` (login, logout): a
    dangling symlink is an error rather than no config, since writing it would fail."""
    path = path or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if editing and path.is_symlink():
            raise PathProblem(
                f"Docker config {path} is a symlink to {os.readlink(path)}, which does not exist",
                "create the link's target or remove the link",
            ) from None
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read Docker config {path}: {exc}", "fix or remove the file, then retry") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Docker config {path} is not a JSON object", "fix or remove the file, then retry")
    return data


def write_docker_config(data: dict[str, Any], path: Path | None = None) -> Path:
    """Write config.json (atomically, mode 0600; a symlink is written through)."""
    path = path or docker_config_path()
    if not path.is_symlink():  # a link (dotfiles) is written through to its target
        ensure_directory(path.parent, mode=0o700)
    write_user_file(path, (json.dumps(data, indent="\t") + "\n").encode(), 0o600)
    return path


def _auth_keys(registry: str) -> list[str]:
    """The spellings under which tools store a registry in `auths`."""
    return [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"]


def helper_for(registry: str, config: dict[str, Any]) -> str | None:
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict) and isinstance(helpers.get(registry), str) and helpers[registry]:
        return str(helpers[registry])
    store = config.get("credsStore")
    return store if isinstance(store, str) and store else None


def _run_helper(name: str, action: str, payload: str) -> subprocess.CompletedProcess[str]:
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise ConfigError(
            f"credential helper docker-credential-{name} (named in {docker_config_path()}) is not on PATH",
            "install the helper or remove it from the Docker config",
        )
    try:
        return subprocess.run(
            [program, action], input=payload, capture_output=True, text=True, timeout=HELPER_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AuthError(f"credential helper docker-credential-{name} did not answer within {HELPER_TIMEOUT}s") from exc


def _helper_get(name: str, registry: str) -> Credentials | None:
    result = _run_helper(name, "get", registry)
    if result.returncode != 0:
        if "not found" in (result.stdout + result.stderr).lower():
            return None
        raise AuthError(
            f"credential helper docker-credential-{name} failed for {registry} (exit {result.returncode})",
            "check the helper, or log in again with `mcpkg login`",
        )
    try:
        data = json.loads(result.stdout)
        username, secret = data["Username"], data["Secret"]
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper docker-credential-{name} returned malformed output") from None
    if not isinstance(username, str) or not isinstance(secret, str):
        raise AuthError(f"credential helper docker-credential-{name} returned malformed output")
    return Credentials(username, secret, f"docker-credential-{name}")


def lookup_credentials(registry: str) -> Credentials | None:
    user = os.environ.get("MCPKG_REGISTRY_USERNAME")
    password = os.environ.get("MCPKG_REGISTRY_PASSWORD")
    if user and password is not None:
        return Credentials(user, password, "MCPKG_REGISTRY_USERNAME/PASSWORD")
    path = docker_config_path()
    config = read_docker_config(path)
    helper = helper_for(registry, config)
    if helper is not None:
        found = _helper_get(helper, registry)
        if found is not None:
            return found
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


def check_login_storable(registry: str) -> None:
    """Fail before the registry is asked when a login could not be stored: an unreadable
    config.json, a DOCKER_CONFIG that is not a directory, a dangling link, no write
    permission (nothing to check when a credential helper keeps the login)."""
    path = docker_config_path()
    if helper_for(registry, read_docker_config(path, editing=True)) is not None:
        return
    directory = path.parent
    if os.path.lexists(directory):
        if not directory.is_dir():
            raise PathProblem(f"cannot write {path}: {directory} is not a directory", "fix DOCKER_CONFIG")
        resolve_destination(path)


def store_credentials(registry: str, creds: Credentials) -> str:
    """Store a login; returns where it went (helper name or config path)."""
    config = read_docker_config(editing=True)
    helper = helper_for(registry, config)
    if helper is not None:
        payload = json.dumps({"ServerURL": registry, "Username": creds.username, "Secret": creds.password})
        result = _run_helper(helper, "store", payload)
        if result.returncode != 0:
            raise AuthError(f"credential helper docker-credential-{helper} could not store the login")
        return f"docker-credential-{helper}"
    auths = config.setdefault("auths", {})
    if not isinstance(auths, dict):
        raise ConfigError(f"`auths` in {docker_config_path()} is not an object")
    token = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    auths[registry] = {"auth": token}
    return str(write_docker_config(config))


def erase_credentials(registry: str) -> bool:
    """Remove a login; False when there was none."""
    config = read_docker_config(editing=True)
    helper = helper_for(registry, config)
    if helper is not None:
        result = _run_helper(helper, "erase", registry)
        return result.returncode == 0
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return False
    removed = False
    for key in _auth_keys(registry):
        if key in auths:
            del auths[key]
            removed = True
    if removed:
        write_docker_config(config)
    return removed
