"""What makes a component a wasi:mcp backend mcpkg can host (pure: models only).

A backend (docs/wasi-mcp.md) is one whole MCP server written against the wasi-mcp
proposal's `mcp-backend-preview2` world: it imports the host's `wasi:mcp/runtime` and
exports `wasi:mcp/handlers`. The proposal gives it no entry point, so mcpkg's convention
adds one: the backend also exports `wasi:cli/run` (0.2.x), whose `run` registers the
server, tools, resources and prompts and calls `serve()`; the host then answers each
request by calling `handlers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpkg.wasm.contracts import Contract, contracts, fit_problems
from mcpkg.wasm.model import ComponentModel, semver_key

PACKAGE = "wasi:mcp"


@dataclass(frozen=True)
class BackendContract:
    contract: Contract
    world: str  # mcp-backend-preview2
    entry: str  # wasi:cli/run@0.2: the export the convention adds

    @property
    def version(self) -> str:
        return self.contract.package.partition("@")[2]

    def qualified(self, interface: str) -> str:
        """`runtime` -> `wasi:mcp/runtime@0.1.0-preview2`."""
        return f"{PACKAGE}/{interface}@{self.version}"


def backend_contract() -> BackendContract:
    """The wasi:mcp contract mcpkg ships (contracts/wasi-mcp-0.1.0-preview2/)."""
    for contract in contracts():
        if contract.package.partition("@")[0] == PACKAGE:
            world = next(w for w, position in contract.roles if position == "backend")
            return BackendContract(contract, world, contract.entry[world])
    raise AssertionError("the wasi:mcp contract data is missing: run scripts/gen_contracts.py")


def wasi_mcp_versions(model: ComponentModel) -> set[str]:
    """The versions of `wasi:mcp` a component imports or exports (none: not a backend)."""
    found = set()
    for name in [*model.imports, *model.exports]:
        base, _, version = name.partition("@")
        if base.split("/", 1)[0] == PACKAGE:
            found.add(version or "(unversioned)")
    return found


def is_backend_candidate(model: ComponentModel) -> bool:
    """Does it use `wasi:mcp` at all (then it is checked, and refused, as a backend)?"""
    return bool(wasi_mcp_versions(model))


def entry_export(model: ComponentModel, entry: str) -> str | None:
    """The export name that satisfies the entry convention (`wasi:cli/run@0.2.3`)."""
    return next((name for name in model.exports if semver_key(name) == entry), None)


def backend_problems(model: ComponentModel, label: str) -> list[str]:
    """Why `model` is not a wasi:mcp backend mcpkg can host (empty: it is one)."""
    spec = backend_contract()
    versions = wasi_mcp_versions(model)
    if not versions:
        return [f"{label} is not a wasi:mcp backend: it neither imports nor exports any wasi:mcp interface"]
    other = sorted(v for v in versions if v != spec.version)
    if other:
        built = ", ".join(f"{PACKAGE}@{v}" for v in other)
        return [
            f"{label} is built against {built}; mcpkg hosts {spec.contract.package} backends "
            f"(rebuild it against {spec.contract.package}: docs/wasi-mcp.md)"
        ]
    world = spec.contract.worlds[spec.world]
    problems = [str(p) for p in fit_problems(model, spec.world, world, label)]
    run = entry_export(model, spec.entry)
    if run is None:
        problems.append(
            f"{label} does not export {spec.entry.replace('@0.2', '@0.2.x')}: a wasi:mcp backend needs an entry "
            "point (mcpkg's convention: `run` registers everything and calls serve(); docs/wasi-mcp.md)"
        )
    else:
        item = model.exports[run]
        function = item.get("functions", {}).get("run") if item.get("kind") == "instance" else None
        if function is None or function.get("params"):
            problems.append(f"{label} exports {run} without a `run: func() -> result` in it")
    return problems
