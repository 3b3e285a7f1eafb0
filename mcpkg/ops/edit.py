"""`mcpkg add` / `mcpkg remove`: edit `mcpkg.toml` (comments and layout kept) and re-lock,
as one transaction under the project's lock: when the re-lock fails, the previous
`mcpkg.toml` is put back before anyone else can read the edited one."""

from __future__ import annotations

from pathlib import Path

from mcpkg.errors import McpkgError, UsageError
from mcpkg.infile import looks_like_path, readable_file
from mcpkg.ops.context import Context
from mcpkg.ops.lock import lock_project
from mcpkg.outfile import write_user_file
from mcpkg.project.edit import Addition, add_components, remove_component
from mcpkg.project.manifest import MANIFEST_NAME
from mcpkg.project.state import project_lock


def parse_wires(values: list[str]) -> tuple[tuple[str, str], ...]:
    """`--wire INTERFACE=COMPONENT` values (the manifest check validates the names)."""
    wires = []
    for value in values:
        interface, sep, provider = value.partition("=")
        if not sep or not interface.strip() or not provider.strip():
            raise UsageError(
                f"--wire {value!r} is not INTERFACE=COMPONENT", "e.g. --wire wasmcp:mcp-v20251125/tools=strings"
            )
        wires.append((interface.strip(), provider.strip()))
    return tuple(sorted(wires))


def add(
    ctx: Context, root: Path, name: str, ref: str, version: str | None, position: str, wires: list[str] | None = None
) -> list[str]:
    """Add a component (and re-lock); returns the names added."""
    is_path = looks_like_path(ref)
    if is_path and version:
        raise UsageError("--version applies to registry components, not to a local path")
    if is_path:  # checked where `mcpkg lock` will look for it, before mcpkg.toml is touched
        readable_file(root / Path(ref).expanduser(), "component", "build it first, or fix the path")
    additions = [Addition(name, ref, version, position, is_path, parse_wires(wires or []))]
    manifest = root / MANIFEST_NAME
    with project_lock(root):
        _write_and_relock(ctx, root, manifest, add_components(manifest, additions))
    return [a.name for a in additions]


def remove(ctx: Context, root: Path, name: str) -> None:
    manifest = root / MANIFEST_NAME
    with project_lock(root):
        _write_and_relock(ctx, root, manifest, remove_component(manifest, name))


def _write_and_relock(ctx: Context, root: Path, manifest: Path, text: str) -> None:
    original = manifest.read_bytes()
    write_user_file(manifest, text.encode())
    try:
        lock_project(ctx, root)
    except McpkgError as exc:
        write_user_file(manifest, original)
        exc.message += " (mcpkg.toml was left as it was)"
        raise
