"""What a command runs with: the user config, the cache, and one registry client per
registry (so connections and authentication are reused within a command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcpkg.cache import Cache
from mcpkg.config import Config, load_config

if TYPE_CHECKING:
    from mcpkg.oci.client import RegistryClient


@dataclass
class Context:
    config: Config
    cache: Cache
    plain_http: bool = False
    _clients: dict[str, RegistryClient] = field(default_factory=dict)

    @classmethod
    def load(cls, plain_http: bool = False) -> Context:
        return cls(load_config(), Cache.default(), plain_http)

    def client(self, registry: str) -> RegistryClient:
        """The client for `registry` in this thread (sessions are not shared across the
        worker threads `mcpkg lock` uses)."""
        import threading

        key = f"{registry}#{threading.get_ident()}"
        client = self._clients.get(key)
        if client is None:
            from mcpkg.oci.client import RegistryClient

            client = RegistryClient(registry, self.config, plain_http=self.plain_http)
            self._clients[key] = client
        return client

    def close(self) -> None:
        for client in list(self._clients.values()):
            client.close()
        self._clients.clear()
