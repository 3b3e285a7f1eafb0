"""`mcpkg lock` and `mcpkg lock --check`: from `mcpkg.toml` to `mcpkg.lock`.

1. Read `mcpkg.toml` (its sha256 is the lock's `manifest-hash`) and the existing lock.
2. Fetch the tag lists the resolution needs, in parallel (bounded pool).
3. Resolve (pure, `resolution.py`), then fetch each chosen manifest, config and layer in
   parallel through the verified cache, applying the trust policy of the user's config
   and the project (a requiring policy stops here, before anything is written).
4. Learn each component's types (cached by digest) and run the chain check
   (docs/project.md): a server that cannot compose gets no lock.
5. Render the lock (same inputs -> same bytes) and write it atomically, under a file lock
   so concurrent `mcpkg lock` runs on one project serialize.

`--check` is offline and writes nothing: the lock must exist, be readable, have been made
from these exact `mcpkg.toml` bytes, match the hashes of local `path` components, and be
exactly what mcpkg writes.
"""

from __future__ import annotations

import contextlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from mcpkg.errors import ConfigError, IncompatibleError, IntegrityError, McpkgError, NotFoundError, UsageError
from mcpkg.ops.context import Context
from mcpkg.ops.offline import cached_tags
from mcpkg.ops.pull import pull_reference
from mcpkg.ops.wirehints import WireFix, wire_fixes, wire_hint
from mcpkg.outfile import remove_dead_temps, resolve_destination, write_user_file
from mcpkg.progress import step
from mcpkg.project.lockfile import LockEntry, Lockfile, render
from mcpkg.project.manifest import MANIFEST_NAME, ComponentSpec, ServerManifest
from mcpkg.project.resolution import Choice, Locked, Wanted, choose, needs_tags
from mcpkg.project.state import Project, load_project, project_lock, read_lock
from mcpkg.reference import Digest, PackageName, Reference
from mcpkg.wasm.backend import backend_problems
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.contracts import contract_mismatches, role_summary
from mcpkg.wasm.introspect import component_model
from mcpkg.wasm.model import ComponentModel

MAX_WORKERS = 8


def component_reference(ctx: Context, spec: ComponentSpec) -> Reference:
    assert spec.ref is not None
    package = PackageName.try_parse(spec.ref)
    if package is not None:
        if package.requirement is not None:
            raise ConfigError(f"[components.{spec.name}] ref {spec.ref!r} carries a version", "put it in `version`")
        return ctx.config.package_reference(package)
    try:
        ref = ctx.config.parse_reference(spec.ref)
    except UsageError as exc:
        raise ConfigError(f"[components.{spec.name}] ref: {exc.message}") from exc
    if ref.tag or ref.digest:
        raise ConfigError(
            f"[components.{spec.name}] ref {spec.ref!r} names a tag or digest",
            "give the repository in `ref`, and `version` or `digest` beside it",
        )
    return ref


@dataclass(frozen=True)
class Resolved:
    entry: LockEntry
    model: ComponentModel


def _lock_entry_for_path(ctx: Context, project: Project, spec: ComponentSpec, position: str) -> Resolved:
    assert spec.path is not None
    path = project.root / spec.path
    if not path.is_file():
        raise NotFoundError(f"[components.{spec.name}] path {spec.path} does not exist", "build it, or fix `path`")
    digest, size = ctx.cache.file_digest(path)
    model = component_model(path, digest, ctx.cache, spec.path)
    entry = LockEntry(
        spec.name, position, "path", str(digest), size, model.import_names, model.export_names, path=spec.path
    )
    return Resolved(entry, model)


def _fetch_registry(
    ctx: Context, project: Project, spec: ComponentSpec, ref: Reference, choice: Choice, position: str
) -> Resolved:

    target = ref.with_tag(choice.tag)
    if choice.digest is not None:
        target = target.with_digest(Digest.parse(choice.digest))
    try:
        pulled = pull_reference(ctx, target, project_scopes=project.manifest.trust)
    except NotFoundError as exc:
        if choice.kept:
            raise NotFoundError(
                f"{spec.name}: the locked digest {choice.digest} is no longer served by {ref.location}",
                f"run `mcpkg lock --update {spec.name}` to move to what the registry serves now",
            ) from exc
        raise
    except IntegrityError as exc:
        raise IntegrityError(
            f"{spec.name}: {ref.location} serves different bytes for the locked digest: {exc.message}",
            "do not use this registry's copy; investigate before `mcpkg lock --update`",
        ) from exc
    model = component_model(pulled.layer_path, pulled.manifest.layer.digest, ctx.cache, str(target))
    entry = LockEntry(
        name=spec.name,
        position=position,
        source="registry",
        layer_digest=str(pulled.manifest.layer.digest),
        size=pulled.manifest.layer.size,
        imports=model.import_names,
        exports=model.export_names,
        reference=ref.location,
        requirement=str(spec.version) if spec.version else None,
        version=choice.tag,
        digest=str(pulled.reference.digest),
        signatures=pulled.signed_by,
        identities=pulled.identities,
        bundles=pulled.material,
    )
    return Resolved(entry, model)


