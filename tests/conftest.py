"""Shared fixtures: built fixture components, real registries, an isolated environment
per test, and a runner that invokes the real CLI in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from testing.pki import TestCA
from testing.proxy import PagingProxy, paging_proxy
from testing.referrers import ReferrersRegistry, running_referrers_registry
from testing.registry import Registry, running_registry
from testing.sigstore_local import LocalSigstore
from testing.tokens import TokenServer, start_token_server
from testing.witbuild import build_world, copy_wit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """Directory of built fixture components (built once per source change)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "registry-fixtures" / "build.py")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    with running_registry() as reg:
        yield reg


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[Registry]:
    with running_registry("alice", "s3cret-pass") as reg:
        yield reg


@pytest.fixture(scope="session")
def token_server() -> Iterator[TokenServer]:
    server = start_token_server({"bob": "token-pass"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(token_server: TokenServer) -> Iterator[Registry]:
    with running_registry(token=token_server) as reg:
        yield reg


@pytest.fixture(scope="session")
def tls_registry() -> Iterator[Registry]:
    with running_registry(tls=TestCA()) as reg:
        yield reg


@pytest.fixture(scope="session")
def sigstore() -> Iterator[LocalSigstore]:
    """A local Sigstore (Fulcio, CT log, Rekor v1) on loopback, with its trust files."""
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture(scope="session")
def referrers_registry() -> Iterator[ReferrersRegistry]:
    """A docker-registry behind a proxy that adds the OCI 1.1 referrers API."""
    with running_referrers_registry() as proxy:
        yield proxy


@pytest.fixture(scope="session")
def paging(registry: Registry) -> Iterator[PagingProxy]:
    with paging_proxy(registry.host, page_size=100, storage=registry.root) as proxy:
        yield proxy


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Mcpkg:
    """Runs the real CLI in-process with an isolated cache, config and Docker config."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.cache = home / "cache"
        self.config = home / "config.toml"
        self.docker = home / "docker"
        self.docker.mkdir(parents=True, exist_ok=True)
        self.config.write_text("")  # MCPKG_CONFIG must name a file that exists
        self.env: dict[str, str | None] = {
            "MCPKG_CACHE_DIR": str(self.cache),
            "MCPKG_CONFIG": str(self.config),
            "DOCKER_CONFIG": str(self.docker),
            "MCPKG_REGISTRY_USERNAME": None,
            "MCPKG_REGISTRY_PASSWORD": None,
            "SOURCE_DATE_EPOCH": None,
            "NO_COLOR": "1",
            "HTTP_PROXY": None,
            "HTTPS_PROXY": None,
            "http_proxy": None,
            "https_proxy": None,
            "NO_PROXY": None,
            "no_proxy": None,
        }

    def __call__(self, *args: str, env: Mapping[str, str | None] | None = None, input: str | None = None) -> Result:
        from mcpkg.cli.commands import app_for

        runner = CliRunner()
        merged = {**self.env, **(env or {})}
        app = app_for(args)  # what `mcpkg` builds for this command line (often one command)
        result = runner.invoke(app, list(args), env=merged, input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, f"mcpkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def cached_blobs(self) -> list[str]:
        blobs = self.cache / "blobs" / "sha256"
        return sorted(p.name for p in blobs.iterdir()) if blobs.is_dir() else []

    def write_config(self, text: str) -> None:
        self.config.write_text(text)


@pytest.fixture
def mcpkg(tmp_path: Path) -> Mcpkg:
    return Mcpkg(tmp_path / "home")


_counter = 0


@pytest.fixture
def repo(registry: Registry) -> str:
    """A fresh repository name in the session registry, `127.0.0.1:PORT/t/repoN`."""
    global _counter
    _counter += 1
    return f"{registry.host}/t/repo{_counter}"


@pytest.fixture(scope="session")
def roles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One component per role world of wit/, plus variants for negative cases."""
    from mcpkg.wasm.contracts import own_contract

    out = tmp_path_factory.mktemp("roles")
    for world in sorted(name for name, model in own_contract().worlds.items() if model.exports):
        build_world(ROOT / "wit", world, out / f"{world}.wasm")
    # the same contract against an older WASI patch release (wasi:*@0.2.3)
    old = copy_wit(ROOT / "wit", out / "wit-0.2.3", {"@0.2.9": "@0.2.3"})
    build_world(old, "stdio-transport", out / "stdio-transport-wasi-0.2.3.wasm")
    # an incompatible version of the contract (major bump)
    v1 = copy_wit(ROOT / "wit", out / "wit-1.0", {"mcpkg:mcp@0.1.0": "mcpkg:mcp@1.0.0", "mcpkg:mcp/": "mcpkg:mcp/"})
    build_world(v1, "tools-handler", out / "tools-handler-v1.wasm")
    # a chain member whose handle takes a string instead of the request record
    sig = copy_wit(ROOT / "wit", out / "wit-sig", {"handle: func(request: request,": "handle: func(request: string,"})
    build_world(sig, "middleware", out / "middleware-bad-signature.wasm")
    return out
