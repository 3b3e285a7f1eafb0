"""What an operation runs with: the user config, the cache, how progress is reported, and
one registry client per registry and thread (connections and authentication are reused
within a command). A context manager: leaving it closes the clients."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mcpkg.cache import Cache
from mcpkg.config import Config, load_config
from mcpkg.errors import ConfigError
from mcpkg.oci.client import RegistryClient
from mcpkg.progress import ProgressFactory, silent


@dataclass
class Context:
    config: Config
    cache: Cache
    plain_http: bool = False
    progress: ProgressFactory = silent  # how long transfers report (the CLI: a progress bar)
    offline: bool = False  # --offline: no client is ever made (ops/offline.py)
    _clients: dict[str, RegistryClient] = field(default_factory=dict)

    @classmethod
    def load(cls, plain_http: bool = False, progress: ProgressFactory = silent) -> Context:
        return cls(load_config(), Cache.default(), plain_http, progress)

    def client(self, registry: str) -> RegistryClient:
        """The client for `registry` in this thread (sessions are not shared across the
        worker threads `mcpkg lock` uses)."""
        if self.offline:
            raise ConfigError(
                f"--offline, but this needs {registry}: what it asks for is not in the cache",
                "run once with network access, or drop --offline",
            )
        key = f"{registry}#{threading.get_ident()}"
        client = self._clients.get(key)
        if client is None:
            client = RegistryClient(registry, self.config.registry_settings(registry), plain_http=self.plain_http)
            self._clients[key] = client
        return client

    def close(self) -> None:
        for client in list(self._clients.values()):
            client.close()
        self._clients.clear()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