def resolve_project(
    ctx: Context, project: Project, update: set[str] | None, offline: bool
) -> tuple[Lockfile, dict[str, Resolved]]:
    manifest = project.manifest
    existing = read_lock(project)
    old = existing[1] if existing else None
    update_all = update is not None and not update
    for name in update or ():
        if name not in manifest.components:
            raise UsageError(f"--update {name}: no such component in {MANIFEST_NAME}")
    wanted: dict[str, tuple[ComponentSpec, Reference, Wanted, Locked | None]] = {}
    for spec in manifest.components.values():
        if spec.ref is None:
            continue
        ref = component_reference(ctx, spec)
        locked_entry = old.entry(spec.name) if old else None
        locked = None
        if locked_entry and locked_entry.source == "registry" and locked_entry.digest:
            locked = Locked(
                locked_entry.reference or "", locked_entry.requirement, locked_entry.version, locked_entry.digest
            )
        pinned = str(spec.digest) if spec.digest else None
        wanted[spec.name] = (spec, ref, Wanted(spec.name, ref.location, spec.version, pinned), locked)

    def updating(name: str) -> bool:
        return update_all or (update is not None and name in update)

    need = [n for n, (_, _, w, locked) in wanted.items() if needs_tags(w, locked, updating(n))]
    if offline:
        ctx.offline = True  # from here on, the cache stands in for every registry

    def tags_of(name: str) -> tuple[str, list[str]]:
        ref = wanted[name][1]
        if offline:  # the tags the cache has seen (ops/offline.py)
            return name, list(cached_tags(ctx.cache, ref))
        try:
            return name, ctx.client(ref.registry).list_tags(ref.repository)
        except McpkgError as exc:
            raise naming(exc, name) from exc.__cause__

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool, step(f"resolving {len(manifest.components)} components"):
        tags = dict(pool.map(tags_of, need))
        choices = {
            name: choose(w, tags.get(name), locked, updating(name)) for name, (_, _, w, locked) in wanted.items()
        }
        jobs = {
            name: pool.submit(_fetch_registry, ctx, project, spec, ref, choices[name], manifest.position(name))
            for name, (spec, ref, _, _) in wanted.items()
        }
        resolved: dict[str, Resolved] = {}
        for name, spec in manifest.components.items():
            if spec.path is not None:
                resolved[name] = _lock_entry_for_path(ctx, project, spec, manifest.position(name))
        errors: list[McpkgError] = []
        for name, job in jobs.items():
            try:
                resolved[name] = job.result()
            except McpkgError as exc:
                errors.append(naming(exc, name))
        if errors:
            raise errors[0]
    lock = Lockfile(
        project.manifest_hash,
        manifest.name,
        manifest.transport,
        manifest.chain,
        manifest.terminal,
        tuple(replace(resolved[name].entry, wires=manifest.components[name].wires) for name in sorted(resolved)),
        backend=manifest.backend,
    )
    return lock, resolved


def naming(exc: McpkgError, name: str) -> McpkgError:
    """`exc` with the component it concerns named first (a registry failure says the
    repository, not which entry of mcpkg.toml needed it)."""
    if not exc.message.startswith((f"{name}:", f"[components.{name}]")):
        exc.message = f"component {name}: {exc.message}"
    return exc


def chain_problems(manifest: ServerManifest, models: dict[str, ComponentModel]) -> tuple[list[str], list[WireFix]]:
    """What keeps the server from composing, and for the imports that cannot be wired,
    the `wire` entries that fix them (ops/wirehints.py)."""
    if manifest.backend is not None:  # one wasi:mcp backend: checked against its contract
        return backend_problems(models[manifest.backend], manifest.backend), []
    services = {name: models[name] for name in manifest.services}
    report = check_chain(
        (manifest.transport, models[manifest.transport]),
        [(name, models[name]) for name in manifest.chain],
        (manifest.terminal, models[manifest.terminal]),
        list(services.items()),
        manifest.wires,
    )
    problems = [str(p) for p in report.problems]
    if problems:  # say why, when it is that the parts target different contract versions
        problems.extend(contract_mismatches(sorted(models.items())))
    return problems, wire_fixes(report.problems, services, report.wiring.chain_interface)


@dataclass(frozen=True)
class LockResult:
    lock: Lockfile
    changed: bool
    path: Path
    roles: dict[str, str]  # component -> its most specific contract role
    migrated_from: int | None = None  # the older lock format version this lock replaced


def lock_project(ctx: Context, root: Path, *, update: set[str] | None = None, offline: bool = False) -> LockResult:
    project = load_project(root)
    resolve_destination(project.lock_path)  # an unwritable lock fails before any work
    with project_lock(root):
        # a killed writer's temp file goes even when the lock is not rewritten this time
        remove_dead_temps(project.lock_path)
        lock, resolved = resolve_project(ctx, project, update, offline)
        problems, fixes = chain_problems(project.manifest, {n: r.model for n, r in resolved.items()})
        if problems:
            what = "cannot be served (a wasi:mcp backend)" if project.manifest.backend else "cannot compose"
            raise IncompatibleError(
                f"the server {project.manifest.name!r} {what}, so no lock was written:\n  " + "\n  ".join(problems),
                wire_hint(fixes) or "fix the components or their order in mcpkg.toml, or pick other versions",
                {"problems": problems, "wire-fixes": [f.to_json() for f in fixes]},
            )
        data = render(lock)
        existing = None
        with contextlib.suppress(OSError):
            existing = project.lock_path.read_bytes()
        changed = existing != data
        old_format = _format_version(existing)
        if changed:
            write_user_file(project.lock_path, data)
    roles = {name: role_summary(r.model) for name, r in resolved.items()}
    migrated = old_format if old_format is not None and old_format < lock.version else None
    return LockResult(lock, changed, project.lock_path, roles, migrated)


def _format_version(data: bytes | None) -> int | None:
    """The `version = N` line of an existing lock (None when there is none to read)."""
    match = re.search(rb"^version = (\d+)$", data or b"", re.MULTILINE)
    return int(match.group(1)) if match else None
