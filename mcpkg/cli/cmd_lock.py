"""`mcpkg lock [--check] [--update [NAME]...] [--offline]`."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli.options import JSON_OPTION, PLAIN_HTTP_OPTION, PROJECT_OPTION, opened, project_root, set_json
from mcpkg.cli.terminal import emit_json, note
from mcpkg.errors import McpkgError, UsageError


def lock_command(
    names: list[str] = typer.Argument(
        None,
        metavar="[NAME]...",
        help="With --update: the components (their names in mcpkg.toml) to move to their newest matching "
        "version; the others stay as locked.",
    ),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the lock is missing or stale (offline)."),
    update: bool = typer.Option(False, "--update", help="Move NAMEs (default: all) to the newest match."),
    offline: bool = typer.Option(False, "--offline", help="Use only the lock and the cache."),
    project: Path | None = PROJECT_OPTION,
    json_output: bool = JSON_OPTION,
    plain_http: bool = PLAIN_HTTP_OPTION,
) -> None:
    """Resolve mcpkg.toml into mcpkg.lock (verified, type-checked, reproducible)."""
    from mcpkg.project.state import check_lock, load_project

    set_json(json_output)
    root = project_root(project)
    if names and not update:
        raise UsageError("component names are only taken with --update", "mcpkg lock --update NAME...")
    if check:
        from mcpkg.cache import Cache
        from mcpkg.config import load_config
        from mcpkg.ops.lockpolicy import lock_trust_problems

        # a path component's digest from the cache's records when it is unchanged; no
        # record is written (--check writes nothing, not even to the cache)
        cache = Cache.default()
        loaded = load_project(root)
        trust = lock_trust_problems(load_config(), loaded.manifest.trust, cache)
        reasons = check_lock(loaded, lambda path: cache.file_digest(path, record=False)[0], trust)
        if json_output and not reasons:
            emit_json({"fresh": True, "reasons": []})
        if reasons:
            raise McpkgError(
                "the lock is not fresh: " + "; ".join(reasons), "run `mcpkg lock`", {"fresh": False, "reasons": reasons}
            )
        if not json_output:
            print("mcpkg.lock is fresh")
        return
    from mcpkg.ops.lock import lock_project

    with opened(json_output, plain_http) as ctx:
        result = lock_project(ctx, root, update=set(names or []) if update else None, offline=offline)
    if json_output:
        emit_json({"path": str(result.path), "changed": result.changed, "migrated-from": result.migrated_from,
                   "components": [
            {"name": e.name, "position": e.position, "role": result.roles.get(e.name),
             "version": e.version, "digest": e.digest,
             "layer-digest": e.layer_digest, "signatures": list(e.signatures),
             "identities": list(e.identities), "bundles": list(e.bundles)} for e in result.lock.entries
        ]})  # fmt: skip
        return
    for entry in result.lock.entries:
        what = entry.path if entry.source == "path" else f"{entry.reference}:{entry.version or '-'}"
        signers = [*entry.signatures, *(i.split(" ", 1)[-1] for i in entry.identities)]
        signed = f"  signed by {', '.join(signers)}" if signers else ""
        print(f"{entry.name:<24} {entry.position:<9} {what}{signed}")
        print(f"{'':<24} {'':<9} {result.roles.get(entry.name, '')}")
    if result.migrated_from is not None:
        note(f"{result.path}: migrated from lock format {result.migrated_from} to {result.lock.version}")
    note(f"{result.path} {'written' if result.changed else 'unchanged'}")


EXAMPLES = """\b
Examples:
  mcpkg lock                                      # resolve mcpkg.toml into mcpkg.lock
  mcpkg lock --check                              # CI: exit 1 if missing or stale (offline)
  mcpkg lock --update                             # move every component to its newest match
  mcpkg lock --update tools logger                # move only these (NAMEs from mcpkg.toml)
"""
