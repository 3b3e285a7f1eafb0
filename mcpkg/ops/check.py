"""`mcpkg check TRANSPORT [HANDLER ...] TERMINAL [--service FILE]...`: would these files
compose, in this order? Types come from wasmtime (cached by digest); the rules are
`mcpkg.wasm.compat.check_chain` (docs/project.md, "How the parts are wired").
`mcpkg check BACKEND.wasm`: is this a wasi:mcp backend `mcpkg run` can host (its
contract and the entry-point convention, docs/wasi-mcp.md)?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpkg.errors import UsageError
from mcpkg.host.grants import grants_needed
from mcpkg.host.runner import unprovided_imports
from mcpkg.infile import readable_file
from mcpkg.ops.context import Context
from mcpkg.ops.insight import project_check
from mcpkg.wasm.backend import PACKAGE, backend_contract, backend_problems, entry_export, is_backend_candidate
from mcpkg.wasm.compat import ChainReport, check_chain
from mcpkg.wasm.contracts import contract_mismatches, role_summary
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel


@dataclass(frozen=True)
class FileCheck:
    order: list[str]
    services: list[str]
    report: ChainReport
    roles: dict[str, str]  # part -> its most specific contract role
    mismatches: list[str]  # parts built against incompatible contract versions

    def to_json(self) -> dict[str, Any]:
        wiring = self.report.wiring
        return {
            "ok": self.report.ok,
            "chain": self.order,
            "services": self.services,
            "chain-interface": wiring.chain_interface,
            "wiring": [
                {"importer": importer, "import": name, "provider": provider, "export": export}
                for (importer, name), (provider, export) in sorted(wiring.links.items())
            ],
            "host-imports": sorted(wiring.host_imports),
            "problems": [p.to_json() for p in self.report.problems],
            "roles": self.roles,
            "contract-mismatches": self.mismatches,
        }


def _load(ctx: Context, path: Path) -> tuple[str, ComponentModel]:
    readable_file(path, "component")
    digest, _ = ctx.cache.file_digest(path)
    return path.name, component_model(path, digest, ctx.cache, str(path))


@dataclass(frozen=True)
class BackendCheck:
    file: str
    role: str  # its most specific contract role
    entry: str | None  # the entry-point export it has
    problems: list[str]
    needs: list[str]  # the grants `mcpkg run` needs to host it (`--allow-http`)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backend": self.file,
            "role": self.role,
            "entry": self.entry,
            "problems": self.problems,
            "needs": self.needs,
        }


def check_backend_file(ctx: Context, path: Path) -> BackendCheck | None:
    """`mcpkg check FILE` of a component that uses wasi:mcp (None: it does not)."""
    _, model = _load(ctx, path)
    if not is_backend_candidate(model):
        return None
    entry = entry_export(model, backend_contract().entry)
    problems = backend_problems(model, str(path))
    unprovided = unprovided_imports(model, hosted=frozenset({PACKAGE}))
    if unprovided:
        problems.append(f"it imports {', '.join(unprovided)}, which mcpkg's host does not provide")
    return BackendCheck(str(path), role_summary(model), entry, problems, grants_needed(model.imports))


def check_files(ctx: Context, files: list[Path], services: list[Path]) -> FileCheck:
    if len(files) < 2:
        raise UsageError(
            "check needs at least a transport and a terminal",
            "mcpkg check TRANSPORT [HANDLER ...] TERMINAL [--service FILE]...",
        )
    loaded = [_load(ctx, p) for p in files]
    labels = [name for name, _ in loaded]
    if len(set(labels)) != len(labels):
        loaded = [(str(p), model) for p, (_, model) in zip(files, loaded, strict=True)]
    service_models = [_load(ctx, p) for p in services]
    for name, model in [*loaded, *service_models]:
        if is_backend_candidate(model):
            raise UsageError(
                f"{name} uses wasi:mcp: a backend is a whole server, never composed with other components",
                f"check it alone: mcpkg check {name}",
            )
    report = check_chain(loaded[0], loaded[1:-1], loaded[-1], service_models)
    parts = [*loaded, *service_models]
    roles = {name: role_summary(model) for name, model in parts}
    mismatches = contract_mismatches(parts) if not report.ok else []
    return FileCheck([name for name, _ in loaded], [name for name, _ in service_models], report, roles, mismatches)


def check_project(ctx: Context, root: Path) -> list[str]:
    """`mcpkg check [-C DIR]` with no files, for CI: the problems (none when all is well)."""
    return project_check(ctx, root)
