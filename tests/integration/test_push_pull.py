"""Push -> pull round trips and the cache, against a real docker-registry."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from testing.registry import Registry
from tests.conftest import Mcpkg


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_by_tag_digest_and_bare_reference(mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path) -> None:
    wasm = fixtures / "greeter.wasm"
    pushed = mcpkg.ok("push", str(wasm), f"{repo}:0.1.0", "--json").json()
    assert pushed["status"] == "pushed" and pushed["layer-digest"] == sha(wasm)
    assert pushed["blobs-uploaded"] == 2

    by_tag = mcpkg.ok("pull", f"{repo}:0.1.0", "-o", str(tmp_path / "a.wasm"), "--json").json()
    assert by_tag["digest"] == pushed["digest"]
    assert (tmp_path / "a.wasm").read_bytes() == wasm.read_bytes()
    assert by_tag["declared"]["imports"] == ["fixtures:hello/log@0.1.0"]
    assert by_tag["declared"]["exports"] == ["fixtures:hello/greet@0.1.0"]
    assert by_tag["signature"] == "unsigned"

    fresh = Mcpkg(tmp_path / "other-home")
    by_digest = fresh.ok("pull", f"{repo}@{pushed['digest']}", "-o", str(tmp_path / "b.wasm"), "--json").json()
    assert by_digest["from-cache"] is False
    assert (tmp_path / "b.wasm").read_bytes() == wasm.read_bytes()

    bare = fresh.ok("pull", repo, "--json").json()
    assert bare["reference"] == f"{repo}:0.1.0"


def test_package_name_maps_through_namespaces(mcpkg: Mcpkg, fixtures: Path, registry: Registry, tmp_path: Path) -> None:
    mcpkg.write_config(f'[namespaces]\nfixtures = "{registry.host}/pkgs"\n')
    mcpkg.ok("push", str(fixtures / "logger.wasm"), f"{registry.host}/pkgs/logger:0.2.0")
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{registry.host}/pkgs/logger:0.3.0-rc.1")
    got = mcpkg.ok("pull", "fixtures:logger@0.2", "-o", str(tmp_path / "l.wasm"), "--json").json()
    assert got["reference"] == f"{registry.host}/pkgs/logger:0.2.0"
    assert (tmp_path / "l.wasm").read_bytes() == (fixtures / "logger.wasm").read_bytes()
    # the pre-release is only taken when asked for
    assert mcpkg.ok("pull", "fixtures:logger", "--json").json()["reference"].endswith(":0.2.0")
    pre = mcpkg.ok("pull", "fixtures:logger@^0.3.0-rc.1", "--json").json()
    assert pre["reference"].endswith(":0.3.0-rc.1")


def test_default_registry_from_config(mcpkg: Mcpkg, fixtures: Path, registry: Registry) -> None:
    mcpkg.write_config(f'default-registry = "{registry.host}"\n')
    mcpkg.ok("push", str(fixtures / "answer.wasm"), "defaults/answer:1.0.0")
    assert mcpkg.ok("tags", "defaults/answer").stdout.split() == ["1.0.0"]


def test_cached_digest_is_served_without_network(mcpkg: Mcpkg, fixtures: Path, repo: str, tmp_path: Path) -> None:
    digest = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:1.0.0", "--json").json()["digest"]
    mcpkg.ok("pull", f"{repo}@{digest}")
    # Same repository name on a registry nobody listens on: only the cache can answer.
    dead = "127.0.0.1:9/" + repo.split("/", 1)[1]
    got = mcpkg.ok("pull", f"{dead}@{digest}", "-o", str(tmp_path / "x.wasm"), "--json").json()
    assert got["from-cache"] is True
    assert (tmp_path / "x.wasm").read_bytes() == (fixtures / "answer.wasm").read_bytes()
    # ...but a tag needs the registry, and says so clearly.
    failed = mcpkg("pull", f"{dead}:1.0.0")
    assert failed.exit_code == 1 and "cannot reach registry 127.0.0.1:9" in failed.stderr


def test_second_identical_push_is_already_published(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    first = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0", "--json").json()
    again = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0", "--json").json()
    assert again["status"] == "already published" and again["digest"] == first["digest"]
    assert again["blobs-uploaded"] == 0


def test_release_tags_do_not_move_without_force(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    first = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:1.0.0", "--json").json()
    moved = mcpkg("push", str(fixtures / "logger.wasm"), f"{repo}:1.0.0")
    assert moved.exit_code == 1 and "release tags are immutable" in moved.stderr
    assert mcpkg.ok("pull", f"{repo}:1.0.0", "--json").json()["digest"] == first["digest"]
    forced = mcpkg.ok("push", str(fixtures / "logger.wasm"), f"{repo}:1.0.0", "--force", "--json").json()
    assert forced["digest"] != first["digest"]
    # a non-semver tag moves freely
    mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:latest")
    mcpkg.ok("push", str(fixtures / "logger.wasm"), f"{repo}:latest")


def test_source_date_epoch_makes_pushes_reproducible(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    a = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:0.1.0", "--json", env=env).json()
    b = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:0.2.0", "--json", env=env).json()
    inspect = mcpkg.ok("inspect", f"{repo}:0.1.0", "--json").json()
    assert inspect["config"]["created"] == "2023-11-14T22:13:20Z"
    # different version annotation, so different manifests, but the same config blob
    assert a["digest"] != b["digest"]
    assert inspect["manifest"]["config"] == mcpkg.ok("inspect", f"{repo}:0.2.0", "--json").json()["manifest"]["config"]


def test_push_then_skopeo_reads_the_manifest(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    pushed = mcpkg.ok("push", str(fixtures / "greeter.wasm"), f"{repo}:0.1.0", "--json").json()
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{repo}:0.1.0"],
        check=True,
        capture_output=True,
    ).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == pushed["digest"]
    config = subprocess.run(
        ["skopeo", "inspect", "--config", "--raw", "--tls-verify=false", f"docker://{repo}:0.1.0"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert '"architecture":"wasm"' in config and '"os":"wasip2"' in config


def test_inspect_local_file_and_reference(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    local = mcpkg.ok("inspect", str(fixtures / "greeter.wasm"), "--json").json()
    assert local["imports"] == ["fixtures:hello/log@0.1.0"]
    assert local["exports"] == ["fixtures:hello/greet@0.1.0"]
    mcpkg.ok(
        "push",
        str(fixtures / "greeter.wasm"),
        f"{repo}:0.1.0",
        "--annotation",
        "org.opencontainers.image.description=Greets",
    )
    remote = mcpkg.ok("inspect", f"{repo}:0.1.0", "--json").json()
    assert remote["annotations"]["org.opencontainers.image.description"] == "Greets"
    assert remote["exports"] == local["exports"] and remote["warnings"] == []
    text = mcpkg.ok("inspect", f"{repo}:0.1.0").stdout
    assert "fixtures:hello/greet@0.1.0" in text and "Greets" in text


def test_cache_ls_verify_prune(mcpkg: Mcpkg, fixtures: Path, repo: str) -> None:
    pushed = mcpkg.ok("push", str(fixtures / "answer.wasm"), f"{repo}:0.1.0", "--json").json()
    mcpkg.ok("pull", f"{repo}:0.1.0")
    listing = mcpkg.ok("cache", "ls", "--json").json()
    assert [e["manifest"] for e in listing["entries"]] == [pushed["digest"]]
    assert listing["entries"][0]["references"] == [f"{repo}:0.1.0"]
    assert mcpkg.ok("cache", "verify", "--json").json() == {"checked": 3, "corrupt": []}
    layer = mcpkg.cache / "blobs" / "sha256" / pushed["layer-digest"].split(":")[1]
    layer.chmod(0o644)
    layer.write_bytes(b"\x00asm\x0d\x00\x01\x00tampered")
    bad = mcpkg("cache", "verify")
    assert bad.exit_code == 1 and pushed["layer-digest"] in bad.stdout
    assert not layer.exists()
    assert mcpkg.ok("cache", "prune", "--older-than", "0", "--json").json()["entries-removed"] == 1
    assert mcpkg.ok("cache", "ls", "--json").json()["entries"] == []
