"""Start and stop Debian's `docker-registry` (CNCF distribution 2.8) on loopback.

Each registry gets a free port, a temporary storage directory and, optionally,
htpasswd basic auth. Used by the test suite and by `scripts/demo` alike.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from testing.pki import TestCA
from testing.tokens import ISSUER, SERVICE, TokenServer


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def registry_binary() -> str:
    found = shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None
    )
    if not found:
        raise RuntimeError("docker-registry is not installed: apt-get install docker-registry")
    return found


@dataclass
class Registry:
    host: str  # "127.0.0.1:PORT"
    root: Path  # storage root directory
    process: subprocess.Popen[bytes]
    workdir: Path
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None  # set when the registry serves TLS

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://{self.host}"

    def blob_data_path(self, digest: str) -> Path:
        hexpart = digest.split(":", 1)[1]
        return self.root / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _write_htpasswd(path: Path, username: str, password: str) -> None:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    path.write_text(f"{username}:{hashed}\n")


def start_registry(
    username: str | None = None,
    password: str | None = None,
    *,
    token: TokenServer | None = None,
    tls: TestCA | None = None,
    timeout: float = 20.0,
) -> Registry:
    """Start docker-registry: anonymous, htpasswd (username/password), token auth
    (`token`), and/or TLS with a server certificate issued by `tls`."""
    workdir = Path(tempfile.mkdtemp(prefix="mcpkg-registry-"))
    storage = workdir / "storage"
    storage.mkdir()
    port = free_port()
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "mcpkg-test-secret"},
    }
    if username is not None and password is not None:
        htpasswd = workdir / "htpasswd"
        _write_htpasswd(htpasswd, username, password)
        config["auth"] = {"htpasswd": {"realm": "mcpkg-test", "path": str(htpasswd)}}
    if token is not None:
        bundle = token.ca.write(workdir / "token-ca.pem")
        config["auth"] = {
            "token": {"realm": token.realm, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(bundle)}
        }
    ca_file = None
    if tls is not None:
        cert, key = tls.issue("127.0.0.1", server=True).write(workdir, "server")
        config["http"]["tls"] = {"certificate": str(cert), "key": str(key)}
        ca_file = tls.write(workdir / "ca.pem")
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen([registry_binary(), "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", storage, process, workdir, username, password, ca_file)
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (workdir / "registry.log").read_text(errors="replace")
            registry.stop()
            raise RuntimeError(f"docker-registry exited early:\n{output}")
        try:
            urllib.request.urlopen(f"{registry.url}/v2/", timeout=1, context=context).close()
            return registry
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return registry
        except OSError:
            pass
        time.sleep(0.05)
    registry.stop()
    raise RuntimeError(f"docker-registry did not answer on {registry.host} within {timeout}s")


@contextlib.contextmanager
def running_registry(
    username: str | None = None,
    password: str | None = None,
    *,
    token: TokenServer | None = None,
    tls: TestCA | None = None,
) -> Iterator[Registry]:
    registry = start_registry(username, password, token=token, tls=tls)
    try:
        yield registry
    finally:
        registry.stop()
