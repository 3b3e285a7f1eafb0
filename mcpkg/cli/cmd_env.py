"""`mcpkg env`: the config file, cache, credentials source and namespaces in use."""

from __future__ import annotations

from typing import Any

from mcpkg.cli.options import JSON_OPTION, set_json
from mcpkg.cli.terminal import emit_json


def env_command(json_output: bool = JSON_OPTION) -> None:
    """Show where mcpkg's config, cache and credentials come from, and the namespaces,
    registries and trust scopes the config sets (no secrets are shown)."""
    from mcpkg.ops.environment import describe_environment

    set_json(json_output)
    data = describe_environment()
    if json_output:
        emit_json(data)
        return
    for line in render_environment(data):
        print(line)


def render_environment(data: dict[str, Any]) -> list[str]:
    config, cache, creds = data["config"], data["cache"], data["credentials"]
    state = "" if config["exists"] else " (not present: the defaults apply)"
    lines = [
        f"version:          mcpkg {data['version']}",
        f"config:           {config['path']}{state}" + ("  [MCPKG_CONFIG]" if config["from"] == "MCPKG_CONFIG" else ""),
        f"cache:            {cache['path']}" + ("  [MCPKG_CACHE_DIR]" if cache["from"] == "MCPKG_CACHE_DIR" else ""),
    ]
    sources = []
    if creds["environment"]:
        sources.append("MCPKG_REGISTRY_USERNAME/PASSWORD")
    docker = creds["docker-config"] + ("" if creds["docker-config-exists"] else " (not present)")
    sources.append(f"Docker config {docker}")
    lines.append("credentials:      " + ", then ".join(sources) + ", then anonymous")
    if creds["creds-store"]:
        lines.append(f"  credsStore:     docker-credential-{creds['creds-store']}")
    for host, helper in sorted(creds["cred-helpers"].items()):
        lines.append(f"  credHelpers:    {host} -> docker-credential-{helper}")
    if creds["auths"]:
        lines.append(f"  logged in to:   {', '.join(creds['auths'])}")
    lines.append(f"default registry: {data['default-registry']}")
    lines.append(
        "namespaces:" + ("" if data["namespaces"] else "       (none: ns:name means <default registry>/ns/name)")
    )
    for namespace, target in data["namespaces"].items():
        lines.append(f"  {namespace} = {target}")
    for host, settings in data["registries"].items():
        what = ", ".join(f"{k} = {v}" for k, v in settings.items() if v is not None) or "(defaults)"
        lines.append(f"registry {host}: {what}")
    for scope in data["trust"]:
        keys = ", ".join(scope["keys"]) or "no keys"
        lines.append(f"trust {scope['scope']}: {keys}{' (required)' if scope['require'] else ''}")
        lines.extend(f"  keyless signer: {identity}" for identity in scope["identities"])
    root = data["sigstore"]["trusted-root"] or "the public-good root shipped with sigstore-python"
    lines.append(f"sigstore trusted root: {root}")
    return lines


EXAMPLES = """\b
Examples:
  mcpkg env
  mcpkg env --json
"""
