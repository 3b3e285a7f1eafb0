"""Interruption and concurrency chaos for `mcpkg pull -o`, `mcpkg lock` and `mcpkg compose -o`.

Used by `scripts/chaos` (long runs) and `tests/integration/test_interrupt.py` (a bounded
run). One shared cache (`MCPKG_CACHE_DIR`) and one project directory for everything.

Set-up: small role components built from `wit/` (fast to compile), published to a
loopback registry; a project whose `mcpkg.toml` alternates between two variants (a chain
of one or two middleware components), so every `lock`/`compose` round really changes
`mcpkg.lock` and `server.wasm`; a pool of distinct padded components for `pull`, a fresh
one published for most pull rounds so the kill can land in a download. A calibration run
of each operation (never killed) gives its typical duration and the exact bytes every
variant's lock and server must have (both are deterministic).

Each round: pick the next target state, start the command, SIGKILL it after a random delay
in [0, typical duration], then check the invariants:
- `mcpkg cache verify --json` succeeds and reports nothing corrupt, and no stray temp file
  sits anywhere in the cache but `tmp/` (which `mcpkg cache prune` cleans);
- every output path (the pulled file, the server, `mcpkg.lock`) holds either its previous
  complete content, or the complete new content (checked by sha256), or is absent if it
  was absent; `mcpkg.lock` parses;
- the same command, run again without interruption, succeeds and produces the new content.
Stray `.NAME.<pid>.*.tmp` files beside an output (the temp file of a killed writer, never
at the output path itself) are counted after the kill; the next run writing that output
must remove them (their pid is dead).

The concurrency phase starts K commands at once (composes, locks and pulls of one fresh
reference to one path) after switching the variant; all must succeed and leave the
expected bytes and a clean cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from testing.wasmbits import with_custom_section
from testing.witbuild import build_world

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ("pull", "lock", "compose")
RUN_TIMEOUT = 180.0  # an uninterrupted run that takes longer counts as hung (e.g. a stale lock)
ROLE_WORLDS = {"stdio": "stdio-transport", "mw": "middleware", "init": "initialize-handler", "writers": "writers"}
CHAINS = (("mw1",), ("mw1", "mw2"))  # the two project variants


def mcpkg_argv() -> list[str]:
    return [sys.executable, "-m", "mcpkg"]


def sha256_of(path: Path) -> str | None:
    """The file's sha256 (hex), or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


@dataclass
class OpStats:
    runs: int = 0
    kills: int = 0  # still running when SIGKILL arrived
    finished: int = 0  # had already exited when its kill time came
    fractions: list[float] = field(default_factory=list)  # kill delay / typical duration
    next_failures: int = 0
    verify_failures: int = 0
    invariant_failures: int = 0
    strays: int = 0  # temp files left beside outputs by killed writers

    def spread(self) -> str:
        """Kill points by quarter of the typical duration, e.g. `3/4/2/5`."""
        quarters = [0, 0, 0, 0]
        for fraction in self.fractions:
            quarters[min(3, int(fraction * 4))] += 1
        return "/".join(str(q) for q in quarters)


@dataclass
class ChaosReport:
    stats: dict[str, OpStats] = field(default_factory=lambda: {op: OpStats() for op in OPERATIONS})
    concurrent_rounds: int = 0
    concurrent_processes: int = 0
    concurrent_failures: int = 0
    failures: list[str] = field(default_factory=list)
    typical: dict[str, float] = field(default_factory=dict)
    strays_left: dict[str, int] = field(default_factory=dict)  # beside the outputs, at the end
    cache_tmp_left: int = 0  # files in the cache's tmp/ at the end (prunable)

    @property
    def ok(self) -> bool:
        return not self.failures

    def table(self) -> str:
        lines = [
            f"{'operation':<10} {'runs':>5} {'kills':>6} {'exited':>7} {'kill points (quarters)':>23} "
            f"{'next-run fail':>14} {'verify fail':>12} {'state fail':>11} {'strays':>7}"
        ]
        for op, s in self.stats.items():
            lines.append(
                f"{op:<10} {s.runs:>5} {s.kills:>6} {s.finished:>7} {s.spread():>23} "
                f"{s.next_failures:>14} {s.verify_failures:>12} {s.invariant_failures:>11} {s.strays:>7}"
            )
        lines.append(
            f"concurrency: {self.concurrent_rounds} round(s) of {self.concurrent_processes} processes, "
            f"{self.concurrent_failures} failure(s)"
        )
        typical = ", ".join(f"{k} {v:.2f} s" for k, v in self.typical.items())
        lines.append(f"typical durations (kill window): {typical}")
        left = ", ".join(f"{k}/ {v}" for k, v in self.strays_left.items())
        lines.append(f"temp files of killed writers left at the end: {left}, cache tmp/ {self.cache_tmp_left}")
        return "\n".join(lines)


