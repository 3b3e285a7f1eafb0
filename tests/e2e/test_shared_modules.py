"""A server of several componentize-py parts (this project's wasmcp v0.3 framework and
wasmcp's hello-world handler) composed by `mcpkg compose`: every core module is in the
output exactly once (the runtime the parts share is defined once and aliased), and the
output means what the unshared composition means."""

from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from pathlib import Path

from testing.compose_tool import find_wasm_tools
from tests.conftest import Mcpkg

PARTS = {
    "transport": "stdio-transport",
    "chain": ["hello-world", "resources-handler"],
    "terminal": "initialize-handler",
    "services": ["request", "error-writer", "initialize-writer", "tools-writer", "resources-writer"],
}


def module_digests(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[str]:
    """The sha256 of every core module section's payload, at every depth."""
    end = len(data) if end is None else end
    found, pos = [], start + 8
    while pos < end:
        sid, size, shift, at = data[pos], 0, 0, pos + 1
        while True:
            byte = data[at]
            size |= (byte & 0x7F) << shift
            shift += 7
            at += 1
            if not byte & 0x80:
                break
        if sid == 1:
            found.append(hashlib.sha256(data[at : at + size]).hexdigest())
        elif sid == 4:
            found += module_digests(data, at, at + size, depth + 1)
        pos = at + size
    return found


def test_componentize_py_parts_share_one_copy_of_each_module(mcpkg: Mcpkg, fixtures: Path, tmp_path: Path) -> None:
    v03 = fixtures / "wasmcp-v0.3"
    names = [PARTS["transport"], *PARTS["chain"], PARTS["terminal"], *PARTS["services"]]
    text = (
        f'[server]\nname = "v03"\ntransport = "{PARTS["transport"]}"\nchain = {PARTS["chain"]!r}\n'
        f'terminal = "{PARTS["terminal"]}"\n'
    ).replace("'", '"')
    text += "".join(f'\n[components.{n}]\npath = "{v03 / f"{n}.wasm"}"\n' for n in names)
    (tmp_path / "mcpkg.toml").write_text(text)
    out = tmp_path / "server.wasm"
    result = mcpkg.ok("compose", "-C", str(tmp_path), "-o", str(out), "--json").json()
    shared = result["shared-modules"]
    # the parts were built by one componentize-py: its runtime modules are in all of them
    assert shared["modules"] >= 5 and shared["components"] == len(names)
    assert shared["bytes-saved"] > 30 * 1024 * 1024

    data = out.read_bytes()
    digests = module_digests(data)
    assert [d for d, n in Counter(digests).items() if n > 1] == []  # every module once
    inputs = Counter(d for n in names for d in module_digests((v03 / f"{n}.wasm").read_bytes()))
    assert set(digests) == set(inputs)  # nothing lost
    assert {f"sha256:{d}" for d, n in inputs.items() if n > 1} == {m["digest"] for m in shared["shared"]}
    assert len(data) == result["size"] < sum((v03 / f"{n}.wasm").stat().st_size for n in names) - 30 * 1024 * 1024

    # the same imports and exports as ever: wasm-tools reads the same world
    wit = subprocess.run([find_wasm_tools(), "component", "wit", str(out)], capture_output=True, text=True, check=True)
    assert "export wasi:cli/run@0.2.3;" in wit.stdout
    # inspect of the composed server says what it shares
    inspected = mcpkg.ok("inspect", str(out), "--json").json()["shared-modules"]
    assert inspected["modules"] == shared["modules"] and inspected["components"] == len(names)
    assert inspected["aliases"] == sum(n - 1 for n in inputs.values() if n > 1) + shared["modules"]
    assert "core modules" in mcpkg.ok("inspect", str(out)).stdout
    part = mcpkg.ok("inspect", str(v03 / "hello-world.wasm"), "--json").json()
    assert part["shared-modules"] is None
    again = mcpkg.ok("compose", "-C", str(tmp_path), "-o", str(tmp_path / "again.wasm"), "--locked")
    assert (tmp_path / "again.wasm").read_bytes() == data and "core modules across" in again.stderr
