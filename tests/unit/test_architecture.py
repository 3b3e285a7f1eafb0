"""The import rules of the layout (docs/design.md), checked on the source: a violation
fails here, not in review.

Layers, bottom up: the shared basics at the top of `mcpkg` (errors, references, versions,
config, cache, files); the domain packages (`oci` the only HTTP, `wasm` and `host` the
only wasmtime, `signing`, `project`, `compose`; `host`, running and hosting, sits above
`wasm`); `ops`, the use cases; `cli`, the only typer. A package imports only from its own
layer or below, as the table says; imports sit at the top of a module, except in `cli`,
which imports an operation when its command runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "mcpkg"

# what each part of mcpkg may import from mcpkg ("basics" = the top-level modules)
ALLOWED: dict[str, set[str]] = {
    "basics": {"basics"},
    "oci": {"basics", "oci"},
    "wasm": {"basics", "wasm"},
    "host": {"basics", "wasm", "host"},
    "signing": {"basics", "signing", "oci"},
    "project": {"basics", "project"},
    "compose": {"basics", "compose", "wasm"},
    "ops": {"basics", "oci", "wasm", "host", "signing", "project", "compose", "ops"},
    "cli": {"basics", "cli", "ops", "project"},
    "main": {"cli"},
}
# heavy engines: imported inside the function that needs them (never at start-up), and
# only in the package that wraps them; every other import sits at the top of its module
LAZY_ENGINES = ("wasmtime", "nacl", "platformdirs", "cryptography", "ssl", "certifi", "sigstore")
# third-party libraries confined to their parts
CONFINED = {
    "certifi": {"oci"},
    "sigstore": {"signing"},  # keyless verification and signing; it makes its own HTTP calls (docs/design.md)
    "sigstore_models": {"signing"},
    "wasmtime": {"wasm", "host"},  # reading types (wasm), compiling and running (host)
    "typer": {"cli"},
    "click": {"cli"},
}


def part_of(module: str) -> str:
    pieces = module.split(".")
    if module == "mcpkg.__main__":
        return "main"
    if len(pieces) >= 2 and pieces[1] in ALLOWED and pieces[1] not in ("basics", "main"):
        return pieces[1]  # mcpkg.cli, mcpkg.cli.app, mcpkg.oci.client ...
    return "basics"


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            # `from mcpkg.cli import cmd_x` names a module; `from mcpkg.x import name` names an object
            for name in names:
                found.append((name if _is_module(name) else node.module, node.lineno, id(node) in top))
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("mcpkg."):
        return False
    relative = Path(*name.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative / "__init__.py").is_file()


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_layers(module: str) -> None:
    part = part_of(module)
    problems = []
    for name, line, at_top in imports_of(MODULES[module]):
        root = name.split(".")[0]
        if root in CONFINED and part not in CONFINED[root]:
            places = " or ".join(f"mcpkg/{p}/" for p in sorted(CONFINED[root]))
            problems.append(f"line {line}: {name} belongs in {places} only")
        if root == "mcpkg":
            target = part_of(name)
            if target not in ALLOWED[part]:
                problems.append(f"line {line}: {part} may not import {name} ({target})")
            if part == "cli" and target == "ops" and at_top:
                problems.append(f"line {line}: the CLI imports {name} at the top (only when a command runs)")
        if not at_top and part != "cli" and not name.startswith(LAZY_ENGINES):
            problems.append(f"line {line}: import of {name} inside a function (imports go at the top)")
    assert not problems, f"{module}:\n  " + "\n  ".join(problems)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for name, _, at_top in imports_of(path):
            if not at_top or not name.startswith("mcpkg"):
                continue
            target = name
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                graph[module].add(target)
    # a package's __init__ importing its own modules is how packages work, not a cycle
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: a domain module importing an operation, and a lazy import."""
    bad = tmp_path / "bad.py"
    bad.write_text("import requests\nfrom mcpkg.ops.pull import pull\n\ndef f():\n    import json\n")
    found = imports_of(bad)
    assert ("requests", 1, True) in found and ("mcpkg.ops.pull", 2, True) in found and ("json", 5, False) in found
    assert part_of("mcpkg.ops.pull") == "ops" and "ops" not in ALLOWED["wasm"]
    # running and hosting sit above the type models: `wasm` never imports `host`
    assert part_of("mcpkg.host.runner") == "host" and "host" not in ALLOWED["wasm"] and "host" in ALLOWED["ops"]
