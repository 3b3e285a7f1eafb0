"""Which MCP roles a component fits (pure: models only).

A component fits a role world of `wit/` when it exports what the world exports
(type-compatible: it may export more) and imports nothing the world does not offer
(WASI interfaces are the host's and always allowed). Among the worlds it fits, the most
specific comes first: the one whose exports it covers most, then the one offering the
fewest imports it does not use, then handler worlds before `middleware`.

Real wasmcp components (both generations: `wasmcp:mcp/...@0.3.0` and
`wasmcp:mcp-v20251125/...`) are recognised by their interface names, so
`mcpkg inspect ghcr.io/wasmcp/...` can say what they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mcpkg.wasm.compat import Problem, check_link, find_export
from mcpkg.wasm.model import ComponentModel, is_wasi, semver_key

# Tie-break order: transports, handlers before middleware, terminal, services.
ROLE_ORDER = (
    "http-transport",
    "stdio-transport",
    "tools-handler",
    "resources-handler",
    "prompts-handler",
    "completion-handler",
    "middleware",
    "initialize-handler",
    "writers",
    "tools-writer-service",
    "resources-writer-service",
    "initialize-writer-service",
    "error-writer-service",
    "result-writer-service",
)

POSITION_OF_ROLE = {
    "http-transport": "transport",
    "stdio-transport": "transport",
    "initialize-handler": "terminal",
    "middleware": "chain",
}


@dataclass(frozen=True)
class Role:
    world: str
    position: str  # transport | chain | terminal | service


@cache
def load_worlds() -> tuple[str, dict[str, ComponentModel]]:
    """(package, world name -> model) from `mcpkg/data/roles.json` (made from `wit/`)."""
    data = json.loads((Path(__file__).resolve().parents[1] / "data" / "roles.json").read_text(encoding="utf-8"))
    return data["package"], {name: ComponentModel.from_json(body) for name, body in data["worlds"].items()}


def world_target(world: str) -> str:
    """`tools-handler` -> `mcpkg:mcp/tools-handler@0.1.0` (the config's `target`)."""
    package, _ = load_worlds()
    name, _, version = package.partition("@")
    return f"{name}/{world}@{version}" if version else f"{name}/{world}"


def position_of(world: str) -> str:
    if world in POSITION_OF_ROLE:
        return POSITION_OF_ROLE[world]
    return "chain" if world.endswith("-handler") else "service"


def fit_problems(model: ComponentModel, world_name: str, world: ComponentModel, label: str) -> list[Problem]:
    """Why `model` does not fit `world` (empty: it fits)."""
    problems: list[Problem] = []
    for name, wanted in world.exports.items():
        found = find_export(model, name)
        if found is None:
            problems.append(Problem(label, f"does not export what world {world_name} exports", name))
            continue
        problems.extend(check_link(f"world {world_name}", wanted, label, found[1], name))
    for name, needed in model.imports.items():
        if is_wasi(name):
            continue
        offered = next((n for n in world.imports if semver_key(n) == semver_key(name)), None)
        if offered is None:
            problems.append(Problem(label, f"imports something world {world_name} does not offer", name))
            continue
        problems.extend(check_link(label, needed, f"world {world_name}", world.imports[offered], name))
    return problems


def classify(model: ComponentModel) -> list[Role]:
    """The role worlds `model` fits, most specific first."""
    _, worlds = load_worlds()
    ranked: list[tuple[tuple[int, int, int], str]] = []
    for name, world in worlds.items():
        if world.exports and not fit_problems(model, name, world, "component"):
            used = {semver_key(n) for n in model.imports}
            unused = sum(1 for n in world.imports if not is_wasi(n) and semver_key(n) not in used)
            order = ROLE_ORDER.index(name) if name in ROLE_ORDER else len(ROLE_ORDER)
            ranked.append(((-len(world.exports), unused, order), name))
    return [Role(name, position_of(name)) for _, name in sorted(ranked)]


WASMCP_GENERATIONS = (
    ("wasmcp v0.3", "wasmcp:mcp/incoming-handler@0.3.0", "wasmcp:mcp/"),
    ("wasmcp mcp-v20251125", "wasmcp:mcp-v20251125/server-handler@0.1.0", "wasmcp:mcp-v20251125/"),
)
WASMCP_SERVICES = ("server-io", "session-store", "kv-store", "authorization", "request")
WASMCP_CAPABILITIES = ("tools", "resources", "prompts", "completions")


def wasmcp_roles(model: ComponentModel) -> list[str]:
    """Human labels for real wasmcp components, from their interface names."""
    labels: list[str] = []
    for generation, handler, prefix in WASMCP_GENERATIONS:
        key = semver_key(handler)
        imports_handler = any(semver_key(n) == key for n in model.imports)
        exports_handler = any(semver_key(n) == key for n in model.exports)
        exports = [n for n in model.exports if n.startswith(prefix)]
        if imports_handler and any(n.startswith("wasi:http/incoming-handler") for n in model.exports):
            labels.append(f"{generation} http transport")
        elif imports_handler and any(n.startswith("wasi:cli/run") for n in model.exports):
            labels.append(f"{generation} stdio transport")
        elif imports_handler and exports_handler:
            labels.append(f"{generation} middleware/handler")
        elif exports_handler:
            labels.append(f"{generation} terminal handler")
        for name in exports:
            if semver_key(name) == key:
                continue
            short = name[len(prefix) :].split("@", 1)[0]
            if short in WASMCP_SERVICES:
                labels.append(f"{generation} {short} service")
            elif short in WASMCP_CAPABILITIES:
                labels.append(f"{generation} {short} capability")
            elif short.endswith(("-result", "-content", "-writer")):
                labels.append(f"{generation} writer ({short})")
    return sorted(set(labels), key=labels.index)
