"""Regenerate `mcpkg/data/contracts/<name>.json` from each contract in `contracts/`.

A contract folder holds `contract.toml` (the package, its WIT folder, the chain interface,
the position of each role world, the interfaces services provide, the capability
interfaces and their wrappers, the framework defaults, and for a backend contract the
role's label and entry-point export), the WIT and, optionally, a `roles-wit` folder of
mcpkg's own role worlds for the contract (one package using the contract's WIT and its
deps). For each role world, `wasm-tools component embed --dummy` + `component new`
make a component that is exactly the world; wasmtime reads its type into mcpkg's model
(WASI imports left out: they are the host's and never decide a role). mcpkg classifies
components against these models at run time, without wasm-tools.
`tests/integration/test_types.py` checks that the committed files are up to date.

    .venv/bin/python scripts/gen_contracts.py          # rewrite the files
    .venv/bin/python scripts/gen_contracts.py --check  # exit 1 if one is stale
"""

from __future__ import annotations

import json
import re
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


def qualify(package: str, interface: str) -> str:
    """An interface of the contract's package qualified; one of another package (written
    whole, `wasmcp:keyvalue/store@0.1.0`) as it is."""
    return interface if ":" in interface else qualified(package, interface)


def package_of(name: str) -> str:
    """`wasmcp:keyvalue/store@0.1.0` -> `wasmcp:keyvalue`."""
    return name.split("/", 1)[0].split("@", 1)[0]


def assemble(folder: Path, spec: dict[str, Any], tmp: Path) -> tuple[Path, set[str], str | None]:
    """The WIT folder the role worlds are embedded from, the worlds of `roles-wit` and its
    package. Without `roles-wit` that is the contract's own folder; with it, a folder whose
    package is the roles package and whose deps are the contract package and its deps."""
    wit = (folder / spec["wit"]).resolve()
    if "roles-wit" not in spec:
        return wit, set(), None
    roles = (folder / spec["roles-wit"]).resolve()
    merged = tmp / "wit"
    shutil.copytree(roles, merged, ignore=shutil.ignore_patterns("deps"))
    shutil.copytree(wit, merged / "deps" / "contract", ignore=shutil.ignore_patterns("deps"))
    for dep in sorted((wit / "deps").iterdir()) if (wit / "deps").is_dir() else []:
        shutil.copytree(dep, merged / "deps" / dep.name)
    text = "\n".join(p.read_text() for p in sorted(roles.glob("*.wit")))
    found = re.search(r"^package\s+([^;]+);", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"{folder.name}: {spec['roles-wit']} declares no package")
    return merged, set(re.findall(r"^world\s+([a-z0-9-]+)\s*\{", text, re.MULTILINE)), found.group(1).strip()


def generate(folder: Path) -> dict[str, Any]:
    import wasmtime
    import wasmtime.component

    spec = tomllib.loads((folder / "contract.toml").read_text())
    package: str = spec["package"]
    for world, position in spec["roles"].items():
        if position not in POSITIONS:
            raise SystemExit(f"{folder.name}: role {world} has position {position!r}, not one of {POSITIONS}")
    tool = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    engine = wasmtime.Engine()
    worlds: dict[str, Any] = {}
    targets: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        wit, own_worlds, roles_package = assemble(folder, spec, Path(tmp))
        for world in spec["roles"]:
            if world in own_worlds:
                assert roles_package is not None
                selector, target = world, qualified(roles_package, world)
            else:
                target = qualified(package, world)
                selector = target if roles_package else world
            core, component = Path(tmp) / f"{world}.core.wasm", Path(tmp) / f"{world}.wasm"
            subprocess.run(
                [tool, "component", "embed", "--dummy", str(wit), "-w", selector, "-o", str(core)], check=True
            )
            subprocess.run([tool, "component", "new", str(core), "-o", str(component)], check=True)
            model = extract_model(engine, wasmtime.component.Component.from_file(engine, str(component)))
            data = model.to_json()
            data["imports"] = {name: item for name, item in data["imports"].items() if not is_wasi(name)}
            worlds[world] = data
            targets[world] = target
    capabilities = []
    for interface, entry in spec.get("capabilities", {}).items():
        wrapper = entry.get("wrapper")
        if wrapper is not None and wrapper not in spec["roles"]:
            raise SystemExit(f"{folder.name}: capability {interface}: wrapper {wrapper} is not a role world")
        if (wrapper is None) != ("import" not in entry):
            raise SystemExit(f"{folder.name}: capability {interface}: give both wrapper and import, or neither")
        wired = qualify(package, entry["import"]) if "import" in entry else None
        if wrapper is not None and wired not in worlds[wrapper]["imports"]:
            raise SystemExit(f"{folder.name}: capability {interface}: wrapper {wrapper} does not import {wired}")
        capabilities.append(
            {
                "interface": qualify(package, interface),
                "label": entry.get("label", f"{interface} capability"),
                "wrapper": wrapper,
                "wrapper-package": spec.get("defaults", {}).get(wrapper) if wrapper else None,
                "import": wired,
            }
        )
    services = [[qualify(package, name), label] for name, label in spec.get("services", {}).items()]
    # every package a role world exports or a service or capability interface names: a
    # component that mentions one of them is classified against this contract
    packages = {package_of(package)}
    packages.update(package_of(name) for name, _ in services)
    packages.update(package_of(c["interface"]) for c in capabilities)
    for data in worlds.values():
        packages.update(package_of(name) for name in data["exports"] if not name.startswith("wasi:"))
    return {
        "package": package,
        "chain": qualified(package, spec["chain"]) if "chain" in spec else None,
        "roles": [[world, position] for world, position in spec["roles"].items()],
        "targets": targets,
        "services": services,
        "capabilities": capabilities,
        "packages": sorted(packages),
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
    index = []
    for name, data in wanted.items():
        parsed = json.loads(data)
        index.append({"file": name, "package": parsed["package"], "packages": parsed["packages"]})
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
