"""`mcpkg env`: where mcpkg reads and keeps things, and the settings it would use: the
config file, the cache, where credentials come from (never the credentials themselves,
and no credential helper is run), the default registry, namespaces, registries, trust."""

from __future__ import annotations

import os
from typing import Any

from mcpkg import __version__
from mcpkg.cache import default_cache_root
from mcpkg.config import config_path, load_config
from mcpkg.oci.credentials import docker_config_path, read_docker_config


def _credentials() -> dict[str, Any]:
    path = docker_config_path()
    docker = read_docker_config(path)
    helpers = docker.get("credHelpers")
    auths = docker.get("auths")
    store = docker.get("credsStore")
    return {
        "environment": bool(os.environ.get("MCPKG_REGISTRY_USERNAME"))
        and os.environ.get("MCPKG_REGISTRY_PASSWORD") is not None,
        "docker-config": str(path),
        "docker-config-exists": path.is_file(),
        "creds-store": store if isinstance(store, str) and store else None,
        "cred-helpers": {k: v for k, v in helpers.items() if isinstance(v, str)} if isinstance(helpers, dict) else {},
        "auths": sorted(auths) if isinstance(auths, dict) else [],
    }


def describe_environment() -> dict[str, Any]:
    path = config_path()
    config = load_config()  # a broken or missing MCPKG_CONFIG file fails here, naming it
    return {
        "version": __version__,
        "config": {
            "path": str(path),
            "exists": config.path is not None,
            "from": "MCPKG_CONFIG" if os.environ.get("MCPKG_CONFIG") else "default",
        },
        "cache": {
            "path": str(default_cache_root()),
            "from": "MCPKG_CACHE_DIR" if os.environ.get("MCPKG_CACHE_DIR") else "default",
        },
        "credentials": _credentials(),
        "default-registry": config.default_registry,
        "namespaces": dict(sorted(config.namespaces.items())),
        "registries": {
            host: {
                "plain-http": settings.plain_http,
                "ca-file": str(settings.ca_file) if settings.ca_file else None,
            }
            for host, settings in sorted(config.registries.items())
        },
        "trust": [
            {
                "scope": scope.pattern,
                "keys": [str(k) for k in scope.keys],
                "identities": [rule.describe() for rule in scope.identities],
                "require": scope.require,
            }
            for scope in config.trust
        ],
        "sigstore": {
            "trusted-root": str(config.sigstore.trusted_root) if config.sigstore.trusted_root else None,
            "signing-config": str(config.sigstore.signing_config) if config.sigstore.signing_config else None,
        },
    }
