"""mcpkg's benchmarks, each against the peers a user would otherwise run, in one process
so the ratios come from one run on one machine.

    ./scripts/bench [pull|inspect|lock|compose|run|verify|share|host|fetch]... [--runs N] [--size-mb 96]

`pull`: a cold-cache pull of a large component from a loopback docker-registry, to a
file: `mcpkg pull -o` vs `curl` of the same blob (the floor: no manifest, no
verification) vs minimal Python loops that stream, hash and write that blob (the floor
for any Python tool: one on urllib.request, one on http.client alone; and the bare
interpreter start, `python -c pass`) vs `skopeo copy` vs a plain oras-py pull (which
verifies nothing). One
warm-up, then N alternating rounds; medians and ratios to curl. Then mcpkg's peak RSS
pulling 24 MB and 96 MB components (flat in size = streaming works).

The component is a real one (`registry-fixtures/src/answer.wat`, built) padded with a
custom section to the wanted size: custom sections are valid anywhere in a component,
so wasmtime accepts it, and its size is exact and reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.fixtures import SERVER_PARTS, server_section  # noqa: E402
from testing.registry import Registry, running_registry  # noqa: E402
from testing.wasmbits import padded_component  # noqa: E402
from testing.wasmcp_current import STDIO_FRAMEWORK  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
MCPKG = str(VENV_BIN / "mcpkg")
PYTHON = str(VENV_BIN / "python")
WASMTIME = str(VENV_BIN / "wasmtime")


def run_timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one command."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{result.stderr.decode(errors='replace')}")
    return elapsed


def peak_rss_mib(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one command, measured by GNU time: the child's own high-water mark
    (`ru_maxrss` read by this process would include what it held itself at fork)."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    if not Path(time_bin).exists():
        raise SystemExit("GNU time is needed for memory figures: apt-get install time")
    result = subprocess.run(
        [time_bin, "-f", "%M", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
    )
    return int(result.stderr.decode().strip().splitlines()[-1]) / 1024


PYTHON_LOOP = """
import hashlib, sys, urllib.request
hasher = hashlib.sha256()
with urllib.request.urlopen(sys.argv[1]) as response, open(sys.argv[2], "wb") as out:
    while chunk := response.read(1 << 20):
        hasher.update(chunk)
        out.write(chunk)
assert "sha256:" + hasher.hexdigest() == sys.argv[3]
"""

# the leanest Python floor: http.client alone (no urllib.request), one reused buffer
HTTP_CLIENT_LOOP = """
import hashlib, http.client, sys
host, path, out, digest = sys.argv[1:5]
connection = http.client.HTTPConnection(host)
connection.request("GET", path)
response = connection.getresponse()
hasher, buffer = hashlib.sha256(), bytearray(1 << 20)
view = memoryview(buffer)
with open(out, "wb") as f:
    while n := response.readinto(buffer):
        hasher.update(view[:n])
        f.write(view[:n])
