"""Running mcpkg as a user who is not root (uid/gid 65534, `nobody`), for the checks of
what an unprivileged user sees: permission errors on unwritable and unreadable paths.

The test environment's interpreter and virtualenv sit where `nobody` cannot read (under
/root, or a private temp dir), so this builds a tree anyone can read: the mcpkg package
and every installed distribution of its runtime dependency closure, hard-linked (copied
across filesystems), run by the system's Python of the same minor version through
`setpriv`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[1]


def system_python() -> str:
    """A Python of this minor version that `nobody` can run."""
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{name}", f"/usr/local/bin/{name}"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(f"no system {name} for the non-root checks")


def _requirement_names(dist: metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        if "extra ==" in requirement:
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
        if match:
            names.append(match.group(0))
    return names


def runtime_closure(root: str = "mcpkg") -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a marker-excluded dependency
        seen[name] = dist
        todo.extend(_requirement_names(dist))
    return [d for n, d in seen.items() if n != root]


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def build_tree(dest: Path) -> Path:
    """`dest/site`: mcpkg and its runtime closure, readable by anyone."""
    site = dest / "site"
    for dist in runtime_closure():
        base = Path(str(dist.locate_file("")))
        for entry in dist.files or []:
            source = (base / entry).resolve()
            if source.is_file() and not str(entry).startswith(".."):
                _place(source, site / entry)
    shutil.copytree(ROOT / "mcpkg", site / "mcpkg", ignore=shutil.ignore_patterns("__pycache__"))
    for directory, subdirs, _ in os.walk(dest):
        for name in subdirs:
            os.chmod(os.path.join(directory, name), 0o755)
    os.chmod(dest, 0o755)
    return site


def run_as_nobody(
    site: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 120,
    cwd: Path | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`mcpkg ARGS` as uid/gid 65534 with only `env` (plus PATH and PYTHONPATH)."""
    command = [
        "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
        system_python(), "-m", "mcpkg", *args,
    ]  # fmt: skip
    full_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "NO_COLOR": "1", **env}
    return subprocess.run(
        command, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=cwd or site.parent, input=input
    )
