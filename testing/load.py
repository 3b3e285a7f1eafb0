"""A load run: push, then pull, many distinct components concurrently through the real
CLI (one `mcpkg` process per operation, `jobs` at a time, all sharing one cache), and
check that nothing was lost or altered on the way.

Used by `scripts/load` (200 components by default) and, small, by
`tests/integration/test_load.py`.

Every component is a real fixture (`answer.wasm` by default) with a custom section
inserted after the preamble: a unique payload makes each one distinct and it stays a
valid component (custom sections are allowed anywhere). Some are padded to 1-5 MiB, so
uploads above the 4 MiB chunk size go in `PATCH` chunks.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testing.wasmbits import with_custom_section

MIB = 1024 * 1024
# every 10th component (index % 10 == 9) is padded to one of these sizes in turn; the
# first is over the 4 MiB chunk size, so even a small run has a chunked upload
LARGE_SIZES = (5 * MIB, 1 * MIB, 2 * MIB, 3 * MIB, 4 * MIB + MIB // 2)
TAGS_PER_REPO = 4  # components i*4 .. i*4+3 are tags 0.1.0 .. 0.1.3 of one repository
OP_TIMEOUT = 300.0  # seconds for one CLI process
SECTION_NAME = b"mcpkg-load"


def default_mcpkg() -> str:
    """The `mcpkg` entry point beside the running interpreter (the project's venv)."""
    return str(Path(sys.executable).parent / "mcpkg")


# -- components -------------------------------------------------------------------


def unique_component(base: bytes, index: int, size: int = 0) -> bytes:
    """`base` made distinct by `index`, padded to about `size` bytes (at least `base`
    plus the section)."""
    tag = f"mcpkg load component {index}\n".encode()
    filler = max(0, size - len(base) - len(tag) - len(SECTION_NAME) - 8)
    # varied filler (not one repeated byte), derived from the index
    seed = hashlib.sha256(tag).digest()
    pad = (seed * (filler // len(seed) + 1))[:filler]
    return with_custom_section(base, SECTION_NAME, tag + pad)


def component_size(index: int, large: bool) -> int:
    if large and index % 10 == 9:
        return LARGE_SIZES[(index // 10) % len(LARGE_SIZES)]
    return 0


@dataclass(frozen=True)
class Component:
    index: int
    path: Path
    ref: str  # registry/repository:tag
    size: int
    digest: str  # sha256:<hex> of the file

    @property
    def repository(self) -> str:
        return self.ref.rsplit(":", 1)[0]


def make_components(base: bytes, count: int, directory: Path, host: str, *, large: bool = True) -> list[Component]:
    """Write `count` distinct components to `directory`, named for `host`'s `load/`
    repositories, `TAGS_PER_REPO` tags each."""
    directory.mkdir(parents=True, exist_ok=True)
    components = []
    for index in range(count):
        data = unique_component(base, index, component_size(index, large))
        path = directory / f"c{index:04d}.wasm"
        path.write_bytes(data)
        ref = f"{host}/load/c{index // TAGS_PER_REPO:03d}:0.1.{index % TAGS_PER_REPO}"
        components.append(Component(index, path, ref, len(data), "sha256:" + hashlib.sha256(data).hexdigest()))
    return components


# -- running the CLI --------------------------------------------------------------


@dataclass
class LoadEnv:
    """One isolated environment shared by every process of a run: one cache, an empty
    config, an empty Docker config, no proxies, no credentials."""

    work: Path
    mcpkg: str = field(default_factory=default_mcpkg)

    def __post_init__(self) -> None:
        self.cache = self.work / "cache"
        self.config = self.work / "config.toml"
        self.docker = self.work / "docker"
        self.docker.mkdir(parents=True, exist_ok=True)
        self.config.write_text("")
        env = dict(os.environ)
        for name in (
            "MCPKG_REGISTRY_USERNAME",
            "MCPKG_REGISTRY_PASSWORD",
            "SOURCE_DATE_EPOCH",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ):
            env.pop(name, None)
        env.update(
            MCPKG_CACHE_DIR=str(self.cache),
            MCPKG_CONFIG=str(self.config),
            DOCKER_CONFIG=str(self.docker),
            NO_COLOR="1",
        )
        self.env = env

    def run(self, *args: str) -> tuple[Any, float]:
        """Run `mcpkg ARGS --json`: its JSON document and wall seconds; raises
        `OpError` on a failure (exit status, timeout, unreadable output)."""
        argv = [self.mcpkg, *args, "--json"]
        started = time.perf_counter()
        try:
            result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=OP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise OpError(f"timed out after {OP_TIMEOUT:.0f} s") from None
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise OpError(f"exit {result.returncode}: {_failure_text(result.stdout, result.stderr)}")
        try:
            return json.loads(result.stdout), elapsed
        except ValueError:
            raise OpError(f"output is not JSON: {result.stdout[:200]!r}") from None


class OpError(Exception):
    pass


def _failure_text(stdout: str, stderr: str) -> str:
    try:
        error = json.loads(stdout)["error"]
        return f"{error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        text = (stderr.strip() or stdout.strip()).splitlines()
        return " | ".join(text[-3:]) if text else "(no output)"


# -- phases -----------------------------------------------------------------------


@dataclass
class OpResult:
    component: Component
    seconds: float
    error: str | None = None


@dataclass
class Phase:
    name: str
    results: list[OpResult]
    wall: float

    @property
    def errors(self) -> list[str]:
        return [f"{r.component.ref}: {r.error}" for r in self.results if r.error is not None]

    @property
    def ok(self) -> int:
        return sum(1 for r in self.results if r.error is None)

    @property
    def bytes(self) -> int:
        return sum(r.component.size for r in self.results if r.error is None)

    def latency(self, fraction: float) -> float:
        """Nearest-rank percentile of the successful operations' seconds."""
        values = sorted(r.seconds for r in self.results if r.error is None)
        if not values:
            return float("nan")
        return values[max(1, math.ceil(len(values) * fraction)) - 1]


def run_phase(name: str, components: Sequence[Component], operation: Callable[[Component], float], jobs: int) -> Phase:
    """`operation` on every component, `jobs` at a time; it returns its seconds or
    raises (`OpError` or anything else: both are recorded, neither stops the phase)."""

    def one(component: Component) -> OpResult:
        started = time.perf_counter()
        try:
            return OpResult(component, operation(component))
        except Exception as exc:  # recorded and reported; the phase goes on
            text = str(exc) if isinstance(exc, OpError) else f"{type(exc).__name__}: {exc}"
            return OpResult(component, time.perf_counter() - started, text)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, components))
    return Phase(name, results, time.perf_counter() - started)


def push_operation(env: LoadEnv) -> Callable[[Component], float]:
    def push(component: Component) -> float:
        document, seconds = env.run("push", str(component.path), component.ref)
        if document.get("status") != "pushed":
            raise OpError(f"status {document.get('status')!r}, expected 'pushed'")
        if document.get("layer-digest") != component.digest:
            raise OpError(f"pushed layer {document.get('layer-digest')}, file is {component.digest}")
        return seconds

    return push


def pull_operation(env: LoadEnv, out_dir: Path) -> Callable[[Component], float]:
    """Pull to `out_dir`, then check the file against the pushed one: same bytes, and
    its sha256 is the layer digest the pull reported."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def pull(component: Component) -> float:
        out = out_dir / component.path.name
        document, seconds = env.run("pull", component.ref, "-o", str(out))
        if document.get("from-cache") is not False:
            raise OpError(f"from-cache is {document.get('from-cache')!r}: the cache was meant to be cold")
        data = out.read_bytes()
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != document.get("layer-digest"):
            raise OpError(f"pulled file hashes to {actual}, pull reported {document.get('layer-digest')}")
        if actual != component.digest or data != component.path.read_bytes():
            raise OpError(f"pulled file ({actual}, {len(data)} bytes) differs from the pushed one")
        if document.get("size") != component.size:
            raise OpError(f"pull reported size {document.get('size')}, pushed {component.size}")
        return seconds

    return pull


def tags_operation(env: LoadEnv, expected: dict[str, set[str]]) -> Callable[[Component], float]:
    """`mcpkg tags` of a component's repository: exactly the tags pushed there."""

    def tags(component: Component) -> float:
        document, seconds = env.run("tags", component.repository)
        found = set(document.get("tags", []))
        if found != expected[component.repository]:
            raise OpError(f"tags {sorted(found)}, pushed {sorted(expected[component.repository])}")
        return seconds

    return tags


# -- a whole run ------------------------------------------------------------------


@dataclass
class LoadReport:
    count: int
    jobs: int
    phases: list[Phase]
    verified: int  # pulled files whose bytes and digest matched
    cache_verify: str  # "clean (N blobs)" or what went wrong
    cache_clean: bool

    @property
    def errors(self) -> list[str]:
        return [f"{phase.name}: {error}" for phase in self.phases for error in phase.errors]

    @property
    def ok(self) -> bool:
        return not self.errors and self.verified == self.count and self.cache_clean


def run_load(base: bytes, host: str, work: Path, *, count: int, jobs: int, large: bool = True) -> LoadReport:
    """Push `count` distinct components made from `base` to the registry at `host`,
    pull them all back into a fresh directory (cold shared cache), verify, list the tags
    of a few repositories, and `mcpkg cache verify`."""
    env = LoadEnv(work)
    components = make_components(base, count, work / "components", host, large=large)
    phases = [run_phase("push", components, push_operation(env), jobs)]
    pushed = [r.component for r in phases[0].results if r.error is None]
    pull = run_phase("pull", pushed, pull_operation(env, work / "pulled"), jobs)
    phases.append(pull)

    expected: dict[str, set[str]] = {}
    for component in pushed:
        expected.setdefault(component.repository, set()).add(component.ref.rsplit(":", 1)[1])
    firsts = {c.repository: c for c in reversed(pushed)}  # one component per repository
    sample = sorted(firsts.values(), key=lambda c: c.index)[:8]
    phases.append(run_phase("tags", sample, tags_operation(env, expected), jobs))

    try:
        document, _ = env.run("cache", "verify")
        corrupt = document.get("corrupt", [])
        cache_clean = not corrupt
        cache_verify = f"clean ({document.get('checked')} blobs checked)" if cache_clean else f"corrupt: {corrupt}"
    except OpError as exc:
        cache_clean, cache_verify = False, f"failed: {exc}"
    return LoadReport(count, jobs, phases, pull.ok, cache_verify, cache_clean)


def format_report(report: LoadReport, *, max_errors: int = 5) -> str:
    lines = [
        f"{report.count} components, {report.jobs} parallel mcpkg processes, one shared cache",
        "",
        f"{'phase':<6} {'ops':>5} {'ok':>5} {'errors':>6} {'MiB':>8} {'wall s':>8} {'ops/s':>7} "
        f"{'MB/s':>7} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for phase in report.phases:
        wall = phase.wall or float("nan")
        lines.append(
            f"{phase.name:<6} {len(phase.results):>5} {phase.ok:>5} {len(phase.errors):>6} "
            f"{phase.bytes / MIB:8.1f} {phase.wall:8.2f} {phase.ok / wall:7.2f} {phase.bytes / 1e6 / wall:7.2f} "
            f"{phase.latency(0.5) * 1000:8.0f} {phase.latency(0.95) * 1000:8.0f}"
        )
    lines.append("")
    errors = report.errors
    lines.append(f"errors: {len(errors)}")
    lines.extend(f"  {error}" for error in errors[:max_errors])
    if len(errors) > max_errors:
        lines.append(f"  ... and {len(errors) - max_errors} more")
    lines.append(f"digests verified: {report.verified}/{report.count} (bytes identical, sha256 = reported layer)")
    lines.append(f"cache verify: {report.cache_verify}")
    lines.append(f"result: {'OK' if report.ok else 'FAILED'}")
    return "\n".join(lines)
