"""Regenerate `mcpkg/data/contracts/<name>.json` from each contract in `contracts/`.

A contract folder holds `contract.toml` (the package, its WIT folder, the chain interface,
the position of each role world, the interfaces services provide, the framework defaults,
and for a backend contract the role's label and entry-point export)
and the WIT. For each role world, `wasm-tools component embed --dummy` + `component new`
make a component that is exactly the world; wasmtime reads its type into mcpkg's model
(WASI imports left out: they are the host's and never decide a role). mcpkg classifies
components against these models at run time, without wasm-tools.
`tests/integration/test_types.py` checks that the committed files are up to date.

    .venv/bin/python scripts/gen_contracts.py          # rewrite the files
    .venv/bin/python scripts/gen_contracts.py --check  # exit 1 if one is stale
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcpkg.wasm.extract import extract_model  # noqa: E402
from mcpkg.wasm.model import is_wasi  # noqa: E402

CONTRACTS = ROOT / "contracts"
OUTPUT = ROOT / "mcpkg" / "data" / "contracts"
POSITIONS = ("transport", "chain", "terminal", "service", "backend")


def qualified(package: str, interface: str) -> str:
    """`wasmcp:mcp@0.3.0` + `request` -> `wasmcp:mcp/request@0.3.0`."""
    name, _, version = package.partition("@")
    return f"{name}/{interface}@{version}" if version else f"{name}/{interface}"


def generate(folder: Path) -> dict[str, Any]:
    import wasmtime
    import wasmtime.component

    spec = tomllib.loads((folder / "contract.toml").read_text())
    package: str = spec["package"]
    wit = (folder / spec["wit"]).resolve()
    for world, position in spec["roles"].items():
        if position not in POSITIONS:
            raise SystemExit(f"{folder.name}: role {world} has position {position!r}, not one of {POSITIONS}")
    tool = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    engine = wasmtime.Engine()
    worlds: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for world in spec["roles"]:
            core, component = Path(tmp) / f"{world}.core.wasm", Path(tmp) / f"{world}.wasm"
            subprocess.run([tool, "component", "embed", "--dummy", str(wit), "-w", world, "-o", str(core)], check=True)
            subprocess.run([tool, "component", "new", str(core), "-o", str(component)], check=True)
            model = extract_model(engine, wasmtime.component.Component.from_file(engine, str(component)))
            data = model.to_json()
            data["imports"] = {name: item for name, item in data["imports"].items() if not is_wasi(name)}
            worlds[world] = data
    return {
        "package": package,
        "chain": qualified(package, spec["chain"]) if "chain" in spec else None,
        "roles": [[world, position] for world, position in spec["roles"].items()],
        "services": [[qualified(package, name), label] for name, label in spec.get("services", {}).items()],
        "defaults": dict(spec.get("defaults", {})),
        "labels": dict(spec.get("labels", {})),
        "entry": dict(spec.get("entry", {})),
        "worlds": worlds,
    }


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    wanted = {}
    for folder in sorted(p for p in CONTRACTS.iterdir() if (p / "contract.toml").is_file()):
        wanted[f"{folder.name}.json"] = json.dumps(generate(folder), sort_keys=True, separators=(",", ":")) + "\n"
    index = [{"file": name, "package": json.loads(data)["package"]} for name, data in wanted.items()]
    wanted["index.json"] = json.dumps(index, sort_keys=True, separators=(",", ":")) + "\n"
    present = {p.name for p in OUTPUT.glob("*.json")} if OUTPUT.is_dir() else set()
    for name, data in wanted.items():
        path = OUTPUT / name
        if check:
            if not path.is_file() or path.read_text() != data:
                stale.append(name)
            continue
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
        print(f"wrote {path}")
    for name in sorted(present - set(wanted)):
        if check:
            stale.append(name)
        else:
            (OUTPUT / name).unlink()
    if stale:
        print(f"stale contract data: {', '.join(stale)}: run python scripts/gen_contracts.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