assert "sha256:" + hasher.hexdigest() == digest
"""

ORAS_PULL = """
import sys, oras.client
client = oras.client.OrasClient(hostname=sys.argv[1], insecure=True)
client.pull(target=sys.argv[2], outdir=sys.argv[3])
"""


def bench_pull(registry: Registry, runs: int, size_mb: int, work: Path) -> None:
    base = (ROOT / "registry-fixtures" / "build" / "answer.wasm").read_bytes()
    env = dict(os.environ, MCPKG_CONFIG=os.devnull, NO_COLOR="1")
    env.pop("HTTP_PROXY", None)
    components: dict[int, tuple[str, str]] = {}
    for mb in sorted({24, size_mb}):
        path = work / f"bench-{mb}.wasm"
        path.write_bytes(padded_component(base, mb * 1024 * 1024))
        ref = f"{registry.host}/bench/c{mb}:1.0.0"
        subprocess.run(
            [MCPKG, "-q", "push", str(path), ref],
            env={**env, "MCPKG_CACHE_DIR": str(work / "push-cache")},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        import hashlib

        components[mb] = (ref, "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())
        path.unlink()

    ref, layer = components[size_mb]
    repo = ref.split("/", 1)[1].rsplit(":", 1)[0]
    counter = [0]

    def fresh(name: str) -> Path:
        counter[0] += 1
        target = work / f"{name}-{counter[0]}"
        return target

    def mcpkg_pull() -> list[str]:
        out = fresh("mcpkg")
        env["MCPKG_CACHE_DIR"] = str(out) + "-cache"
        return [MCPKG, "-q", "pull", ref, "-o", str(out)]

    def mcpkg_pull_cache_only() -> list[str]:
        env["MCPKG_CACHE_DIR"] = str(fresh("mcpkg")) + "-cache"
        return [MCPKG, "-q", "pull", ref]

    def mcpkg_pull_stdout() -> list[str]:
        out = fresh("mcpkg")
        env["MCPKG_CACHE_DIR"] = str(out) + "-cache"
        return ["sh", "-c", 'exec "$0" -q pull "$1" -o - > "$2"', MCPKG, ref, str(out)]

    warm_cache = work / "warmcache"
    run_timed([MCPKG, "-q", "pull", ref], {**env, "MCPKG_CACHE_DIR": str(warm_cache)})

    def mcpkg_warm_cache_only() -> list[str]:
        env["MCPKG_CACHE_DIR"] = str(warm_cache)
        return [MCPKG, "-q", "pull", ref]

    def mcpkg_warm_to_file() -> list[str]:
        env["MCPKG_CACHE_DIR"] = str(warm_cache)
        return [MCPKG, "-q", "pull", ref, "-o", str(fresh("mcpkg"))]

    def curl() -> list[str]:
        return ["curl", "-sSf", "-o", str(fresh("curl")), f"http://{registry.host}/v2/{repo}/blobs/{layer}"]

    def python_loop() -> list[str]:
        url = f"http://{registry.host}/v2/{repo}/blobs/{layer}"
        return [PYTHON, "-c", PYTHON_LOOP, url, str(fresh("pyloop")), layer]

    def http_client_loop() -> list[str]:
        path = f"/v2/{repo}/blobs/{layer}"
        return [PYTHON, "-c", HTTP_CLIENT_LOOP, registry.host, path, str(fresh("pyloop")), layer]

    def python_start() -> list[str]:
        return [PYTHON, "-c", "pass"]

    def skopeo() -> list[str]:
        return ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"dir:{fresh('skopeo')}"]

    def oras() -> list[str]:
        return [PYTHON, "-c", ORAS_PULL, registry.host, ref, str(fresh("oras"))]

    tools: dict[str, Callable[[], list[str]]] = {
        "curl (blob only)": curl,
        "python loop (blob)": python_loop,
        "http.client loop": http_client_loop,
        "python -c pass": python_start,
        "mcpkg pull": mcpkg_pull,
        "skopeo copy": skopeo,
        "mcpkg, no -o": mcpkg_pull_cache_only,
        "mcpkg -o - > file": mcpkg_pull_stdout,
        "warm, no -o": mcpkg_warm_cache_only,
        "warm -o file": mcpkg_warm_to_file,
        "oras-py pull": oras,
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    for round_index in range(runs + 1):
        for name, make in tools.items():
            elapsed = run_timed(make(), env)
            if round_index > 0:  # round 0 is the warm-up
                times[name].append(elapsed)
        for leftover in work.iterdir():
            if leftover.name.startswith(("mcpkg-", "curl-", "pyloop-", "skopeo-", "oras-")):  # not warmcache
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()

    floor = statistics.median(times["curl (blob only)"])
    print(f"\npull of a {size_mb} MiB component from a loopback docker-registry, cold cache, to a file")
    print(f"{runs} rounds after one warm-up, tools alternating\n")
    print(f"{'tool':<20} {'median s':>9} {'min s':>7} {'max s':>7} {'x curl':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<20} {median:9.3f} {min(values):7.3f} {max(values):7.3f} {median / floor:7.2f}")

    mcpkg_cold = statistics.median(times["mcpkg pull"])
    lean = statistics.median(times["http.client loop"])
    print(
        f"\n2x curl is {2 * floor:.3f} s; the leanest Python loop alone (no manifest, no cache, no user copy) "
        f"is {lean / floor:.2f}x curl; mcpkg pull is {mcpkg_cold - lean:+.3f} s from it"
    )

    def cost(with_output: str, without: str) -> str:
        a, b = statistics.median(times[with_output]), statistics.median(times[without])
        return f"{a - b:+.3f} s ({(a - b) / a * 100:+.0f}% of the pull with -o)"

    print("\nwhat the user's copy costs (medians; mcpkg pull = cold cache, -o FILE: a file of the user's own)")
    print(f"  cold, -o FILE (kernel copy or reflink):       {cost('mcpkg pull', 'mcpkg, no -o')}")
    print(f"  cold, -o - > file (verified, then streamed):  {cost('mcpkg -o - > file', 'mcpkg, no -o')}")
    print(f"  warm, -o FILE (the same, inode check):        {cost('warm -o file', 'warm, no -o')}")

    print("\nmcpkg pull peak memory (max RSS), cold cache")
    for mb, (component_ref, _) in sorted(components.items()):
        out = fresh("mcpkg")
        env["MCPKG_CACHE_DIR"] = str(out) + "-cache"
        rss = peak_rss_mib([MCPKG, "-q", "pull", component_ref, "-o", str(out)], env)
        print(f"  {mb:>3} MiB component: {rss:6.1f} MiB")


def bench_inspect(runs: int, work: Path) -> None:
    """`mcpkg inspect FILE` of a componentize-py component: cold (empty cache: wasmtime
    compiles it) vs warm (the cached type model; wasmtime is not even imported), against
    the interpreter's own start-up and `mcpkg --version`."""
    candidates = sorted((ROOT / "registry-fixtures" / "build" / "mcp").glob("*.wasm"))
    component = candidates[0] if candidates else ROOT / "registry-fixtures" / "build" / "large.wasm"
    size_mb = component.stat().st_size / 1024 / 1024
    env = dict(os.environ, MCPKG_CONFIG=os.devnull, NO_COLOR="1")
    warm_cache = work / "inspect-warm-cache"
    env_warm = {**env, "MCPKG_CACHE_DIR": str(warm_cache)}
    run_timed([MCPKG, "-q", "inspect", str(component)], env_warm)  # fills the warm cache
    times: dict[str, list[float]] = {
        "python -c pass": [],
        "mcpkg --version": [],
        "inspect warm": [],
        "inspect cold": [],
    }
    for index in range(runs):
        times["python -c pass"].append(run_timed([PYTHON, "-c", "pass"], env))
        times["mcpkg --version"].append(run_timed([MCPKG, "--version"], env))
        times["inspect warm"].append(run_timed([MCPKG, "-q", "inspect", str(component)], env_warm))
        cold = {**env, "MCPKG_CACHE_DIR": str(work / f"inspect-cold-{index}")}
        times["inspect cold"].append(run_timed([MCPKG, "-q", "inspect", str(component)], cold))
    print(f"\nmcpkg inspect of {component.name} ({size_mb:.1f} MiB), {runs} runs each")
    print(f"{'command':<20} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in times.items():
        print(f"{name:<20} {statistics.median(values):9.3f} {min(values):7.3f} {max(values):7.3f}")
    beyond = statistics.median(times["inspect warm"]) - statistics.median(times["python -c pass"])
    print(f"warm inspect beyond interpreter start-up: {beyond:.3f} s")


def bench_lock(registry: Registry, runs: int, work: Path) -> None:
    """`mcpkg lock` of a 12-component server (transport, 9 middleware, terminal, writers),
    cold cache (no lock, empty cache) vs warm (lock and cache present), and
    `mcpkg lock --check`, through our counting proxy so the HTTP requests are known."""
    from testing.proxy import paging_proxy
    from testing.witbuild import build_world

    roles = work / "lock-roles"
    roles.mkdir()
    worlds = {"stdio-transport": "stdio", "middleware": None, "initialize-handler": "init", "writers": "writers"}
    for world in worlds:
        build_world(ROOT / "wit", world, roles / f"{world}.wasm")
    env = dict(os.environ, MCPKG_CONFIG=os.devnull, NO_COLOR="1")
    push_env = {**env, "MCPKG_CACHE_DIR": str(work / "lock-push-cache")}
    with paging_proxy(registry.host) as proxy:
        base = f"{proxy.host}/lockbench"
        names = {"stdio": "stdio-transport", "init": "initialize-handler", "writers": "writers"}
        names.update({f"mw{i}": "middleware" for i in range(1, 10)})
        for name, world in names.items():
            for version in ("0.1.0", "0.1.1", "0.2.0"):
                run_timed([MCPKG, "-q", "push", str(roles / f"{world}.wasm"), f"{base}/{name}:{version}"], push_env)
        project = work / "lock-project"
        project.mkdir()
        chain = ", ".join(f'"mw{i}"' for i in range(1, 10))
        text = f'[server]\nname = "bench"\ntransport = "stdio"\nchain = [{chain}]\nterminal = "init"\n'
        for name in names:
            text += f'\n[components.{name}]\nref = "{base}/{name}"\nversion = "^0.1"\n'
        (project / "mcpkg.toml").write_text(text)
        times: dict[str, list[float]] = {"lock (cold cache)": [], "lock (warm)": [], "lock --check (warm)": []}
        requests: dict[str, int] = {}
        warm_env = {**env, "MCPKG_CACHE_DIR": str(work / "lock-warm-cache")}
        for index in range(runs):
            (project / "mcpkg.lock").unlink(missing_ok=True)
            cold_env = {**env, "MCPKG_CACHE_DIR": str(work / f"lock-cold-{index}")}
            proxy.clear()
            times["lock (cold cache)"].append(run_timed([MCPKG, "-q", "lock", "-C", str(project)], cold_env))
            requests["lock (cold cache)"] = len(proxy.log)
            run_timed([MCPKG, "-q", "lock", "-C", str(project)], warm_env)
            proxy.clear()
            times["lock (warm)"].append(run_timed([MCPKG, "-q", "lock", "-C", str(project)], warm_env))
            requests["lock (warm)"] = len(proxy.log)
            proxy.clear()
            times["lock --check (warm)"].append(
                run_timed([MCPKG, "-q", "lock", "--check", "-C", str(project)], warm_env)
            )
            requests["lock --check (warm)"] = len(proxy.log)
    print(f"\nmcpkg lock of a {len(names)}-component server from a loopback registry, {runs} runs each")
    print(f"{'command':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'HTTP requests':>14}")
    for name, values in times.items():
        print(f"{name:<22} {statistics.median(values):9.3f} {min(values):7.3f} {max(values):7.3f} {requests[name]:>14}")


def _compose_once(
    files: dict[str, Path],
    parts: dict[str, Any],
    transport: str,
    chain: list[str],
    terminal: str,
    service: str,
    output: Path,
) -> None:
    """mcpkg's composition in-process: read the parts, check the chain, encode, write."""
    from mcpkg.compose.encoder import compose
    from mcpkg.wasm.compat import check_chain

    for label, path in files.items():
        parts[label].data = path.read_bytes()
    report = check_chain(
        (transport, parts[transport].model),
        [(c, parts[c].model) for c in chain],
        (terminal, parts[terminal].model),
        [(service, parts[service].model)],
    )
    chunks = compose(transport, chain, terminal, [service], parts, report.wiring.links).chunks
    with output.open("wb") as out:
        out.writelines(chunks)


def bench_compose(runs: int, work: Path) -> None:
    """Compose chains of 5, 10 and 30 components (transport, N-3 middleware, terminal,
    writers), small (a few KiB each: components that are exactly their role world) and
    large (each padded to 24 MiB with a custom section): mcpkg's composer in-process
    (types from the cache; wasmtime's validation compile excluded and timed apart) vs the
    whole `wasm-tools compose` process on an equivalent config vs a plain copy of the
    input bytes (the floor)."""
    import shutil as _shutil

    import yaml

    from mcpkg.cache import Cache, hash_file
    from mcpkg.compose.encoder import Part
    from mcpkg.wasm.introspect import component_model
    from testing.compose_tool import ServerParts, compose_config, find_wasm_tools
    from testing.witbuild import build_world

    tool = find_wasm_tools()
    base = work / "compose-worlds"
    base.mkdir()
    for world in ("stdio-transport", "middleware", "initialize-handler", "writers"):
        build_world(ROOT / "wit", world, base / f"{world}.wasm")
    cache = Cache(work / "compose-cache")
    rows = []
    for size_name, pad in (("small", 0), ("24 MiB each", 24 * 1024 * 1024)):
        for count in (5, 10, 30):
            directory = work / f"compose-{count}-{pad}"
            directory.mkdir()
            files: dict[str, Path] = {}
            layout = ["stdio-transport", *(["middleware"] * (count - 3)), "initialize-handler", "writers"]
            for index, world in enumerate(layout):
                label = f"c{index:02d}-{world}"
                data = (base / f"{world}.wasm").read_bytes()
                if pad:
                    data = padded_component(data, pad)
                (directory / f"{label}.wasm").write_bytes(data)
                files[label] = directory / f"{label}.wasm"
            labels = list(files)
            transport, chain, terminal, service = labels[0], labels[1:-2], labels[-2], labels[-1]
            parts = {}
            for label, path in files.items():
                digest, _ = hash_file(path)
                parts[label] = Part(label, b"", component_model(path, digest, cache, label))
            config = directory / "compose.yml"
            server_parts = ServerParts(files[transport], [files[c] for c in chain], files[terminal], [files[service]])
            config.write_text(yaml.safe_dump(compose_config(server_parts, tool), sort_keys=False))

            times: dict[str, list[float]] = {"mcpkg": [], "wasm-tools compose": [], "copy": []}
            for _ in range(runs):
                started = time.perf_counter()
                _compose_once(files, parts, transport, chain, terminal, service, directory / "ours.wasm")
                times["mcpkg"].append(time.perf_counter() - started)
                times["wasm-tools compose"].append(
                    run_timed(
                        [
                            tool,
                            "compose",
                            str(files[transport]),
                            "-c",
                            str(config),
                            "-o",
                            str(directory / "theirs.wasm"),
                        ],
                        dict(os.environ),
                    )
                )
                started = time.perf_counter()
                with (directory / "copy.bin").open("wb") as copy_out:
                    for path in files.values():
                        copy_out.write(path.read_bytes())
                times["copy"].append(time.perf_counter() - started)
            total = sum(p.stat().st_size for p in files.values())
            rows.append((size_name, count, total, {k: statistics.median(v) for k, v in times.items()}))
            _shutil.rmtree(directory)
    print(f"\ncompose, medians of {runs} runs (mcpkg in-process, wasmtime validation excluded)")
    print(f"{'inputs':<12} {'n':>3} {'total MiB':>9} {'mcpkg s':>8} {'wasm-tools s':>12} {'copy s':>7} {'x copy':>7}")
    for size_name, count, total, medians in rows:
        print(
            f"{size_name:<12} {count:>3} {total / 1024 / 1024:9.1f} {medians['mcpkg']:8.3f} "
            f"{medians['wasm-tools compose']:12.3f} {medians['copy']:7.3f} {medians['mcpkg'] / medians['copy']:7.2f}"
        )


INITIALIZE = (
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
    '"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n'
)
INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'


def _call(n: int) -> str:
    return (
        f'{{"jsonrpc":"2.0","id":{n},"method":"tools/call",'
        f'"params":{{"name":"echo","arguments":{{"text":"request {n}"}}}}}}\n'
    )


def _session(argv: list[str], env: dict[str, str], calls: int) -> tuple[float, list[float]]:
    """Spawn a stdio server: (seconds to its initialize answer, the round-trip seconds of
    `calls` sequential `tools/call` requests after it)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(INITIALIZE.encode())
    process.stdin.flush()
    line = process.stdout.readline()
    first = time.perf_counter() - started
    if b'"result"' not in line:
        raise SystemExit(f"no initialize answer from {' '.join(argv)}: {line!r}")
    process.stdin.write(INITIALIZED.encode())
    rounds = []
    for n in range(2, 2 + calls):
        sent = time.perf_counter()
        process.stdin.write(_call(n).encode())
        process.stdin.flush()
        answer = process.stdout.readline()
        rounds.append(time.perf_counter() - sent)
        if b'"result"' not in answer:
            raise SystemExit(f"no tools/call answer from {' '.join(argv)}: {answer!r}")
    process.stdin.close()
    process.wait(timeout=60)
    return first, rounds


def bench_run(runs: int, work: Path) -> None:
    """The fixture server's first run (a full compile, to the `initialize` answer) with
    mcpkg and with the wasmtime CLI (its cache off), each with Cranelift and with Winch;
    then warm runs (the cached artifact loaded) and the request latency of each compiler's
    code (median round trip of sequential `tools/call` requests)."""
    mcp = ROOT / "registry-fixtures" / "build" / "mcp"
    project = work / "run-project"
    project.mkdir()
    components = "".join(f'\n[components.{n}]\npath = "{mcp / (n + ".wasm")}"\n' for n in SERVER_PARTS)
    (project / "mcpkg.toml").write_text(server_section("bench") + components)
    env = dict(os.environ, MCPKG_CONFIG=os.devnull, MCPKG_CACHE_DIR=str(work / "run-cache"))
    server = work / "server.wasm"
    run_timed([MCPKG, "-q", "compose", "-C", str(project), "-o", str(server)], env)
    compiled = work / "run-cache" / "compiled"

    def cold(compiler: str) -> float:
        for artifact in compiled.glob("*"):
            artifact.unlink()  # cold: nothing compiled yet
        return _session([MCPKG, "run", "--compiler", compiler, str(server)], env, 0)[0]

    def cli(compiler: str) -> float:
        argv = [WASMTIME, "run", "-C", "cache=n", "-C", f"compiler={compiler}", str(server)]
        return _session(argv, env, 0)[0]

    size = server.stat().st_size / 1024 / 1024
    print(f"\nfirst run of the fixture server ({size:.0f} MiB): start to the initialize answer, one full compile")
    print(f"{'compiler':<10} {'mcpkg run s':>11} {'wasmtime run s':>14} {'x wasmtime':>10}")
    firsts: dict[str, float] = {}
    for compiler in ("cranelift", "winch"):
        mine, theirs = cold(compiler), cli(compiler)
        firsts[compiler] = mine
        print(f"{compiler:<10} {mine:11.2f} {theirs:14.2f} {mine / theirs:10.2f}")
    print(f"winch's first run is {firsts['cranelift'] / firsts['winch']:.1f}x sooner than cranelift's")

    calls = 50
    print(f"\nwarm mcpkg run (cached artifact) and request latency ({calls} sequential tools/call, median)")
    print(f"{'compiler':<10} {'start s':>8} {'request ms':>10}")
    for compiler in ("cranelift", "winch"):
        _session([MCPKG, "run", "--compiler", compiler, str(server)], env, 1)  # compiled and cached
        starts, latencies = [], []
        for _ in range(runs):
            first, rounds = _session([MCPKG, "run", "--compiler", compiler, str(server)], env, calls)
            starts.append(first)
            latencies.extend(rounds)
        print(f"{compiler:<10} {statistics.median(starts):8.2f} {statistics.median(latencies) * 1000:10.2f}")


def _encode_time(parts: Any, labels: dict[Path, str], directory: Path) -> float:
    """mcpkg's composition in-process, sharing (hashing every core module) included:
    read the parts, check the chain, encode, write (types from the cache, as `compose`
    has them; wasmtime's validation excluded, as in `bench compose`)."""
    from mcpkg.cache import Cache, hash_file
    from mcpkg.compose.encoder import Part, compose
    from mcpkg.wasm.compat import check_chain
    from mcpkg.wasm.introspect import component_model

    cache = Cache(directory / "cache")
    models = {labels[path]: component_model(path, hash_file(path)[0], cache, labels[path]) for path in labels}
    transport, terminal = labels[parts.transport], labels[parts.terminal]
    chain = [labels[p] for p in parts.chain]
    services = [labels[p] for p in parts.services]
    started = time.perf_counter()
    built = {label: Part(label, path.read_bytes(), models[label]) for path, label in labels.items()}
    report = check_chain(
        (transport, models[transport]),
        [(c, models[c]) for c in chain],
        (terminal, models[terminal]),
        [(n, models[n]) for n in services],
    )
    composition = compose(transport, chain, terminal, services, built, report.wiring.links)
    with (directory / "encoded.wasm").open("wb") as out:
        out.writelines(composition.chunks)
    return time.perf_counter() - started


COMPILE = "import sys, wasmtime, wasmtime.component as wc; wc.Component.from_file(wasmtime.Engine(), sys.argv[1])"


def _compile_cost(path: Path) -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of compiling `path` with wasmtime-py (Cranelift, the
    default) in a fresh process, as GNU time reports them."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", PYTHON, "-c", COMPILE, str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True,
    )  # fmt: skip
    user, system, rss = result.stderr.decode().strip().splitlines()[-1].split()
    return float(user) + float(system), int(rss) / 1024


def bench_share(work: Path) -> None:
    """What sharing core modules gives (docs/compose.md, "Shared core modules"), one run,
    on two servers of componentize-py parts (the v0.3 hello-world server, 9 parts, and
    the fixture server, 6 parts): mcpkg's output against `wasm-tools compose`'s output of
    the same parts: bytes, wasmtime compile CPU and peak RSS (wasmtime-py, fresh
    process), and the first answer: `mcpkg run` (a full compile) against
    `wasmtime run -C cache=n` of wasm-tools compose's output."""
    from testing.compose_tool import compose as wasm_tools_compose
    from testing.compose_tool import find_wasm_tools
    from tests.e2e.servers import server_parts, wasmcp_server_parts

    fixtures = ROOT / "registry-fixtures" / "build"
    servers = {
        "v0.3 hello-world (9 parts)": wasmcp_server_parts(fixtures, "stdio-transport"),
        "fixture server (6 parts)": server_parts(fixtures, "stdio-transport"),
    }
    targets = {"compose": 1.0, "bytes": 0.75, "compile CPU": 0.3, "peak RSS": 0.5, "first answer": 0.35}
    rows: list[tuple[str, str, float, float]] = []
    for name, parts in servers.items():
        directory = work / f"share-{len(rows)}"
        directory.mkdir()
        labels = {parts.transport: "transport", parts.terminal: "terminal"}
        labels.update({path: f"link{i}" for i, path in enumerate(parts.chain, 1)})
        labels.update({path: f"service{i}" for i, path in enumerate(parts.services, 1)})
        chain = ", ".join(f'"{labels[p]}"' for p in parts.chain)
        text = f'[server]\nname = "share"\ntransport = "transport"\nchain = [{chain}]\nterminal = "terminal"\n'
        text += "".join(f'\n[components.{label}]\npath = "{path}"\n' for path, label in labels.items())
        (directory / "mcpkg.toml").write_text(text)
        env = dict(os.environ, MCPKG_CONFIG=os.devnull, MCPKG_CACHE_DIR=str(directory / "cache"))
        ours, theirs = directory / "ours.wasm", directory / "theirs.wasm"
        run_timed([MCPKG, "-q", "compose", "-C", str(directory), "-o", str(ours)], env)
        started = time.perf_counter()
        wasm_tools_compose(parts, theirs, find_wasm_tools())
        their_time = time.perf_counter() - started
        rows.append((name, "compose", _encode_time(parts, labels, directory), their_time))
        rows.append((name, "bytes", ours.stat().st_size / 1e6, theirs.stat().st_size / 1e6))
        our_cpu, our_rss = _compile_cost(ours)
        their_cpu, their_rss = _compile_cost(theirs)
        rows.append((name, "compile CPU", our_cpu, their_cpu))
        rows.append((name, "peak RSS", our_rss, their_rss))
        for artifact in (directory / "cache" / "compiled").glob("*"):
            artifact.unlink()  # the first run compiles
        mine = _session([MCPKG, "run", "--compiler", "cranelift", str(ours)], env, 0)[0]
        cli = _session([WASMTIME, "run", "-C", "cache=n", str(theirs)], env, 0)[0]
        rows.append((name, "first answer", mine, cli))
    units = {"compose": "s", "bytes": "MB", "compile CPU": "s", "peak RSS": "MiB", "first answer": "s"}
    print("\nshared core modules: mcpkg compose vs wasm-tools compose of the same parts (one run)")
    print(f"{'server':<28} {'measure':<13} {'mcpkg':>10} {'wasm-tools':>11} {'ratio':>6} {'target':>7}")
    for name, measure, our_value, their_value in rows:
        ratio = our_value / their_value
        mark = "ok" if ratio <= targets[measure] else "MISSED"
        print(
            f"{name:<28} {measure:<13} {our_value:8.1f}{units[measure]:>3} {their_value:8.1f}{units[measure]:>3} "
            f"{ratio:6.2f} {'<=' + str(targets[measure]):>7} {mark}"
        )


def bench_verify(registry: Registry, runs: int, work: Path) -> None:
    """Signature checks of one component from a loopback registry: `mcpkg verify` with a
    cosign key and with a keyless identity (bundle found through the fallback tag,
    verified offline by sigstore-python), beside sigstore-js (`@sigstore/verify`, the
    bundle as a local file: no registry, no discovery) on the same bundle and root, and
    `mcpkg pull` of the cached component under a key policy and an identity policy."""
    from testing.sigstore_local import GITHUB_ISSUER, LocalSigstore, github_claims, github_identity

    fixture = ROOT / "registry-fixtures" / "build" / "greeter.wasm"
    env = dict(os.environ, NO_COLOR="1", NO_PROXY="127.0.0.1,localhost", MCPKG_CACHE_DIR=str(work / "verify-cache"))
    config = work / "verify-config.toml"
    env["MCPKG_CONFIG"] = str(config)
    ref = f"{registry.host}/verifybench/greeter:1.0.0"
    with LocalSigstore() as sigstore:
        claims = github_claims("acme/widget", ref="refs/tags/v1.0.0")
        root = f'[sigstore]\ntrusted-root = "{sigstore.trusted_root_path}"\n'
        root += f'signing-config = "{sigstore.signing_config_path}"\n'
        config.write_text(root)
        run_timed([MCPKG, "-q", "push", str(fixture), ref], env)
        run_timed([MCPKG, "-q", "keygen", "--output-prefix", str(work / "bench")], {**env, "COSIGN_PASSWORD": "pw"})
        run_timed([MCPKG, "-q", "sign", ref, "--key", str(work / "bench.key")], {**env, "COSIGN_PASSWORD": "pw"})
        signed = subprocess.run(
            [MCPKG, "sign", ref, "--keyless", "--json"],
            env={**env, "SIGSTORE_IDENTITY_TOKEN": sigstore.token(claims)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        referrer = json.loads(signed.stdout)["referrer"]
        name = "verifybench/greeter"
        request = urllib.request.Request(
            f"http://{registry.host}/v2/{name}/manifests/{referrer}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        with urllib.request.urlopen(request) as response:
            layer = json.loads(response.read())["layers"][0]["digest"]
        bundle = work / "bundle.json"
        with urllib.request.urlopen(f"http://{registry.host}/v2/{name}/blobs/{layer}") as response:
            bundle.write_bytes(response.read())
        identity = github_identity(claims)
        scope = f'[trust."{registry.host}/verifybench/*"]\nrequire = true\n'
        key_policy = root + scope + f'keys = ["{work / "bench.pub"}"]\n'
        identity_policy = (
            root
            + scope
            + (
                f'\n[[trust."{registry.host}/verifybench/*".identities]]\n'
                f'issuer = "{GITHUB_ISSUER}"\nrepository = "acme/widget"\nref = "refs/tags/v*"\n'
            )
        )
        node_env = dict(os.environ, MCPKG_NODE_PREFIX=str(ROOT / ".venv" / "node"))
        commands: dict[str, tuple[list[str], dict[str, str], str]] = {
            "mcpkg verify --key": ([MCPKG, "verify", ref, "--key", str(work / "bench.pub")], env, root),
            "mcpkg verify (keyless)": (
                [MCPKG, "verify", ref, "--certificate-identity", identity, "--certificate-oidc-issuer", GITHUB_ISSUER],
                env,
                root,
            ),
            "sigstore-js verify (file)": (
                [
                    "node",
                    str(ROOT / "testing" / "sigstore_verify.mjs"),
                    str(sigstore.trusted_root_path),
                    str(bundle),
                    "--identity",
                    identity,
                    "--issuer",
                    GITHUB_ISSUER,
                ],
                node_env,
                root,
            ),
            "mcpkg pull (key policy)": ([MCPKG, "-q", "pull", ref], env, key_policy),
            "mcpkg pull (identity policy)": ([MCPKG, "-q", "pull", ref], env, identity_policy),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs + 1):  # the first round warms caches and is dropped
            for label, (argv, command_env, text) in commands.items():
                config.write_text(text)
                times[label].append(run_timed(argv, command_env))
    print(f"\nsignature checks of one component on a loopback registry, {runs} runs each (median, min, max)")
    floor = statistics.median(times["sigstore-js verify (file)"][1:])
    for label, values in times.items():
        kept = values[1:]
        median = statistics.median(kept)
        print(f"{label:<30} {median:7.3f} s {min(kept):7.3f} {max(kept):7.3f}   x{median / floor:4.2f} of sigstore-js")


HOST_CALLS = 200


async def _sdk_latencies(
    command: list[str],
    env: dict[str, str],
    url: str | None,
    tool: str = "add",
    arguments: Callable[[int], dict[str, Any]] = lambda n: {"a": n, "b": 1},
    count: int = HOST_CALLS,
) -> list[float]:
    """Round trips of `count` sequential `tools/call` of `tool` in one MCP SDK session: over
    stdio (`command` is the server) or over streamable HTTP at `url` (the server already
    runs). A call answered with an error stops the benchmark."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    async def calls(session: ClientSession) -> list[float]:
        await session.initialize()
        await session.call_tool(tool, arguments(0))  # warm
        out = []
        for n in range(count):
            started = time.perf_counter()
            result = await session.call_tool(tool, arguments(n))
            out.append(time.perf_counter() - started)
            if result.is_error:
                raise SystemExit(f"{tool} failed under {' '.join(command) or url}: {result.content}")
        return out

    if url is None:
        params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                return await calls(session)
    async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as session:
        return await calls(session)


def bench_host(runs: int, work: Path) -> None:
    """mcpkg as the MCP host of a wasi:mcp backend (the tools-backend fixture, Winch):
    the median round trip of 200 sequential `tools/call` in one MCP SDK session over
    stdio and over `run --http` (target: HTTP <= max(2x stdio, stdio + 5 ms))."""
    import anyio

    backend = ROOT / "registry-fixtures" / "build" / "wasi-mcp" / "tools-backend.wasm"
    env = dict(os.environ, MCPKG_CONFIG=os.devnull, MCPKG_CACHE_DIR=str(work / "host-cache"))
    stdio_cmd = [MCPKG, "run", "--compiler", "winch", str(backend)]
    stdio: list[float] = []
    http: list[float] = []
    for _ in range(max(1, runs)):
        stdio.extend(anyio.run(_sdk_latencies, stdio_cmd, env, None))
        port = _free_port()
        log = work / "host-http.log"
        with log.open("wb") as err:
            server = subprocess.Popen(
                [MCPKG, "run", "--compiler", "winch", "--http", f"127.0.0.1:{port}", str(backend)],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while "serving MCP" not in log.read_text() and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.05)
            http.extend(anyio.run(_sdk_latencies, [], env, f"http://127.0.0.1:{port}/mcp"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    s, h = statistics.median(stdio) * 1000, statistics.median(http) * 1000
    target = max(2 * s, s + 5)
    print(f"\nmcpkg hosting tools-backend.wasm: {HOST_CALLS} sequential tools/call per session, {runs} session(s) each")
    print(f"{'transport':<10} {'median ms':>10} {'p90 ms':>8}")
    for name, values in (("stdio", stdio), ("http", http)):
        p90 = sorted(values)[int(len(values) * 0.9)] * 1000
        print(f"{name:<10} {statistics.median(values) * 1000:10.2f} {p90:8.2f}")
    verdict = "met" if h <= target else "NOT met"
    print(f"http / stdio = {h / s:.2f}x; target http <= max(2x stdio, stdio + 5 ms) = {target:.2f} ms: {verdict}")


FETCH_CALLS = 100


def bench_fetch(registry: Registry, runs: int, work: Path) -> None:
    """Outgoing HTTP (`--allow-http`): the median round trip of FETCH_CALLS sequential
    `fetch` tool calls (a GET of a 1 KiB page from a loopback HTTP server) in one MCP SDK
    session, Winch everywhere: the wasi:mcp backend `fetch-backend` hosted by mcpkg; the
    tools capability `fetch-tools` composed in one command with the framework (pushed to
    the loopback registry) and run by `mcpkg run --allow-http`, and the same server.wasm
    by the peer, `wasmtime run -S http` (compiled at each start, not timed here); and the
    floor, the same GET from Python's urllib."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import anyio

    page = b"x" * 1024

    class Page(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{site.server_address[1]}/page"
    built = ROOT / "registry-fixtures" / "build"
    config = work / "fetch-config.toml"
    config.write_text(f'[namespaces]\nwasmcp = "{registry.host}/wasmcp"\n')
    env = dict(os.environ, MCPKG_CONFIG=str(config), MCPKG_CACHE_DIR=str(work / "fetch-cache"))
    for package, fixture in STDIO_FRAMEWORK.items():
        ref = f"{registry.host}/wasmcp/{package}:0.1.0"
        run_timed([MCPKG, "-q", "push", str(built / "wasmcp-v20251125" / f"{fixture}.wasm"), ref], env)
    server = work / "fetch-server.wasm"
    tools = built / "wasmcp-v20251125" / "fetch-tools.wasm"
    run_timed([MCPKG, "-q", "compose", str(tools), "-t", "stdio", "-o", str(server)], env)
    if not server.is_file():
        raise SystemExit("bench fetch: the one-command compose of fetch-tools failed")
    backend = built / "wasi-mcp" / "fetch-backend.wasm"
    rows: dict[str, list[str]] = {
        "mcpkg run backend": [MCPKG, "run", "--allow-http", "--compiler", "winch", str(backend)],
        "mcpkg run composed": [MCPKG, "run", "--allow-http", "--compiler", "winch", str(server)],
        "wasmtime run composed": [WASMTIME, "run", "-S", "http", "-C", "compiler=winch", str(server)],
    }
    measured: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(max(1, runs)):
        for name, command in rows.items():
            measured[name].extend(
                anyio.run(_sdk_latencies, command, env, None, "fetch", lambda n: {"url": url}, FETCH_CALLS)
            )
    floor = []
    for _ in range(FETCH_CALLS * max(1, runs)):
        started = time.perf_counter()
        with urllib.request.urlopen(url) as answer:
            answer.read()
        floor.append(time.perf_counter() - started)
    site.shutdown()
    print(
        f"\noutgoing HTTP: {FETCH_CALLS} sequential fetch calls (1 KiB from loopback) per session, "
        f"{runs} session(s) each"
    )
    print(f"{'server':<24} {'median ms':>10} {'p90 ms':>8}")
    for name, values in (*measured.items(), ("urllib GET (the floor)", floor)):
        p90 = sorted(values)[int(len(values) * 0.9)] * 1000
        print(f"{name:<24} {statistics.median(values) * 1000:10.2f} {p90:8.2f}")
    mine, theirs = (
        statistics.median(measured["mcpkg run composed"]),
        statistics.median(measured["wasmtime run composed"]),
    )
    print(f"mcpkg run / wasmtime run (the same server.wasm) = {mine / theirs:.2f}x")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "benchmarks",
        nargs="*",
        help="which benchmarks (default: all): pull, inspect, lock, compose, run, verify, share, host, fetch",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=96)
    args = parser.parse_args()
    args.benchmarks = args.benchmarks or [
        "pull",
        "inspect",
        "lock",
        "compose",
        "run",
        "verify",
        "share",
        "host",
        "fetch",
    ]
    with tempfile.TemporaryDirectory(prefix="mcpkg-bench-") as tmp, running_registry() as registry:
        work = Path(tmp)
        if "pull" in args.benchmarks:
            bench_pull(registry, args.runs, args.size_mb, work)
        if "inspect" in args.benchmarks:
            bench_inspect(args.runs, work)
        if "lock" in args.benchmarks:
            bench_lock(registry, args.runs, work)
        if "compose" in args.benchmarks:
            bench_compose(args.runs, work)
        if "run" in args.benchmarks:
            bench_run(args.runs, work)
        if "verify" in args.benchmarks:
            bench_verify(registry, args.runs, work)
        if "share" in args.benchmarks:
            bench_share(work)
        if "host" in args.benchmarks:
            bench_host(args.runs, work)
        if "fetch" in args.benchmarks:
            bench_fetch(registry, args.runs, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