@dataclass
class Killed:
    returncode: int | None
    killed: bool
    stderr: str


class Chaos:
    """The shared state (registry host, cache, project) and the rounds."""

    def __init__(
        self,
        host: str,
        work: Path,
        seed: int,
        *,
        blob_size: int = 2 * 1024 * 1024,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.host = host
        self.work = work
        self.rng = random.Random(seed)
        self.blob_size = blob_size
        self.log = log
        self.cache = work / "cache"
        self.project = work / "project"
        self.out = work / "out"
        self.pulled = self.out / "pulled.wasm"
        self.server = self.out / "server.wasm"
        self.lock = self.project / "mcpkg.lock"
        self.env = self._env(self.cache)
        self.push_env = self._env(work / "push-cache")
        self.variant = 0  # the variant mcpkg.toml currently holds
        self.expected_lock: dict[int, str] = {}  # variant -> sha256 of its lock
        self.expected_server: dict[int, str] = {}
        self.pool: list[tuple[str, str]] = []  # (reference, layer sha256)
        self.base: bytes = b""
        self.report = ChaosReport()
        self.seen_strays: set[Path] = set()
        self.reported: set[str] = set()  # cache problems already reported (reported once)

    def _env(self, cache: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        for key in ("MCPKG_REGISTRY_USERNAME", "MCPKG_REGISTRY_PASSWORD", "SOURCE_DATE_EPOCH"):
            env.pop(key, None)
        env.update(
            MCPKG_CACHE_DIR=str(cache),
            MCPKG_CONFIG=str(self.work / "config.toml"),
            DOCKER_CONFIG=str(self.work / "docker"),
            NO_COLOR="1",
        )
        return env

    # -- commands -----------------------------------------------------------------

    def argv(self, op: str, ref: str | None = None) -> list[str]:
        if op == "pull":
            assert ref is not None
            return [*mcpkg_argv(), "-q", "pull", ref, "-o", str(self.pulled)]
        if op == "lock":
            return [*mcpkg_argv(), "-q", "lock", "-C", str(self.project)]
        return [*mcpkg_argv(), "-q", "compose", "-C", str(self.project), "-o", str(self.server)]

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                argv, env=env or self.env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, -1, "", f"timed out after {RUN_TIMEOUT:.0f} s (hung?)")

    def must(self, argv: list[str], env: dict[str, str] | None = None) -> str:
        result = self.run(argv, env)
        if result.returncode != 0:
            raise RuntimeError(f"set-up command failed: {' '.join(argv)}\n{result.stdout}{result.stderr}")
        return result.stdout

    def run_killed(self, argv: list[str], delay: float) -> Killed:
        process = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session this harness just started
            process.wait()
            assert process.stderr is not None
            return Killed(process.returncode, True, process.stderr.read().decode(errors="replace"))
        assert process.stderr is not None
        return Killed(process.returncode, False, process.stderr.read().decode(errors="replace"))

    def timed(self, argv: list[str]) -> float:
        started = time.perf_counter()
        self.must(argv)
        return time.perf_counter() - started

    # -- set-up -------------------------------------------------------------------

    def manifest_text(self, variant: int) -> str:
        base = f"{self.host}/chaos"
        chain = ", ".join(f'"{name}"' for name in CHAINS[variant])
        components = "".join(
            f'\n[components.{name}]\nref = "{base}/{name}"\nversion = "^0.1"\n'
            for name in ("stdio", "mw1", "mw2", "init", "writers")
            if name not in ("mw1", "mw2") or name in CHAINS[variant]
        )
        return f'[server]\nname = "chaos"\ntransport = "stdio"\nchain = [{chain}]\nterminal = "init"\n{components}'

    def set_variant(self, variant: int) -> None:
        self.variant = variant
        (self.project / "mcpkg.toml").write_text(self.manifest_text(variant))

    def push(self, data: bytes, ref: str) -> None:
        """Publish in-process (no interpreter start-up), with a cache of its own."""
        from typer.testing import CliRunner

        from mcpkg.cli.app import app

        path = self.work / "push.wasm"
        path.write_bytes(data)
        result = CliRunner().invoke(app, ["-q", "push", str(path), ref], env=self.push_env, catch_exceptions=False)
        if result.exit_code != 0:
            raise RuntimeError(f"set-up push of {ref} failed: {result.stdout}{result.stderr}")
        path.unlink()

    def new_pool_ref(self) -> tuple[str, str]:
        """Publish a component nobody has pulled yet; returns (reference, layer sha256)."""
        index = len(self.pool)
        payload = self.rng.randbytes(max(0, self.blob_size - len(self.base)))
        data = with_custom_section(self.base, b"mcpkg-chaos", payload)
        ref = f"{self.host}/chaos/pool{index}:1.0.0"
        self.push(data, ref)
        entry = (ref, hashlib.sha256(data).hexdigest())
        self.pool.append(entry)
        return entry

    def setup(self, calibration_rounds: int = 2) -> None:
        for path in (self.cache, self.project, self.out, self.work / "docker", self.work / "roles"):
            path.mkdir(parents=True, exist_ok=True)
        (self.work / "config.toml").write_text("")
        roles = self.work / "roles"
        built = {
            label: build_world(ROOT / "wit", world, roles / f"{world}.wasm").read_bytes()
            for label, world in ROLE_WORLDS.items()
        }
        self.base = built["writers"]
        components = {
            "stdio": built["stdio"],
            "mw1": with_custom_section(built["mw"], b"mcpkg-chaos", b"first"),
            "mw2": with_custom_section(built["mw"], b"mcpkg-chaos", b"second"),
            "init": built["init"],
            "writers": built["writers"],
        }
        for name, data in components.items():
            self.push(data, f"{self.host}/chaos/{name}:0.1.0")
        self.log("calibrating: one uninterrupted run of each operation per variant")
        lock_times, cold, warm = [], [], []
        for variant in (0, 1) * calibration_rounds:
            self.set_variant(variant)
            lock_times.append(self.timed(self.argv("lock")))
            self.expected_lock.setdefault(variant, sha256_of(self.lock) or "")
            assert sha256_of(self.lock) == self.expected_lock[variant], "mcpkg lock is not deterministic"
            self.drop_compiled()
            cold.append(self.timed(self.argv("compose")))
            warm.append(self.timed(self.argv("compose")))
            self.expected_server.setdefault(variant, sha256_of(self.server) or "")
            assert sha256_of(self.server) == self.expected_server[variant], "mcpkg compose is not deterministic"
        pull_times = []
        for _ in range(2):
            ref, _ = self.new_pool_ref()
            pull_times.append(self.timed(self.argv("pull", ref)))
        self.report.typical = {
            "pull": statistics.median(pull_times),
            "lock": statistics.median(lock_times[1:]),  # the first one downloads
            "compose-cold": statistics.median(cold),
            "compose-warm": statistics.median(warm),
        }
        self.log("typical: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.report.typical.items()))

    def drop_compiled(self) -> None:
        """Forget wasmtime's compiled servers (a cache of derived data), so the next
        compose compiles and writes its artifact again."""
        shutil.rmtree(self.cache / "compiled", ignore_errors=True)

    # -- checks -------------------------------------------------------------------

    def check_cache(self) -> list[str]:
        problems = []
        result = self.run([*mcpkg_argv(), "cache", "verify", "--json"])
        if result.returncode != 0:
            problems.append(f"`mcpkg cache verify --json` exited {result.returncode}: {result.stderr.strip()}")
        else:
            try:
                corrupt = json.loads(result.stdout)["corrupt"]
            except (ValueError, KeyError) as exc:
                problems.append(f"`mcpkg cache verify --json` printed no report ({exc}): {result.stdout!r}")
            else:
                if corrupt:
                    problems.append(f"`mcpkg cache verify` found corrupt blobs: {corrupt}")
        for path in self.cache.rglob("*"):
            if path.is_file() and path.name.endswith(".tmp") and path.parent != self.cache / "tmp":
                problem = f"stray temp file outside the cache's tmp/: {path.relative_to(self.cache)}"
                if problem not in self.reported:
                    self.reported.add(problem)
                    problems.append(problem)
        return problems

    def snapshot(self) -> dict[Path, str | None]:
        return {path: sha256_of(path) for path in (self.pulled, self.server, self.lock)}

    def check_state(self, before: dict[Path, str | None], allowed_new: dict[Path, str]) -> list[str]:
        """Each output holds its previous content or the allowed new one (or is absent if it was)."""
        problems = []
        for path, previous in before.items():
            now = sha256_of(path)
            allowed = {previous, allowed_new.get(path, previous)}
            if now not in allowed:
                size = path.stat().st_size if path.exists() else 0
                problems.append(
                    f"{path.name}: neither the previous nor the new complete content "
                    f"(sha256 {str(now)[:16]}, {size} bytes; expected one of "
                    f"{sorted(str(a)[:16] for a in allowed)})"
                )
        if self.lock.exists():
            from mcpkg.errors import McpkgError
            from mcpkg.project.lockfile import parse

            try:
                parse(self.lock.read_bytes(), self.lock)
            except McpkgError as exc:
                problems.append(f"mcpkg.lock does not parse: {exc.message}")
        return problems

    def strays(self) -> set[Path]:
        """Temp files beside the outputs, left by killed writers."""
        return {path for directory in (self.out, self.project) for path in directory.glob(".*.tmp")}

    def count_strays(self) -> int:
        """How many strays appeared since the last count."""
        now = self.strays()
        new = now - self.seen_strays
        self.seen_strays |= now
        return len(new)

    # -- rounds -------------------------------------------------------------------

    def target(self, op: str) -> tuple[list[str], dict[Path, str], float]:
        """Prepare the next change for `op`: its argv, the new content of each output it
        may change, and its typical duration."""
        if op == "pull":
            current = sha256_of(self.pulled)
            others = [entry for entry in self.pool if entry[1] != current]
            ref, layer = self.new_pool_ref() if not others or self.rng.random() < 0.6 else self.rng.choice(others)
            return self.argv("pull", ref), {self.pulled: layer}, self.report.typical["pull"]
        self.set_variant(1 - self.variant)
        new_lock = {self.lock: self.expected_lock[self.variant]}
        if op == "lock":
            return self.argv("lock"), new_lock, self.report.typical["lock"]
        cold = self.rng.random() < 0.5
        if cold:
            self.drop_compiled()
        typical = self.report.typical["compose-cold" if cold else "compose-warm"]
        return self.argv("compose"), {**new_lock, self.server: self.expected_server[self.variant]}, typical

    def kill_round(self, op: str) -> list[str]:
        stats = self.report.stats[op]
        stats.runs += 1
        argv, new, typical = self.target(op)
        before = self.snapshot()
        fraction = self.rng.random()
        outcome = self.run_killed(argv, fraction * typical)
        if outcome.killed:
            stats.kills += 1
            stats.fractions.append(fraction)
        else:
            stats.finished += 1
        failures: list[str] = []
        if not outcome.killed and outcome.returncode != 0:
            failures.append(f"{op} exited {outcome.returncode} without being killed: {outcome.stderr.strip()}")
            stats.invariant_failures += 1
        state = self.check_state(before, new)
        if state:
            stats.invariant_failures += 1
            failures += [f"after the kill: {p}" for p in state]
        cache = self.check_cache()
        if cache:
            stats.verify_failures += 1
            failures += [f"after the kill: {p}" for p in cache]
        stats.strays += self.count_strays()
        again = self.run(argv)
        if again.returncode != 0:
            stats.next_failures += 1
            failures.append(f"the next run failed (exit {again.returncode}): {again.stderr.strip()}")
        else:
            after = self.check_state(self.snapshot(), {})
            wrong = [p.name for p, sha in new.items() if sha256_of(p) != sha]
            if wrong or after:
                stats.next_failures += 1
                failures.append(f"the next run succeeded but left wrong content in {wrong}: {after}")
            left = sorted(s.name for s in self.strays() for out in new if s.name.startswith(f".{out.name}."))
            if left:
                stats.next_failures += 1
                failures.append(f"the next run did not remove the killed writer's temp files: {left}")
        stats.strays += self.count_strays()
        where = f"{op} (kill at {fraction:.2f} x {typical:.2f} s{'' if outcome.killed else ', had exited'})"
        return [f"{where}: {f}" for f in failures]

    def concurrent_round(self, processes: int) -> list[str]:
        self.report.concurrent_rounds += 1
        self.report.concurrent_processes = processes
        self.set_variant(1 - self.variant)
        if self.rng.random() < 0.5:
            self.drop_compiled()
        ref, layer = self.new_pool_ref()
        ops = [("compose", "lock", "pull")[i % 3] for i in range(processes)]
        self.rng.shuffle(ops)
        started = [
            (
                op,
                subprocess.Popen(
                    self.argv(op, ref),
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                ),
            )
            for op in ops
        ]
        failures = []
        deadline = time.monotonic() + RUN_TIMEOUT
        for op, process in started:
            try:
                _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                _, stderr = process.communicate()
                failures.append(f"concurrent {op} hung (killed after {RUN_TIMEOUT:.0f} s)")
                continue
            if process.returncode != 0:
                message = stderr.decode(errors="replace").strip()
                failures.append(f"concurrent {op} exited {process.returncode}: {message}")
        expected = {self.lock: self.expected_lock[self.variant]}
        if "compose" in ops:
            expected[self.server] = self.expected_server[self.variant]
        if "pull" in ops:
            expected[self.pulled] = layer
        for path, sha in expected.items():
            if sha256_of(path) != sha:
                failures.append(f"after the concurrent round {path.name} is not the expected content")
        failures += self.check_state(self.snapshot(), {})
        failures += self.check_cache()
        before_strays = set(self.seen_strays)
        self.count_strays()
        if new_strays := sorted(self.seen_strays - before_strays):
            failures.append(f"uninterrupted concurrent runs left temp files: {new_strays}")
        self.report.concurrent_failures += len(failures)
        return [f"concurrency round {self.report.concurrent_rounds}: {f}" for f in failures]

    def run_all(
        self, iterations: int, concurrency: int, concurrent_rounds: int, deadline: float | None = None
    ) -> ChaosReport:
        """`iterations` kill rounds (operations in turn), then the concurrent rounds. No
        new kill round starts after `deadline` (a `time.monotonic()` value)."""
        for index in range(iterations):
            if deadline is not None and time.monotonic() > deadline:
                self.log(f"time budget reached after {index} round(s)")
                break
            op = OPERATIONS[index % len(OPERATIONS)]
            failures = self.kill_round(op)
            self.report.failures += failures
            self.log(f"[{index + 1}/{iterations}] {op}: {'FAILED: ' + '; '.join(failures) if failures else 'ok'}")
        for index in range(concurrent_rounds):
            failures = self.concurrent_round(concurrency)
            self.report.failures += failures
            self.log(f"[concurrency {index + 1}/{concurrent_rounds}] {'; '.join(failures) or 'ok'}")
        self.report.failures += [f"at the end: {p}" for p in self.check_cache()]
        self.report.strays_left = {
            str(d.relative_to(self.work)): len(list(d.glob(".*.tmp"))) for d in (self.out, self.project)
        }
        self.report.cache_tmp_left = len(list((self.cache / "tmp").iterdir()))
        return self.report
