"""`mcpkg outdated` and `mcpkg tree`: reports over the project and its lock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mcpkg.errors import ConfigError, McpkgError
from mcpkg.host.grants import grants_needed
from mcpkg.host.runner import is_http
from mcpkg.ops.context import Context
from mcpkg.ops.lock import chain_problems, component_reference
from mcpkg.ops.lockpolicy import lock_trust_problems
from mcpkg.ops.pull import pull_reference
from mcpkg.ops.trust import recheck_entry
from mcpkg.project.state import check_lock, load_project, read_lock
from mcpkg.reference import Digest, Reference
from mcpkg.semver import highest_tag
from mcpkg.wasm.backend import backend_problems
from mcpkg.wasm.compat import check_chain, wire_for
from mcpkg.wasm.introspect import cached_model, component_model
from mcpkg.wasm.model import ComponentModel


def outdated(ctx: Context, root: Path) -> list[dict[str, Any]]:
    project = load_project(root)
    existing = read_lock(project)
    lock = existing[1] if existing else None
    specs = [s for s in project.manifest.components.values() if s.ref is not None]

    def row(spec: Any) -> dict[str, Any]:
        ref = component_reference(ctx, spec)
        tags = ctx.client(ref.registry).list_tags(ref.repository)
        entry = lock.entry(spec.name) if lock else None
        return {
            "name": spec.name,
            "reference": ref.location,
            "requirement": str(spec.version) if spec.version else None,
            "locked": entry.version if entry else None,
            "matching": highest_tag(tags, spec.version),
            "latest": highest_tag(tags),
        }

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sorted(pool.map(row, specs), key=lambda r: str(r["name"]))


def _models(ctx: Context, root: Path) -> tuple[Any, dict[str, ComponentModel]]:
    project = load_project(root)
    existing = read_lock(project)
    if existing is None:
        raise ConfigError("there is no mcpkg.lock yet", "run `mcpkg lock`")
    lock = existing[1]
    models: dict[str, ComponentModel] = {}
    for entry in lock.entries:
        digest = Digest.parse(entry.layer_digest)
        model = cached_model(ctx.cache, digest)
        if model is None:
            if entry.source == "path":
                path = root / (entry.path or "")
                model = component_model(path, digest, ctx.cache, str(path))
            else:
                ref = Reference.parse(str(entry.reference)).with_digest(Digest.parse(str(entry.digest)))
                pulled = pull_reference(ctx, ref, with_signature=False)
                model = component_model(pulled.layer_path, digest, ctx.cache, str(ref))
        models[entry.name] = model
    return lock, models


def tree(ctx: Context, root: Path) -> tuple[dict[str, Any], str]:
    lock, models = _models(ctx, root)
    if lock.backend is not None:
        entry = lock.entry(lock.backend)
        assert entry is not None
        origin = entry.path if entry.source == "path" else f"{entry.reference}:{entry.version or entry.digest}"
        problems = backend_problems(models[lock.backend], lock.backend)
        needs = grants_needed(models[lock.backend].imports)
        text = f"{lock.backend} ({origin}): a wasi:mcp backend, served by {' '.join(['mcpkg run', *needs])}\n"
        text += "".join(f"problem: {p}\n" for p in problems)
        return {"backend": lock.backend, "problems": problems, "needs": needs}, text
    services = lock.services
    report = check_chain(
        (lock.transport, models[lock.transport]),
        [(n, models[n]) for n in lock.chain],
        (lock.terminal, models[lock.terminal]),
        [(n, models[n]) for n in services],
        lock.wires,
    )
    wiring = report.wiring
    wires = lock.wires

    def wired(importer: str, interface: str) -> bool:
        return wire_for(wires.get(importer, {}), interface) is not None

    def label(name: str) -> str:
        entry = lock.entry(name)
        assert entry is not None
        origin = entry.path if entry.source == "path" else f"{entry.reference}:{entry.version or entry.digest}"
        return f"{name} ({origin})"

    lines: list[str] = []
    order = [lock.transport, *lock.chain, lock.terminal]
    for depth, name in enumerate(order):
        lines.append("    " * depth + ("" if depth == 0 else "-> ") + label(name))
        for (importer, iface), (provider, _) in sorted(wiring.links.items()):
            if importer == name and provider not in order:
                mark = " (wired)" if wired(importer, iface) else ""
                lines.append("    " * depth + f"      {iface} <- {provider}{mark}")
    if services:
        lines.append("services:")
        for name in services:
            lines.append(f"  {label(name)}")
            for (importer, iface), (provider, _) in sorted(wiring.links.items()):
                if importer == name:
                    mark = " (wired)" if wired(importer, iface) else ""
                    lines.append(f"      {iface} <- {provider}{mark}")
    if wiring.host_imports:
        lines.append("host imports: " + ", ".join(sorted(wiring.host_imports)))
    needs = grants_needed(wiring.host_imports, is_http(models[lock.transport]))
    if needs:
        lines.append(f"needs: {', '.join(needs)} (to run it: {' '.join(['mcpkg run', *needs])} server.wasm)")
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    data = {
        "transport": lock.transport,
        "chain": list(lock.chain),
        "terminal": lock.terminal,
        "services": services,
        "wiring": [
            {"importer": i, "import": n, "provider": p, "export": e, "wired": wired(i, n)}
            for (i, n), (p, e) in sorted(wiring.links.items())
        ],
        "host-imports": sorted(wiring.host_imports),
        "needs": needs,
        "problems": [str(p) for p in report.problems],
    }
    return data, "\n".join(lines) + "\n"


def project_check(ctx: Context, root: Path) -> list[str]:
    """`mcpkg check` for CI: fresh lock, signatures under the policy, compatible chain."""

    project = load_project(root)
    trust_problems = lock_trust_problems(ctx.config, project.manifest.trust, ctx.cache)
    problems = check_lock(project, lambda path: ctx.cache.file_digest(path)[0], trust_problems)
    if problems:
        return problems
    lock, models = _models(ctx, root)
    for entry in lock.entries:
        if entry.source != "registry":
            continue
        try:  # offline, from the signature material the lock recorded (fetched by digest if not cached)
            verdict = recheck_entry(ctx, entry, project.manifest.trust, offline=False)
        except McpkgError as exc:
            problems.append(exc.message if exc.message.startswith(f"{entry.name}:") else f"{entry.name}: {exc.message}")
            continue
        verified = {*verdict.key_ids, *verdict.identities}
        recorded = {*entry.signatures, *entry.identities}
        if verdict.verification is not None and not recorded <= verified:
            gone = sorted(recorded - verified)
            problems.append(f"{entry.name}: locked signers {gone} no longer verify ({verdict.status})")
    problems.extend(chain_problems(project.manifest, models)[0])
    return problems
