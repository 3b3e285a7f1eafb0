"""Build components that are exactly a WIT world (`wasm-tools component embed --dummy` +
`component new`): real, valid components with no behaviour, for type tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def wasm_tools() -> str:
    return shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")


def build_world(wit: Path, world: str, out: Path) -> Path:
    core = out.with_suffix(".core.wasm")
    subprocess.run([wasm_tools(), "component", "embed", "--dummy", str(wit), "-w", world, "-o", str(core)],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([wasm_tools(), "component", "new", str(core), "-o", str(out)], check=True, capture_output=True)
    core.unlink()
    return out


def copy_wit(source: Path, dest: Path, replacements: dict[str, str]) -> Path:
    """A copy of a WIT directory with text replaced in every file (e.g. versions)."""
    shutil.copytree(source, dest)
    for path in dest.rglob("*.wit"):
        text = path.read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)
        path.write_text(text)
    return dest
