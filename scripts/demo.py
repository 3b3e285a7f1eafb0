"""The demo behind `./scripts/demo`: every step is a real mcpkg command against a real
registry on loopback, printed as it runs. Uses a temporary cache and config, so it never
touches the user's own, and stops the registry it started."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness.registry import running_registry  # noqa: E402

MCPKG = str(ROOT / ".venv" / "bin" / "mcpkg")


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(env: dict[str, str], *args: str, expect_failure: bool = False) -> str:
    print(f"$ mcpkg {shlex.join(args)}", flush=True)
    result = subprocess.run([MCPKG, *args], env=env, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stdout.write("".join(f"  | {line}\n" for line in result.stderr.splitlines()))
    sys.stdout.flush()
    if (result.returncode != 0) != expect_failure:
        raise SystemExit(f"demo step failed (exit {result.returncode}): mcpkg {shlex.join(args)}")
    return result.stdout


def main() -> int:
    fixtures = ROOT / "registry-fixtures" / "build"
    with tempfile.TemporaryDirectory(prefix="mcpkg-demo-") as home, running_registry() as registry:
        env = dict(os.environ)
        env.update(
            MCPKG_CACHE_DIR=f"{home}/cache",
            MCPKG_CONFIG=f"{home}/config.toml",
            DOCKER_CONFIG=f"{home}/docker",
            SOURCE_DATE_EPOCH="1700000000",
        )
        Path(f"{home}/config.toml").write_text(f'[namespaces]\nfixtures = "{registry.host}/fixtures"\n')
        print(f"registry: docker-registry on http://{registry.host} (storage {registry.root})")

        step("publish the fixture components")
        for name, tag in (("greeter", "0.1.0"), ("greeter", "0.2.0"), ("logger", "0.1.0"), ("answer", "1.0.0")):
            source = "logger" if (name, tag) == ("greeter", "0.2.0") else name
            run(env, "push", str(fixtures / f"{source}.wasm"), f"{registry.host}/fixtures/{name}:{tag}")

        step("publishing the same bytes again changes nothing")
        run(env, "push", str(fixtures / "greeter.wasm"), f"{registry.host}/fixtures/greeter:0.1.0")

        step("a release tag never moves silently")
        run(env, "push", str(fixtures / "answer.wasm"), f"{registry.host}/fixtures/greeter:0.1.0", expect_failure=True)

        step("list tags (every page, semver order)")
        run(env, "tags", f"{registry.host}/fixtures/greeter")

        step("pull by package name and version requirement, verified into the cache")
        out = Path(home) / "greeter.wasm"
        run(env, "pull", "fixtures:greeter@0.1", "-o", str(out))

        step("pull a bare reference: the highest release")
        digest_line = run(env, "pull", f"{registry.host}/fixtures/greeter")
        digest = next(line.split()[-1] for line in digest_line.splitlines() if line.startswith("digest:"))

        step("pull by digest: served from the cache, no network")
        run(env, "pull", f"{registry.host}/fixtures/greeter@{digest}")

        step("inspect what a component imports and exports (read by wasmtime)")
        run(env, "inspect", f"{registry.host}/fixtures/greeter:0.1.0")
        run(env, "inspect", str(fixtures / "answer.wasm"))

        step("the cache")
        run(env, "cache", "ls")
        run(env, "cache", "verify")
    print("\ndemo finished; the registry was stopped and the temporary cache removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
