"""Tag lists over many pages, through our proxy that pages like ghcr.io."""

from __future__ import annotations

import json
from pathlib import Path

from testing import raw
from testing.proxy import PagingProxy
from testing.registry import Registry
from tests.conftest import Mcpkg


def test_more_than_100_tags_all_listed_and_highest_stable_chosen(
    mcpkg: Mcpkg, fixtures: Path, registry: Registry, paging: PagingProxy
) -> None:
    repo = "paged/many"
    wasm = (fixtures / "answer.wasm").read_bytes()
    digest = raw.publish_like_wkg(registry.host, repo, "0.1.0", wasm, [], ["answer"])
    manifest = mcpkg.ok("inspect", f"{registry.host}/{repo}@{digest}", "--json").json()["manifest"]
    data = json.dumps(manifest).encode()
    tags = [f"0.1.{i}" for i in range(1, 140)] + ["1.0.0-rc.1", "latest", "dev", "0.9.0", "v0.10.0"]
    for tag in tags:
        raw.push_manifest(registry.host, repo, tag, data)
    # the proxy's order puts the highest stable version (v0.10.0) beyond the first page
    listed = mcpkg.ok("tags", f"{paging.host}/{repo}", "--json").json()["tags"]
    assert len(listed) == len(tags) + 1
    assert listed[-3:] == ["1.0.0-rc.1", "dev", "latest"]
    before = paging.tag_requests
    pulled = mcpkg.ok("pull", f"{paging.host}/{repo}", "--json").json()
    assert pulled["reference"] == f"{paging.host}/{repo}:v0.10.0"
    assert paging.tag_requests - before == 2  # two pages of 100
    first_page = raw_first_page(paging.host, repo)
    assert "v0.10.0" not in first_page  # it really was on a later page


def raw_first_page(host: str, repo: str) -> list[str]:
    import requests

    tags: list[str] = requests.get(f"http://{host}/v2/{repo}/tags/list", timeout=10).json()["tags"]
    return tags


def test_signature_tags_hidden_unless_all(mcpkg: Mcpkg, fixtures: Path, registry: Registry) -> None:
    repo = "paged/sigs"
    wasm = (fixtures / "answer.wasm").read_bytes()
    digest = raw.publish_like_wkg(registry.host, repo, "1.0.0", wasm, [], ["answer"])
    manifest = mcpkg.ok("inspect", f"{registry.host}/{repo}@{digest}", "--json").json()["manifest"]
    raw.push_manifest(registry.host, repo, f"sha256-{digest.split(':')[1]}.sig", json.dumps(manifest).encode())
    assert mcpkg.ok("tags", f"{registry.host}/{repo}").stdout.split() == ["1.0.0"]
    assert len(mcpkg.ok("tags", f"{registry.host}/{repo}", "--all").stdout.split()) == 2
    assert (
        mcpkg.ok("pull", f"{registry.host}/{repo}:1.0.0", "--json").json()["signature"]
        == "signed (not verified: no trust policy)"
    )


def test_latest_only_without_semver_tags(mcpkg: Mcpkg, fixtures: Path, registry: Registry) -> None:
    repo = "paged/latest-only"
    wasm = (fixtures / "answer.wasm").read_bytes()
    raw.publish_like_wkg(registry.host, repo, "latest", wasm, [], ["answer"])
    assert mcpkg.ok("pull", f"{registry.host}/{repo}", "--json").json()["reference"].endswith(":latest")
    raw.publish_like_wkg(registry.host, repo, "nightly", wasm, [], ["answer"])
    raw.publish_like_wkg(registry.host, "paged/none", "nightly", wasm, [], ["answer"])
    failed = mcpkg("pull", f"{registry.host}/paged/none")
    assert failed.exit_code == 1 and "no tag of" in failed.stderr and "nightly" in failed.stderr
