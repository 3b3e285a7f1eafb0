"""`mcpkg login` / `mcpkg logout`: credentials checked against the registry, then kept
where Docker keeps them (its credential helper, else `config.json`)."""

from __future__ import annotations

from mcpkg.config import load_config
from mcpkg.oci.client import RegistryClient
from mcpkg.oci.credentials import Credentials, check_login_storable, erase_credentials, store_credentials

__all__ = ["check_login_storable", "login", "logout"]


def login(registry: str, username: str, password: str, *, plain_http: bool = False) -> str:
    """Check the credentials (an authenticated ping), then store them; returns where."""
    creds = Credentials(username, password, "login")
    settings = load_config().registry_settings(registry)
    with RegistryClient(registry, settings, plain_http=plain_http, credentials=creds) as client:
        client.ping()
    return store_credentials(registry, creds)


def logout(registry: str) -> bool:
    """Remove the stored login; False when there was none."""
    return erase_credentials(registry)
