"""Compose a server from named component instances with explicit wiring (`wasm-tools
compose`; test scaffolding for the current wasmcp generation).

`testing/compose_tool.py` wires a chain by position and every other import to *the one*
service exporting it. The current wasmcp generation needs more: a capability component
(exports `tools`) is put in the chain by a `tools-middleware` instance whose `tools` import
is wired to it, so two capabilities need two instances of the same component, each with
its own wiring. `wasm-tools compose` can say that: an instantiation names its dependency,
and two instantiations may name the same one (`dependencies: {tools-middleware: path}`,
`instantiations: {strings-tools: {dependency: tools-middleware, arguments: ...},
counter-tools-mw: {dependency: tools-middleware, arguments: ...}}`); each gets its own
arguments. Imports with no explicit wire go to the one instance that exports them; WASI
and type-only interfaces nobody exports stay imports, for the host.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from testing.compose_tool import Interfaces, find_wasm_tools, interfaces


@dataclass(frozen=True)
class Instance:
    """One instantiation of a component: its file and its explicit wires (import -> the
    instance providing it)."""

    component: Path
    wires: Mapping[str, str] = field(default_factory=dict)


def wired_config(root: Instance, instances: Mapping[str, Instance], wasm_tools: str | None = None) -> dict[str, object]:
    """The `wasm-tools compose` configuration for `root` (the transport) and `instances`.

    Raises ValueError when an explicit wire names no instance or an instance that does not
    export the import, or when an unwired import has several providers."""
    tool = wasm_tools or find_wasm_tools()
    found: dict[str, Interfaces] = {}
    dependencies: dict[str, str] = {}
    for name, instance in {"root": root, **instances}.items():
        found[name] = interfaces(instance.component, tool)
        if name != "root":
            # one dependency per distinct file: two instances of it share the dependency
            dependency = instance.component.stem
            if dependencies.setdefault(dependency, str(instance.component)) != str(instance.component):
                raise ValueError(f"two components named {dependency}")
    providers: dict[str, list[str]] = {}
    for name in instances:
        for export in found[name].exports:
            providers.setdefault(export, []).append(name)
    instantiations: dict[str, dict[str, object]] = {}
    for name, instance in {"root": root, **instances}.items():
        arguments: dict[str, dict[str, str]] = {}
        for wanted in sorted(found[name].imports):
            if wanted in instance.wires:
                provider = instance.wires[wanted]
                if provider not in instances or wanted not in found[provider].exports:
                    raise ValueError(f"{name}: wire {wanted} -> {provider}: {provider} does not export it")
            elif wanted.startswith("wasi:") or wanted not in providers:
                continue  # the host's, or a type-only interface nobody exports
            elif len(providers[wanted]) == 1:
                provider = providers[wanted][0]
            else:
                raise ValueError(f"{name}: {wanted} is exported by {', '.join(providers[wanted])}: wire it")
            if provider != name:
                arguments[wanted] = {"instance": provider, "export": wanted}
        entry: dict[str, object] = {"arguments": arguments}
        if name != "root":
            entry["dependency"] = instance.component.stem
        instantiations[name] = entry
    for name, instance in {"root": root, **instances}.items():
        unknown = set(instance.wires) - found[name].imports
        if unknown:
            raise ValueError(f"{name} does not import {', '.join(sorted(unknown))}")
    return {"dependencies": dependencies, "instantiations": instantiations}


def compose_wired(
    root: Instance, instances: Mapping[str, Instance], output: Path, wasm_tools: str | None = None
) -> Path:
    """Compose `root` and `instances` into the server component `output`."""
    tool = wasm_tools or find_wasm_tools()
    config = output.with_suffix(".compose.yml")
    config.write_text(yaml.safe_dump(wired_config(root, instances, tool), sort_keys=False))
    result = subprocess.run(
        [tool, "compose", str(root.component), "-c", str(config), "-o", str(output)], capture_output=True, text=True
    )
    if result.returncode != 0 or not output.is_file():
        raise RuntimeError(f"wasm-tools compose failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return output
