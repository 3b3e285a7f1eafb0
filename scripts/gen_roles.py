"""Regenerate `mcpkg/data/roles.json` from the role worlds in `wit/`.

For each world, `wasm-tools component embed --dummy` + `component new` make a component
that is exactly the world; wasmtime reads its type into mcpkg's model. mcpkg classifies
components against these models at run time without needing wasm-tools.
`tests/integration/test_types.py` checks that the committed file is up to date.

    .venv/bin/python scripts/gen_roles.py          # rewrite the file
    .venv/bin/python scripts/gen_roles.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcpkg.wasm.extract import extract_model  # noqa: E402

OUTPUT = ROOT / "mcpkg" / "data" / "roles.json"


def world_names() -> list[str]:
    names: list[str] = []
    for path in sorted((ROOT / "wit").glob("*.wit")):
        names.extend(re.findall(r"^world\s+([a-z0-9-]+)\s*\{", path.read_text(), flags=re.MULTILINE))
    return names


def generate() -> dict[str, Any]:
    import wasmtime
    import wasmtime.component

    tool = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    engine = wasmtime.Engine()
    package = re.search(r"^package\s+(\S+);", (ROOT / "wit" / "types.wit").read_text(), flags=re.MULTILINE)
    assert package is not None
    worlds: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for world in world_names():
            core, component = Path(tmp) / f"{world}.core.wasm", Path(tmp) / f"{world}.wasm"
            subprocess.run([tool, "component", "embed", "--dummy", str(ROOT / "wit"), "-w", world, "-o", str(core)],
                           check=True)  # fmt: skip
            subprocess.run([tool, "component", "new", str(core), "-o", str(component)], check=True)
            model = extract_model(engine, wasmtime.component.Component.from_file(engine, str(component)))
            data = model.to_json()
            # WASI imports are the host's and never decide a role: leave them out
            data["imports"] = {name: item for name, item in data["imports"].items() if not name.startswith("wasi:")}
            worlds[world] = data
    return {"package": package.group(1).rstrip(";"), "worlds": worlds}


def main() -> int:
    data = json.dumps(generate(), sort_keys=True, separators=(",", ":")) + "\n"
    if "--check" in sys.argv:
        if OUTPUT.read_text() != data:
            print(f"{OUTPUT} is stale: run python scripts/gen_roles.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(data)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
